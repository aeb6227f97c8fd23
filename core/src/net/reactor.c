/*
 * reactor.c: the thread that turns descriptor readiness into set upcalls.
 *
 * One thread, started on first use, waits in epoll.  Whoever registers
 * (select.c, timer.c) gets a registration with a callback of its own; the
 * reactor runs that callback, under the reactor mutex, when one of the
 * registration's descriptors is ready.  Like any provider, it reaches
 * events only through the upcall table.
 *
 * Three epoll instances: `main` holds every socket edge-triggered for
 * input, errors and hang-ups, every timer, and `writes`; `writes` holds
 * every socket edge-triggered for output only, so that its edges mean
 * "send space came back" (the Linux equivalent of Winsock's FD_WRITE
 * re-enabling), not "data arrived".  The thread sleeps in `loop`: `main`
 * and the stop descriptor.  `main` is also the stand-in of every event
 * with more selected sockets than waiters poll (xSourceAttachStandIn): a
 * thread that waits on such an event polls `main` and serves it itself,
 * so that its wake-up needs no hop through the reactor's thread.
 *
 * The epoll data of each descriptor is its registration (index and
 * generation), never a pointer: a registration that was dropped while its
 * readiness was in flight is recognised as stale under the reactor mutex.
 *
 * At exit the thread is stopped and joined; in a fork child, where it does
 * not exist, the reactor forgets everything (selections and timers do not
 * survive fork()).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net.h"

pthread_mutex_t wse_reactor_mutex = PTHREAD_MUTEX_INITIALIZER;

static int main_fd = -1, writes_fd = -1, loop_fd = -1, stop_fd = -1;
static pthread_t thread;
static bool running, stopping, hooks_installed;

/*
 * Served sources that no waiter polls any more but that the reactor has
 * not taken back yet: it does after GRACE_NS (to twice that) without a
 * waiter, so a loop that keeps waiting (an echo server) costs no
 * epoll_ctl per wait.
 * Under the mutex; the reactor's epoll timeout follows the earliest.
 */
#define GRACE_NS 10000000LL
static struct wse_served *handing_back;
static int take_back(void);

/* Registrations: io = gen:32 | index+1:32.  Two values are reserved for
 * the reactor's own descriptors (their generation is 0, never issued). */
#define IO_STOP 1
#define IO_WRITES 2
#define IO_MAIN 3

struct registration {
  uint32_t gen; /* bumped at every register and unregister */
  bool used;
  wse_io_cb cb;
  void *ctx;
};

static struct registration *regs;
static uint32_t n_regs;

/*
 * Sets decided under the mutex are made at the end of its critical
 * section, just before it is released: a thread they wake (which usually
 * calls wsevent_enum_network_events at once) needs microseconds to run,
 * and finds the mutex free by then.  Made after the release, a set could
 * land after an enumeration had already taken its record and reset the
 * event: a wake-up with nothing recorded, which Windows never gives
 * (WSAEnumNetworkEvents copies and resets under the lock that records).
 * Queued, a look that records two bits sets the event once.
 */
#define MAX_DEFERRED_SETS 64
static wsevent_t deferred_sets[MAX_DEFERRED_SETS];
static int n_deferred_sets;
/* Detaches decided under the mutex, chained through the sources. */
static struct wse_served *deferred_detaches;

void wse_reactor_set(wsevent_t event) {
  if (n_deferred_sets > 0 && deferred_sets[n_deferred_sets - 1] == event)
    return; /* queued already */
  if (n_deferred_sets == MAX_DEFERRED_SETS)
    wse_reactor_flush_sets(); /* a burst */
  deferred_sets[n_deferred_sets++] = event;
}

void wse_reactor_flush_sets(void) {
  for (int i = 0; i < n_deferred_sets; i++)
    up()->xSet(deferred_sets[i]);
  n_deferred_sets = 0;
}

void wse_reactor_detach(struct wse_served *sv) {
  sv->next_detach = deferred_detaches;
  deferred_detaches = sv;
}

void wse_reactor_unlock(void) {
  wse_reactor_flush_sets();
  /* Take the ids now: a detach may free its provider's object. */
  wsevent_source_t detach[MAX_DEFERRED_SETS];
  int n_detach = 0;
  while (deferred_detaches != NULL && n_detach < MAX_DEFERRED_SETS) {
    detach[n_detach++] = deferred_detaches->source;
    deferred_detaches = deferred_detaches->next_detach;
  }
  bool more = deferred_detaches != NULL;
  pthread_mutex_unlock(&wse_reactor_mutex);
  for (int i = 0; i < n_detach; i++)
    up()->xSourceDetach(detach[i]);
  if (more) { /* a burst of detaches: the rest in another round */
    pthread_mutex_lock(&wse_reactor_mutex);
    wse_reactor_unlock();
  }
}

int wse_reactor_register(wse_io_cb cb, void *ctx, wse_io_t *io) {
  uint32_t i = 0;
  while (i < n_regs && regs[i].used)
    i++;
  if (i == n_regs) {
    uint32_t n = n_regs ? n_regs * 2 : 64;
    struct registration *grown = realloc(regs, n * sizeof *grown);
    if (grown == NULL)
      return WSEVENT_ENOMEM;
    for (uint32_t k = n_regs; k < n; k++)
      grown[k] = (struct registration){0};
    regs = grown;
    n_regs = n;
  }
  struct registration *r = &regs[i];
  if (++r->gen == 0)
    r->gen = 1;
  r->used = true;
  r->cb = cb;
  r->ctx = ctx;
  *io = ((uint64_t)r->gen << 32) | (i + 1);
  return WSEVENT_OK;
}

/* The registration io names, if it is still the one that was issued. */
static struct registration *lookup(wse_io_t io) {
  uint32_t i = (uint32_t)io - 1;
  if ((uint32_t)io == 0 || i >= n_regs || !regs[i].used ||
      regs[i].gen != (uint32_t)(io >> 32))
    return NULL;
  return &regs[i];
}

void wse_reactor_unregister(wse_io_t io) {
  struct registration *r = lookup(io);
  if (r != NULL) {
    r->used = false;
    r->gen++;
  }
}

/* Handle n readiness reports (mutex held).  Returns true if the `writes`
 * instance itself became readable. */
static bool handle_locked(const struct epoll_event *evs, int n,
                          bool write_edges) {
  bool writes_ready = false;
  for (int i = 0; i < n && !stopping; i++) {
    wse_io_t io = evs[i].data.u64;
    if (io == IO_WRITES) {
      writes_ready = true;
      continue;
    }
    struct registration *r = lookup(io); /* NULL: dropped meanwhile */
    if (r != NULL)
      r->cb(r->ctx, evs[i].events, write_edges);
  }
  return writes_ready;
}

void wse_reactor_take_write_edges(void) {
  struct epoll_event evs[64];
  int n;
  while ((n = epoll_wait(writes_fd, evs, 64, 0)) > 0)
    handle_locked(evs, n, true);
}

/* Under the mutex: handle what `main` has ready, in whichever thread. */
static void serve_locked(void) {
  struct epoll_event evs[64];
  int n;
  do {
    n = epoll_wait(main_fd, evs, 64, 0);
    if (n > 0 && handle_locked(evs, n, false))
      wse_reactor_take_write_edges();
  } while (n == 64 && !stopping);
}

static void *loop(void *arg) {
  struct epoll_event evs[2];
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&wse_reactor_mutex);
    bool stop = stopping;
    int timeout = take_back();
    wse_reactor_unlock();
    if (stop)
      return NULL;
    int n = epoll_wait(loop_fd, evs, 2, timeout);
    if (n <= 0)
      continue;
    pthread_mutex_lock(&wse_reactor_mutex);
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == IO_STOP) { /* handing back began, or the end */
        uint64_t count;
        ssize_t got = read(stop_fd, &count, sizeof count);
        (void)got;
      } else if (!stopping) {
        serve_locked(); /* (unless a waiter served it first) */
      }
    }
    wse_reactor_unlock();
  }
}

/* ---- stand-ins ---- */

/* An event with more selected sockets than waiters poll, and its
 * stand-in; listed under the mutex until the event's close detaches it. */
struct stand_in {
  wsevent_t event;
  wsevent_source_t source;
  bool watched; /* a waiter polls it: counted in n_watched */
  struct stand_in *next;
};
static struct stand_in *stand_ins;
/* Stand-ins that waiters poll.  While there are any, the reactor's thread
 * stands down (`main` is out of `loop`): woken with the waiter, it would
 * take the readiness first more often than not, and the waiter would then
 * wait for its set, the very hop the stand-in saves. */
static int n_watched;
static bool main_in_loop = true;

static void stand_down_if_watched(void) {
  bool want = n_watched == 0;
  if (want == main_in_loop || !running)
    return;
  /* Modified, not deleted and added again: an add of one epoll instance
   * to another walks all it holds (loop checks).  Back in `loop`, `main`
   * wakes the thread at once if anything is ready (it is level-triggered
   * there): nothing waits unserved. */
  struct epoll_event ev = {.events = want ? EPOLLIN : 0, .data.u64 = IO_MAIN};
  if (epoll_ctl(loop_fd, EPOLL_CTL_MOD, main_fd, &ev) == 0)
    main_in_loop = want;
}

static void count_watched(struct stand_in *si, bool watched) {
  if (watched == si->watched)
    return;
  si->watched = watched;
  n_watched += watched ? 1 : -1;
  stand_down_if_watched();
}

static void stand_in_ready(void *ctx, short revents) {
  (void)ctx, (void)revents;
  pthread_mutex_lock(&wse_reactor_mutex);
  if (running && !stopping)
    serve_locked();
  wse_reactor_unlock();
}

static void stand_in_changed(void *ctx) {
  struct stand_in *si = ctx;
  pthread_mutex_lock(&wse_reactor_mutex);
  count_watched(si, up()->xSourceWatchers(si->source) > 0);
  wse_reactor_unlock();
}

static void stand_in_detached(void *ctx) {
  struct stand_in *si = ctx;
  pthread_mutex_lock(&wse_reactor_mutex);
  count_watched(si, false);
  for (struct stand_in **p = &stand_ins; *p != NULL; p = &(*p)->next)
    if (*p == si) {
      *p = si->next;
      break;
    }
  pthread_mutex_unlock(&wse_reactor_mutex);
  free(si);
}

static const struct wsevent_source_ops stand_in_ops = {
    .ready = stand_in_ready,
    .watchers_changed = stand_in_changed,
    .detached = stand_in_detached,
};

void wse_reactor_stand_in(wsevent_t event) {
  unsigned flags;
  if (!running || up()->xGetFlags(event, &flags) != WSEVENT_OK ||
      !(flags & WSEVENT_SOURCES_NOT_POLLED))
    return;
  for (struct stand_in *si = stand_ins; si != NULL; si = si->next)
    if (si->event == event)
      return;
  struct stand_in *si = malloc(sizeof *si);
  if (si == NULL)
    return; /* its waiters wait for the reactor's thread */
  si->event = event;
  si->watched = false;
  if (up()->xSourceAttachStandIn(event, &stand_in_ops, si, main_fd, POLLIN,
                                 &si->source) != WSEVENT_OK) {
    free(si);
    return;
  }
  si->next = stand_ins;
  stand_ins = si;
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
    close(loop_fd);
    close(stop_fd);
  }
  main_fd = writes_fd = loop_fd = stop_fd = -1;
  running = stopping = false;
  n_deferred_sets = 0;
  deferred_detaches = NULL;
  handing_back = NULL;
  while (stand_ins != NULL) { /* their sources are forgotten too */
    struct stand_in *next = stand_ins->next;
    free(stand_ins);
    stand_ins = next;
  }
  n_watched = 0;
  main_in_loop = true;
  free(regs);
  regs = NULL;
  n_regs = 0;
  wse_select_forget();
  wse_overlapped_forget();
  wse_timer_forget();
  pthread_mutex_init(&wse_reactor_mutex, NULL);
}

static int add_raw(int epfd, int fd, uint32_t events, wse_io_t io) {
  struct epoll_event ev = {.events = events, .data.u64 = io};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0)
    return 0;
  /* This very file is in the set already: under a record of a socket
   * closed behind the library's back, which was armed again (its grace
   * period ended) after its number went to this socket, and then
   * dropped, which could not delete what it thought gone with the old
   * file.  Whoever adds now owns the number: take the entry over. */
  return errno == EEXIST ? epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) : -1;
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
  main_fd = epoll_create1(EPOLL_CLOEXEC);
  writes_fd = epoll_create1(EPOLL_CLOEXEC);
  loop_fd = epoll_create1(EPOLL_CLOEXEC);
  stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int err = errno;
  if (main_fd < 0 || writes_fd < 0 || loop_fd < 0 || stop_fd < 0 ||
      add_raw(loop_fd, stop_fd, EPOLLIN, IO_STOP) < 0 ||
      add_raw(loop_fd, main_fd, EPOLLIN, IO_MAIN) < 0 ||
      add_raw(main_fd, writes_fd, EPOLLIN, IO_WRITES) < 0 ||
      (err = pthread_create(&thread, NULL, loop, NULL)) != 0) {
    err = err ? err : errno;
    int *fds[] = {&main_fd, &writes_fd, &loop_fd, &stop_fd};
    for (int i = 0; i < 4; i++) {
      if (*fds[i] >= 0)
        close(*fds[i]);
      *fds[i] = -1;
    }
    errno = err; /* kept for WSEVENT_ESYS, which wsevent.h promises */
    return wse_errno_code(err);
  }
  running = true;
  return WSEVENT_OK;
}

int wse_reactor_add(wse_io_t io, int fd, uint32_t events, bool writes) {
  return add_raw(writes ? writes_fd : main_fd, fd, events, io) < 0
             ? wse_errno_code(errno)
             : WSEVENT_OK;
}

int wse_served_init(struct wse_served *sv, wse_io_cb cb, void *ctx, int fd,
                    uint32_t events) {
  sv->fd = fd;
  sv->events = events;
  sv->armed = false;
  sv->stopped = false;
  sv->handing_back = false;
  sv->left_again = false;
  sv->keep = false;
  return wse_reactor_register(cb, ctx, &sv->io);
}

static void unlist(struct wse_served *sv) {
  if (!sv->handing_back)
    return;
  struct wse_served **p = &handing_back;
  while (*p != sv)
    p = &(*p)->next_back;
  *p = sv->next_back;
  sv->handing_back = false;
}

static int arm(struct wse_served *sv, bool want) {
  want = want || sv->keep;
  if (want == sv->armed)
    return WSEVENT_OK;
  if (want) {
    int r = wse_reactor_add(sv->io, sv->fd, sv->events, false);
    if (r != WSEVENT_OK)
      return r;
  } else {
    wse_reactor_del(sv->fd, false);
  }
  sv->armed = want;
  return WSEVENT_OK;
}

int wse_served_update(struct wse_served *sv) {
  unlist(sv);
  return arm(sv, up()->xSourceWatchers(sv->source) == 0);
}

/* Under the mutex: take sv back after the grace period, unless a waiter
 * returns first; or push that moment back if it is on its way already. */
static void hand_back(struct wse_served *sv) {
  if (sv->stopped)
    return; /* forgotten while a waiter polled it, and freed once that
               waiter lets go: listed, it would dangle */
  sv->back_at = up()->xNow() + GRACE_NS;
  sv->left_again = false;
  if (sv->handing_back)
    return; /* the reactor wakes before the new moment, and looks again */
  bool wake = handing_back == NULL;
  sv->next_back = handing_back;
  handing_back = sv;
  sv->handing_back = true;
  if (wake && running) { /* the reactor may sleep with no timeout */
    uint64_t one = 1;
    ssize_t n = write(stop_fd, &one, sizeof one);
    (void)n;
  }
}

void wse_served_touch(struct wse_served *sv) {
  if (sv->armed)
    arm(sv, false); /* a busy loop polls it: the reactor stands down */
  if (!sv->armed && up()->xSourceWatchers(sv->source) == 0)
    hand_back(sv);
}

void wse_served_changed(struct wse_served *sv) {
  /* A loop that waits once per message makes every source it polls come
   * and go at each wait: most of those changes change nothing, and are
   * seen so without the mutex.  A race with take_back() (it arms as we
   * look) leaves the socket armed while polled, which costs a report the
   * waiter also sees, until the next wait touches it (wse_served_touch). */
  if (up()->xSourceWatchers(sv->source) > 0) {
    if (!atomic_load_explicit(&sv->armed, memory_order_relaxed))
      return; /* stood down already (or still on its way back) */
  } else if (!atomic_load_explicit(&sv->armed, memory_order_relaxed) &&
             atomic_load_explicit(&sv->handing_back, memory_order_relaxed)) {
    /* On its way back already: push the moment back. */
    atomic_store_explicit(&sv->left_again, true, memory_order_relaxed);
    return;
  }
  pthread_mutex_lock(&wse_reactor_mutex);
  if (up()->xSourceWatchers(sv->source) > 0) {
    /* A waiter is (back) on it.  If it was on its way back, it stays in
     * the list: take_back() drops it unless the waiter has gone again, so
     * a loop that waits once per message costs no system call here. */
    arm(sv, false);
  } else if (!sv->armed) {
    hand_back(sv); /* served again after the grace period */
  }
  wse_reactor_unlock();
}

void wse_served_keep(struct wse_served *sv, bool keep) {
  if (keep == sv->keep || sv->stopped)
    return;
  sv->keep = keep;
  if (keep)
    arm(sv, true); /* a failure leaves it to the next look */
}

void wse_served_stop(struct wse_served *sv, bool still_open) {
  sv->keep = false;
  sv->stopped = true;
  unlist(sv);
  if (sv->armed && still_open)
    wse_reactor_del(sv->fd, false);
  sv->armed = false;
  wse_reactor_unregister(sv->io);
}

/* Under the mutex: take back what waited long enough; the epoll timeout
 * (ms) until the next one, or -1. */
static int take_back(void) {
  wsevent_time_t now = up()->xNow(), next = WSEVENT_NEVER;
  struct wse_served **p = &handing_back;
  while (*p != NULL) {
    struct wse_served *sv = *p;
    bool watched = up()->xSourceWatchers(sv->source) > 0;
    if (!watched && sv->back_at <= now &&
        atomic_exchange_explicit(&sv->left_again, false, memory_order_relaxed))
      sv->back_at = now + GRACE_NS; /* a waiter left again since */
    if (watched || sv->back_at <= now) {
      *p = sv->next_back;
      sv->handing_back = false;
      /* A failure to re-arm leaves it to its waiters' next polls. */
      arm(sv, !watched);
    } else {
      if (sv->back_at < next)
        next = sv->back_at;
      p = &sv->next_back;
    }
  }
  return next == WSEVENT_NEVER ? -1 : (int)((next - now) / 1000000 + 1);
}

void wse_reactor_del(int fd, bool writes) {
  /* ENOENT or EBADF: the descriptor was closed, which removed it. */
  epoll_ctl(writes ? writes_fd : main_fd, EPOLL_CTL_DEL, fd, NULL);
}
