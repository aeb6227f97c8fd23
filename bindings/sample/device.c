/*
 * device.c: the sample provider.  It never links libwsevent: every call to
 * the core goes through the upcall table received in device_startup().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device.h"

struct op {
  wsevent_t event;
  long long due_ns;        /* 0: on demand */
  int state;               /* 0 free, 1 pending, 2 completing, 3 done */
  int result;
  wsevent_completion_fn fn, release;
  void *context;
  wsevent_thread_t thread;
};

static const struct wsevent_upcalls *up;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct op *ops;          /* ops[id - 1] */
static long long n_ops, cap_ops, completed, invalid;
static int started, stopping;
static pthread_t worker_thread;

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Complete op i: called with the mutex held, drops it around upcalls. */
static void finish(long long i) {
  struct op o = ops[i];
  ops[i].state = 2;
  pthread_mutex_unlock(&mutex);
  int r = o.event != 0 ? up->xSet(o.event) : WSEVENT_OK; /* 0: no event */
  /* If the thread has ended, the core refuses, and the routine is ours to
   * release; if it ends later, the core releases it. */
  if (o.fn != NULL &&
      up->xQueueCompletionEx(o.thread, o.fn, o.release, o.context) != WSEVENT_OK &&
      o.release != NULL)
    o.release(o.context);
  pthread_mutex_lock(&mutex);
  ops[i].state = 3;
  ops[i].result = r;
  completed++;
  if (r == WSEVENT_EINVAL_HANDLE)
    invalid++;
}

static void *worker(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mutex);
  while (!stopping) {
    long long now = now_ns(), next = 0;
    int did = 0;
    for (long long i = 0; i < n_ops; i++) {
      if (ops[i].state != 1 || ops[i].due_ns == 0)
        continue;
      if (ops[i].due_ns <= now) {
        finish(i);
        did = 1;
      } else if (next == 0 || ops[i].due_ns < next) {
        next = ops[i].due_ns;
      }
    }
    if (did)
      continue;
    if (next == 0) {
      pthread_cond_wait(&wake, &mutex);
    } else {
      struct timespec ts = {next / 1000000000LL, next % 1000000000LL};
      pthread_cond_timedwait(&wake, &mutex, &ts);
    }
  }
  pthread_mutex_unlock(&mutex);
  return NULL;
}

int device_startup(const struct wsevent_upcalls *upcalls) {
  /* Version 2: xQueueCompletionEx. */
  if (upcalls == NULL || upcalls->iVersion < 2)
    return -1;
  pthread_mutex_lock(&mutex);
  up = upcalls;
  if (!started) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&wake, &a);
    if (pthread_create(&worker_thread, NULL, worker, NULL) != 0) {
      pthread_mutex_unlock(&mutex);
      return -1;
    }
    started = 1;
  }
  pthread_mutex_unlock(&mutex);
  return 0;
}

void device_shutdown(void) {
  pthread_mutex_lock(&mutex);
  if (!started || stopping) {
    pthread_mutex_unlock(&mutex);
    return;
  }
  stopping = 1;
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&mutex);
  pthread_join(worker_thread, NULL);
  /* Nothing runs in this library any more; release what never ran. */
  for (long long i = 0; i < n_ops; i++)
    if (ops[i].state == 1 && ops[i].fn != NULL && ops[i].release != NULL)
      ops[i].release(ops[i].context);
  free(ops);
  ops = NULL;
  n_ops = cap_ops = 0;
}

long long device_start(wsevent_t event, unsigned delay_ms,
                       wsevent_completion_fn fn, wsevent_completion_fn release,
                       void *context) {
  wsevent_thread_t thread = 0;
  if (up == NULL)
    return WSEVENT_EINVAL;
  if (event != 0 && up->xIsSet(event) < 0)
    return WSEVENT_EINVAL_HANDLE;
  if (event == 0 && fn == NULL)
    return WSEVENT_EINVAL; /* nothing would ever say it completed */
  if (fn != NULL) {
    int r = up->xThreadSelf(&thread); /* the client's thread, now */
    if (r != WSEVENT_OK)
      return r;
  }
  pthread_mutex_lock(&mutex);
  if (stopping) {
    pthread_mutex_unlock(&mutex);
    return WSEVENT_EINVAL;
  }
  if (n_ops == cap_ops) {
    long long cap = cap_ops ? cap_ops * 2 : 64;
    struct op *grown = realloc(ops, (size_t)cap * sizeof *ops);
    if (grown == NULL) {
      pthread_mutex_unlock(&mutex);
      return WSEVENT_ENOMEM;
    }
    ops = grown;
    cap_ops = cap;
  }
  long long id = ++n_ops;
  ops[id - 1] = (struct op){event, delay_ms ? now_ns() + delay_ms * 1000000LL : 0,
                            1, 1, fn, release, context, thread};
  pthread_cond_signal(&wake);
  pthread_mutex_unlock(&mutex);
  return id;
}

int device_complete(long long id) {
  int r = -1;
  pthread_mutex_lock(&mutex);
  if (id >= 1 && id <= n_ops && ops[id - 1].state == 1) {
    ops[id - 1].due_ns = 1; /* due long ago: the worker completes it */
    pthread_cond_signal(&wake);
    r = 0;
  }
  pthread_mutex_unlock(&mutex);
  return r;
}

int device_result(long long id) {
  int r = -100;
  pthread_mutex_lock(&mutex);
  if (id >= 1 && id <= n_ops)
    r = ops[id - 1].state == 3 ? ops[id - 1].result : 1;
  pthread_mutex_unlock(&mutex);
  return r;
}

long long device_completed(void) {
  pthread_mutex_lock(&mutex);
  long long n = completed;
  pthread_mutex_unlock(&mutex);
  return n;
}

long long device_invalid(void) {
  pthread_mutex_lock(&mutex);
  long long n = invalid;
  pthread_mutex_unlock(&mutex);
  return n;
}

wsevent_new_t device_open_event(int auto_reset) {
  wsevent_t ev = WSEVENT_INVALID;
  if (up == NULL || up->xCreate(&ev, auto_reset ? WSEVENT_AUTO_RESET : 0) != WSEVENT_OK)
    return WSEVENT_INVALID;
  return ev;
}
