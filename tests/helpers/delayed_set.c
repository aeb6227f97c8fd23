/*
 * delayed_set.c: a test-only stand-in for a provider.  It receives the
 * upcall table from the host (the Python capsule or the Lua module), and
 * sets an event from a C thread of its own after a delay, like a provider
 * completing an operation.  Loaded with ctypes from Python.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "wsevent_provider.h"

struct job {
  const struct wsevent_upcalls *up;
  wsevent_t event;
  unsigned delay_ms;
  unsigned count;
  int *result;
  int close; /* close instead of set */
};

static void *worker(void *p) {
  struct job *j = p;
  for (unsigned i = 0; i < j->count; i++) {
    usleep(j->delay_ms * 1000u);
    int r = j->close ? j->up->xClose(j->event) : j->up->xSet(j->event);
    if (j->result)
      *j->result = r;
  }
  free(j);
  return NULL;
}

/* Run fn(job) on a new detached thread; frees job if that fails. */
static int spawn(void *(*fn)(void *), void *job) {
  pthread_t t;
  if (job == NULL)
    return -1;
  if (pthread_create(&t, NULL, fn, job) != 0) {
    free(job);
    return -1;
  }
  pthread_detach(t);
  return 0;
}

static int start_job(const struct wsevent_upcalls *up, uint64_t event,
                     unsigned delay_ms, unsigned count, int *result,
                     int close) {
  if (up == NULL || up->iVersion < 1)
    return -1;
  struct job *j = malloc(sizeof *j);
  if (j != NULL)
    *j = (struct job){up, event, delay_ms, count, result, close};
  return spawn(worker, j);
}

/* Set `event` `count` times, `delay_ms` apart, from a new C thread.
 * If result is not NULL the last upcall's code is stored there. */
int delayed_set(const struct wsevent_upcalls *up, uint64_t event,
                unsigned delay_ms, unsigned count, int *result) {
  return start_job(up, event, delay_ms, count, result, 0);
}

/* Close `event` from a new C thread after `delay_ms`. */
int delayed_close(const struct wsevent_upcalls *up, uint64_t event,
                  unsigned delay_ms) {
  return start_job(up, event, delay_ms, 1, NULL, 1);
}

/* Call an upcall synchronously from C (for handle checks). */
int upcall_set(const struct wsevent_upcalls *up, uint64_t event) {
  return up->xSet(event);
}

int upcall_close(const struct wsevent_upcalls *up, uint64_t event) {
  return up->xClose(event);
}

struct queue_job {
  const struct wsevent_upcalls *up;
  wsevent_thread_t thread;
  wsevent_completion_fn fn;
  void *context;
  unsigned delay_ms;
};

static void *queue_worker(void *p) {
  struct queue_job *j = p;
  usleep(j->delay_ms * 1000u);
  j->up->xQueueCompletion(j->thread, j->fn, j->context);
  free(j);
  return NULL;
}

/* Queue fn(context) to `thread` from a new C thread after `delay_ms`. */
int queue_later(const struct wsevent_upcalls *up, wsevent_thread_t thread,
                wsevent_completion_fn fn, void *context, unsigned delay_ms) {
  struct queue_job *j = malloc(sizeof *j);
  if (j != NULL)
    *j = (struct queue_job){up, thread, fn, context, delay_ms};
  return spawn(queue_worker, j);
}
