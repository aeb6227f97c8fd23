/*
 * reactor.c: the thread that turns descriptor readiness into set upcalls.
 *
 * One thread, started on first use, waits in epoll.  Sockets selected with
 * wsevent_event_select (select.c) and timers (timer.c) register here.  The
 * reactor is a provider like any other: it reaches events only through the
 * upcall table.
 *
 * Two epoll instances: `main` holds every socket edge-triggered for input,
 * errors and hang-ups, every timer, the stop descriptor, and `writes`;
 * `writes` holds every socket edge-triggered for output only, so that its
 * edges mean "send space came back" (the Linux equivalent of Winsock's
 * FD_WRITE re-enabling), not "data arrived".
 *
 * The epoll data of each registration is a ticket (kind, slot, generation),
 * never a pointer: a registration that was dropped while its readiness was
 * in flight is recognised as stale under the reactor mutex.
 *
 * At exit the thread is stopped and joined; in a fork child, where it does
 * not exist, the reactor forgets everything (selections and timers do not
 * survive fork()).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "reactor.h"

pthread_mutex_t wse_reactor_mutex = PTHREAD_MUTEX_INITIALIZER;
const struct wsevent_upcalls *wse_reactor_up;

static int main_fd = -1, writes_fd = -1, stop_fd = -1;
static pthread_t thread;
static bool running, stopping, hooks_installed;

#define TICKET_STOP 1
#define TICKET_WRITES 2

/*
 * Sets decided under the mutex are made after it is released, so that the
 * woken thread (which usually calls wsevent_enum_network_events at once)
 * does not find the mutex taken and sleep again.  A set that lands after
 * an enumeration already took its record only causes a spurious wake-up.
 */
#define MAX_DEFERRED_SETS 64
static wsevent_t deferred_sets[MAX_DEFERRED_SETS];
static int n_deferred_sets;

void wse_reactor_set(wsevent_t event) {
  if (n_deferred_sets == MAX_DEFERRED_SETS)
    wse_reactor_up->xSet(event); /* a burst: this one now */
  else
    deferred_sets[n_deferred_sets++] = event;
}

void wse_reactor_unlock(void) {
  wsevent_t sets[MAX_DEFERRED_SETS];
  int n = n_deferred_sets;
  for (int i = 0; i < n; i++)
    sets[i] = deferred_sets[i];
  n_deferred_sets = 0;
  pthread_mutex_unlock(&wse_reactor_mutex);
  for (int i = 0; i < n; i++)
    wse_reactor_up->xSet(sets[i]);
}

uint64_t wse_ticket(enum wse_ticket_kind kind, uint32_t slot, uint32_t gen) {
  return ((uint64_t)kind << 56) | ((uint64_t)(gen & 0xFFFFFFu) << 32) | slot;
}

/* Handle n readiness reports (mutex held).  Returns true if the `writes`
 * instance itself became readable. */
static bool handle_locked(const struct epoll_event *evs, int n,
                          bool write_edges) {
  bool writes_ready = false;
  for (int i = 0; i < n && !stopping; i++) {
    uint64_t t = evs[i].data.u64;
    if (t == TICKET_WRITES) {
      writes_ready = true;
      continue;
    }
    if (t == TICKET_STOP)
      continue;
    enum wse_ticket_kind kind = (enum wse_ticket_kind)(t >> 56);
    uint32_t slot = (uint32_t)t, gen = (uint32_t)(t >> 32) & 0xFFFFFFu;
    if (kind == WSE_TICKET_SOCKET)
      wse_select_ready(slot, gen, evs[i].events, write_edges);
    else if (kind == WSE_TICKET_TIMER)
      wse_timer_ready(slot, gen);
  }
  return writes_ready;
}

void wse_reactor_take_write_edges(void) {
  struct epoll_event evs[64];
  int n;
  while ((n = epoll_wait(writes_fd, evs, 64, 0)) > 0)
    handle_locked(evs, n, true);
}

static void *loop(void *arg) {
  struct epoll_event evs[64];
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&wse_reactor_mutex);
    bool stop = stopping;
    pthread_mutex_unlock(&wse_reactor_mutex);
    if (stop)
      return NULL;
    int n = epoll_wait(main_fd, evs, 64, -1);
    if (n <= 0)
      continue;
    pthread_mutex_lock(&wse_reactor_mutex);
    if (handle_locked(evs, n, false))
      wse_reactor_take_write_edges();
    wse_reactor_unlock();
  }
}

static void at_exit(void) {
  pthread_mutex_lock(&wse_reactor_mutex);
  bool was_running = running;
  stopping = true;
  pthread_mutex_unlock(&wse_reactor_mutex);
  if (was_running) {
    uint64_t one = 1;
    if (write(stop_fd, &one, sizeof one) == sizeof one)
      pthread_join(thread, NULL);
  }
}

static void before_fork(void) { pthread_mutex_lock(&wse_reactor_mutex); }
static void parent_after_fork(void) { pthread_mutex_unlock(&wse_reactor_mutex); }

static void child_after_fork(void) {
  /* The thread is gone; the epoll instances are shared with the parent. */
  if (running) {
    close(main_fd);
    close(writes_fd);
    close(stop_fd);
  }
  main_fd = writes_fd = stop_fd = -1;
  running = stopping = false;
  n_deferred_sets = 0;
  wse_select_forget();
  wse_timer_forget();
  pthread_mutex_init(&wse_reactor_mutex, NULL);
}

static int add_raw(int epfd, int fd, uint32_t events, uint64_t ticket) {
  struct epoll_event ev = {.events = events, .data.u64 = ticket};
  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

int wse_errno_code(int err) {
  switch (err) {
  case EMFILE:
  case ENFILE:
    return WSEVENT_ENFILE;
  case ENOMEM:
  case ENOSPC:
    return WSEVENT_ENOMEM;
  case ENOTSOCK:
    return WSEVENT_ENOTSOCK;
  default:
    return WSEVENT_ESYS;
  }
}

int wse_reactor_start(void) {
  if (stopping)
    return WSEVENT_ESYS; /* the process is exiting */
  if (running)
    return WSEVENT_OK;
  if (!hooks_installed) {
    pthread_atfork(before_fork, parent_after_fork, child_after_fork);
    atexit(at_exit);
    hooks_installed = true;
  }
  wse_reactor_up = wsevent_upcalls();
  main_fd = epoll_create1(EPOLL_CLOEXEC);
  writes_fd = epoll_create1(EPOLL_CLOEXEC);
  stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int err = errno;
  if (main_fd < 0 || writes_fd < 0 || stop_fd < 0 ||
      add_raw(main_fd, stop_fd, EPOLLIN, TICKET_STOP) < 0 ||
      add_raw(main_fd, writes_fd, EPOLLIN, TICKET_WRITES) < 0 ||
      (err = pthread_create(&thread, NULL, loop, NULL)) != 0) {
    if (main_fd >= 0)
      close(main_fd);
    if (writes_fd >= 0)
      close(writes_fd);
    if (stop_fd >= 0)
      close(stop_fd);
    main_fd = writes_fd = stop_fd = -1;
    return wse_errno_code(err ? err : errno);
  }
  running = true;
  return WSEVENT_OK;
}

int wse_reactor_add(int fd, uint32_t events, uint64_t ticket, bool writes) {
  return add_raw(writes ? writes_fd : main_fd, fd, events, ticket) < 0
             ? wse_errno_code(errno)
             : WSEVENT_OK;
}

void wse_reactor_del(int fd, bool writes) {
  /* ENOENT or EBADF: the descriptor was closed, which removed it. */
  epoll_ctl(writes ? writes_fd : main_fd, EPOLL_CTL_DEL, fd, NULL);
}
