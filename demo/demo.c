/*
 * demo.c: the seed's model in C.  The client creates events and hands
 * their handles to a "provider"; provider threads complete simulated
 * operations and signal the events through the upcall table; the client
 * waits on any, then on all, and finally receives a completion routine in
 * an alertable wait.
 */
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "wsevent.h"
#include "wsevent_provider.h"

static struct timespec start;

static double ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (t.tv_sec - start.tv_sec) * 1e3 + (t.tv_nsec - start.tv_nsec) / 1e6;
}

/* ---- the provider: its own threads, only the upcall table ---- */

struct operation {
  const char *name;
  unsigned delay_ms;
  wsevent_t event;              /* handed over by the client */
  wsevent_thread_t requester;   /* where to queue the completion, or 0 */
  const struct wsevent_upcalls *up;
};

static void completion_routine(void *context) {
  struct operation *op = context;
  printf("[%6.1f ms] client: completion routine for '%s' runs in the "
         "client's own thread\n", ms(), op->name);
}

static void *provider_thread(void *p) {
  struct operation *op = p;
  usleep(op->delay_ms * 1000);
  printf("[%6.1f ms] provider: '%s' done, signalling its event\n", ms(),
         op->name);
  op->up->xSet(op->event);
  if (op->requester)
    op->up->xQueueCompletion(op->requester, completion_routine, op);
  return NULL;
}

static void start_op(struct operation *op, pthread_t *t) {
  pthread_create(t, NULL, provider_thread, op);
}

/* ---- the client ---- */

static void check(int r, const char *what) {
  if (r < 0) {
    fprintf(stderr, "%s: %s\n", what, wsevent_strerror(r));
    _exit(1);
  }
}

/* The peer of the overlapped exchange: answers after 20 ms. */
static int peer_fd;
static void *peer_main(void *arg) {
  (void)arg;
  char buf[64];
  usleep(20000);
  if (write(peer_fd, "ping", 4) != 4)
    return NULL;
  ssize_t n = read(peer_fd, buf, sizeof buf);
  printf("[%6.1f ms] peer: got %.*s back\n", ms(), (int)(n > 0 ? n : 0), buf);
  return NULL;
}

static void on_sent(int status, size_t bytes, wsevent_overlapped_t *ov, int flags) {
  (void)ov, (void)flags;
  printf("[%6.1f ms] client: send routine runs in the client's thread: %s, "
         "%zu bytes\n", ms(), wsevent_err_name(status), bytes);
}

static void overlapped_exchange(void) {
  int sv[2];
  pthread_t peer;
  char buf[64];
  check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0 ? WSEVENT_OK : WSEVENT_ESYS,
        "socketpair");
  peer_fd = sv[1];
  wsevent_t ev;
  check(wsevent_create(&ev, 0), "create");
  printf("\n[%6.1f ms] client: overlapped receive on a socket (WSARecv with "
         "hEvent)\n", ms());
  wsevent_overlapped_t rov = {.event = ev}, sov = {0};
  wsevent_buf_t rb = {sizeof buf, buf};
  int r = wsevent_recv_overlapped(sv[0], &rb, 1, 0, &rov, NULL);
  printf("[%6.1f ms] client: started: %s; result now: %s\n", ms(),
         wsevent_err_name(r),
         wsevent_err_name(wsevent_overlapped_result(&rov, 0, NULL, NULL)));
  pthread_create(&peer, NULL, peer_main, NULL);
  check(wsevent_wait(ev, WSEVENT_INFINITE), "wait");
  size_t got;
  r = wsevent_overlapped_result(&rov, 0, &got, NULL);
  printf("[%6.1f ms] client: event set; result %s, %zu bytes: %.*s\n", ms(),
         wsevent_err_name(r), got, (int)got, buf);
  wsevent_buf_t sb = {4, "pong"};
  r = wsevent_send_overlapped(sv[0], &sb, 1, 0, &sov, on_sent);
  printf("[%6.1f ms] client: overlapped send with a routine: %s (done at once, "
         "the routine queued all the same); alertable sleep\n", ms(),
         wsevent_err_name(r));
  r = wsevent_sleep(WSEVENT_INFINITE, WSEVENT_ALERTABLE);
  pthread_join(peer, NULL);
  close(sv[0]);
  close(sv[1]);
  wsevent_close(ev);
}

int main(void) {
  const struct wsevent_upcalls *up = wsevent_upcalls();
  struct operation ops[3] = {{"read", 30, 0, 0, up},
                             {"write", 10, 0, 0, up},
                             {"connect", 50, 0, 0, up}};
  wsevent_t events[3];
  pthread_t threads[3];
  size_t index;

  clock_gettime(CLOCK_MONOTONIC, &start);
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("wsevent demo (C): three provider threads, one client thread\n\n");

  /* 1. Wait for any: handle each completion as it comes. */
  for (int i = 0; i < 3; i++) {
    check(wsevent_create(&events[i], 0), "create"); /* as WSACreateEvent */
    ops[i].event = events[i];
    start_op(&ops[i], &threads[i]);
  }
  printf("[%6.1f ms] client: waiting for any of read, write, connect\n", ms());
  for (int done = 0; done < 3; done++) {
    check(wsevent_wait_multiple(events, 3, 0, WSEVENT_INFINITE, &index),
          "wait any");
    printf("[%6.1f ms] client: wait-any returned index %zu ('%s'); "
           "resetting it\n", ms(), index, ops[index].name);
    wsevent_reset(events[index]);
    /* Take it out of the list by pointing it at a never-set event. */
    check(wsevent_create(&events[index], 0), "create");
  }
  for (int i = 0; i < 3; i++) {
    pthread_join(threads[i], NULL);
    wsevent_close(ops[i].event);
    wsevent_close(events[i]);
  }

  /* 2. Wait for all, on auto-reset events: taken together or not at all. */
  printf("\n[%6.1f ms] client: waiting for all three (auto-reset)\n", ms());
  unsigned delays[3] = {20, 5, 40};
  for (int i = 0; i < 3; i++) {
    check(wsevent_create(&events[i], WSEVENT_AUTO_RESET), "create");
    ops[i].event = events[i];
    ops[i].delay_ms = delays[i];
    start_op(&ops[i], &threads[i]);
  }
  check(wsevent_wait_multiple(events, 3, WSEVENT_WAIT_ALL, 5000, NULL),
        "wait all");
  printf("[%6.1f ms] client: wait-all satisfied; all three consumed: "
         "%d %d %d\n", ms(), wsevent_is_set(events[0]),
         wsevent_is_set(events[1]), wsevent_is_set(events[2]));
  for (int i = 0; i < 3; i++) {
    pthread_join(threads[i], NULL);
    wsevent_close(events[i]);
  }

  /* 3. A completion routine, delivered in an alertable wait. */
  printf("\n[%6.1f ms] client: starting 'recv' with a completion routine, "
         "then waiting alertably\n", ms());
  struct operation recv_op = {"recv", 20, 0, 0, up};
  check(wsevent_create(&recv_op.event, 0), "create");
  check(wsevent_thread_self(&recv_op.requester), "thread id");
  start_op(&recv_op, &threads[0]);
  int r = wsevent_wait_multiple(&recv_op.event, 1, WSEVENT_ALERTABLE,
                                WSEVENT_INFINITE, NULL);
  pthread_join(threads[0], NULL);
  if (r == WSEVENT_OK) /* the event won the race: the routine is queued */
    r = wsevent_sleep(WSEVENT_INFINITE, WSEVENT_ALERTABLE);
  printf("[%6.1f ms] client: alertable wait returned %s\n", ms(),
         wsevent_err_name(r));

  /* 4. Closing a handle the provider still holds is safe. */
  wsevent_close(recv_op.event);
  printf("[%6.1f ms] provider: late set on the closed event answers %s\n",
         ms(), up->xErrName(up->xSet(recv_op.event)));

  /* 5. The same model with a real provider: overlapped socket I/O. */
  overlapped_exchange();

  /* 6. One event, two processes: a child opens the name and sets it. */
  char name[64];
  snprintf(name, sizeof name, "demo-%d", (int)getpid());
  wsevent_t named;
  check(wsevent_create_named(&named, name, WSEVENT_AUTO_RESET, NULL), "named");
  pid_t pid = fork();
  if (pid == 0) {
    wsevent_t same;
    _exit(wsevent_create_named(&same, name, WSEVENT_OPEN_EXISTING, NULL) ||
          wsevent_set(same));
  }
  printf("\n[%6.1f ms] client: waiting on named event '%s' for process %d\n",
         ms(), name, (int)pid);
  r = wsevent_wait(named, 10000);
  waitpid(pid, NULL, 0);
  printf("[%6.1f ms] client: set by process %d: %s\n", ms(), (int)pid,
         wsevent_err_name(r));
  wsevent_close(named);
  printf("\ndemo finished\n");
  return 0;
}
