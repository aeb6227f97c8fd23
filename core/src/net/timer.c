/*
 * timer.c: waitable timers that signal events, as timerfd wait sources.
 *
 * A timer is a timerfd attached to its event as a wait source: a thread
 * waiting on the event polls the timerfd itself and sets the event in its
 * own thread when it expires; while nobody waits, the reactor serves it.
 * Its id is the source's id, so a cancelled or finished timer's id is
 * refused (generation-checked) even once its slot serves another source.
 *
 * A one-shot timer detaches itself when it fires; any timer is detached
 * when its event is closed (the core detaches the event's sources), and
 * the timerfd is closed and the timer freed in detached(), once no waiter
 * uses it.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "net.h"

struct timer {
  struct wse_served served; /* fd, source, reactor registration */
  wsevent_t event;
  bool periodic;
  /* Every live timer, under the reactor mutex (for a fork child). */
  struct timer *prev, *next;
};

static struct timer *timers;

/* The timer expired (or another thread took the expiry first): set the
 * event; a one-shot timer is done.  In a waiter or the reactor thread. */
static bool fire(struct timer *t) {
  uint64_t expirations;
  if (read(t->served.fd, &expirations, sizeof expirations) !=
      sizeof expirations)
    return false; /* nothing expired, or another thread took it */
  int r = up()->xSet(t->event);
  return !t->periodic || r == WSEVENT_EINVAL_HANDLE;
}

static void on_ready(void *ctx, short revents) {
  struct timer *t = ctx;
  (void)revents;
  if (fire(t))
    up()->xSourceDetach(t->served.source);
}

/* The reactor's callback (under its mutex, so detaching waits). */
static void on_reactor(void *ctx, uint32_t events, bool write_edge) {
  struct timer *t = ctx;
  (void)events;
  (void)write_edge;
  if (fire(t))
    wse_reactor_detach(&t->served);
}

static void on_watchers_changed(void *ctx) {
  struct timer *t = ctx;
  wse_served_changed(&t->served);
}

static void on_detached(void *ctx) {
  struct timer *t = ctx;
  pthread_mutex_lock(&wse_reactor_mutex);
  wse_served_stop(&t->served, true);
  if (t->prev)
    t->prev->next = t->next;
  else
    timers = t->next;
  if (t->next)
    t->next->prev = t->prev;
  pthread_mutex_unlock(&wse_reactor_mutex);
  close(t->served.fd);
  free(t);
}

static const struct wsevent_source_ops timer_ops = {
    .ready = on_ready,
    .watchers_changed = on_watchers_changed,
    .detached = on_detached,
};

static void ms_to_its(uint32_t due_ms, uint32_t period_ms, struct itimerspec *its) {
  memset(its, 0, sizeof *its);
  its->it_value.tv_sec = due_ms / 1000;
  its->it_value.tv_nsec = (long)(due_ms % 1000) * 1000000L;
  if (due_ms == 0)
    its->it_value.tv_nsec = 1; /* 0 would disarm: fire at once instead */
  its->it_interval.tv_sec = period_ms / 1000;
  its->it_interval.tv_nsec = (long)(period_ms % 1000) * 1000000L;
}

int wsevent_timer_start(wsevent_t event, uint32_t due_ms, uint32_t period_ms,
                        wsevent_timer_t *out) {
  struct itimerspec its;

  if (out == NULL)
    return WSEVENT_EINVAL;
  if (up()->xIsSet(event) < 0)
    return WSEVENT_EINVAL_HANDLE;
  struct timer *t = calloc(1, sizeof *t);
  if (t == NULL)
    return WSEVENT_ENOMEM;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    free(t);
    errno = err;
    return wse_errno_code(err);
  }
  t->event = event;
  t->periodic = period_ms != 0;

  /* The mutex is held from the attach to the registration: a close of
   * the event meanwhile detaches the source, whose detached() then waits
   * here for the mutex, and finds a timer fully set up. */
  pthread_mutex_lock(&wse_reactor_mutex);
  int r = wse_reactor_start();
  if (r == WSEVENT_OK)
    r = wse_served_init(&t->served, on_reactor, t, fd, EPOLLIN);
  if (r != WSEVENT_OK) {
    pthread_mutex_unlock(&wse_reactor_mutex);
    close(fd);
    free(t);
    return r;
  }
  r = up()->xSourceAttach(event, &timer_ops, t, fd, POLLIN, &t->served.source);
  if (r != WSEVENT_OK) {
    wse_served_stop(&t->served, true);
    pthread_mutex_unlock(&wse_reactor_mutex);
    close(fd);
    free(t);
    return r;
  }
  t->next = timers;
  if (timers)
    timers->prev = t;
  timers = t;
  ms_to_its(due_ms, period_ms, &its);
  r = wse_served_update(&t->served);
  if (r == WSEVENT_OK && timerfd_settime(fd, 0, &its, NULL) < 0)
    r = wse_errno_code(errno);
  wsevent_source_t source = t->served.source;
  pthread_mutex_unlock(&wse_reactor_mutex);
  if (r != WSEVENT_OK) {
    up()->xSourceDetach(source); /* frees it, now or after its waiters */
    return r;
  }
  *out = source;
  return WSEVENT_OK;
}

int wsevent_timer_cancel(wsevent_timer_t id) {
  /* A source id of another kind (a selected socket's) is not a timer. */
  pthread_mutex_lock(&wse_reactor_mutex);
  bool ours = false;
  for (struct timer *t = timers; t != NULL && !ours; t = t->next)
    ours = t->served.source == id;
  pthread_mutex_unlock(&wse_reactor_mutex);
  if (!ours)
    return WSEVENT_EINVAL_HANDLE;
  return up()->xSourceDetach(id);
}

void wse_timer_forget(void) {
  /* The child's copies of the timerfds are its own: close them.  The core
   * forgot the sources; nothing else refers to the timers. */
  while (timers != NULL) {
    struct timer *next = timers->next;
    close(timers->served.fd);
    free(timers);
    timers = next;
  }
}
