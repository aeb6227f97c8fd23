/*
 * timer.c: waitable timers that signal events, on timerfds in the reactor.
 *
 * A timer id is gen:32 | slot+1:32, so a cancelled or finished timer's id
 * is refused even once its slot serves another timer.  A one-shot timer
 * finishes when it fires; any timer stops when its event is gone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "net.h"

struct timer {
  uint32_t gen;
  bool active;
  wse_io_t io;
  bool periodic;
  int fd;
  wsevent_t event;
};

static struct timer *timers;
static uint32_t n_timers;

static void stop(struct timer *t) {
  wse_reactor_del(t->fd, false);
  wse_reactor_unregister(t->io);
  close(t->fd);
  t->active = false;
  t->gen++;
}

/* The reactor's callback; the context is the slot (the table moves). */
static void on_ready(void *ctx, uint32_t events, bool write_edge) {
  struct timer *t = &timers[(uintptr_t)ctx];
  (void)events;
  (void)write_edge;
  uint64_t expirations;
  if (read(t->fd, &expirations, sizeof expirations) != sizeof expirations)
    return; /* spurious: nothing expired */
  /* Set now, under the mutex: its result tells whether the event lives. */
  int r = up()->xSet(t->event);
  if (r == WSEVENT_EINVAL_HANDLE || !t->periodic)
    stop(t);
}

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
  int r;

  if (out == NULL)
    return WSEVENT_EINVAL;
  if (up()->xIsSet(event) < 0)
    return WSEVENT_EINVAL_HANDLE;
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (fd < 0)
    return wse_errno_code(errno);

  pthread_mutex_lock(&wse_reactor_mutex);
  r = wse_reactor_start();
  uint32_t slot = 0;
  while (r == WSEVENT_OK && slot < n_timers && timers[slot].active)
    slot++;
  if (r == WSEVENT_OK && slot == n_timers) {
    uint32_t n = n_timers ? n_timers * 2 : 16;
    struct timer *grown = realloc(timers, n * sizeof *grown);
    if (grown == NULL) {
      r = WSEVENT_ENOMEM;
    } else {
      memset(grown + n_timers, 0, (n - n_timers) * sizeof *grown);
      timers = grown;
      n_timers = n;
    }
  }
  if (r == WSEVENT_OK) {
    struct timer *t = &timers[slot];
    t->gen++;
    if (t->gen == 0)
      t->gen = 1;
    t->fd = fd;
    t->event = event;
    t->periodic = period_ms != 0;
    r = wse_reactor_register(on_ready, (void *)(uintptr_t)slot, &t->io);
    if (r == WSEVENT_OK) {
      r = wse_reactor_add(t->io, fd, EPOLLIN, false);
      ms_to_its(due_ms, period_ms, &its);
      if (r == WSEVENT_OK && timerfd_settime(fd, 0, &its, NULL) < 0) {
        wse_reactor_del(fd, false);
        r = wse_errno_code(errno);
      }
      if (r != WSEVENT_OK)
        wse_reactor_unregister(t->io);
    }
    if (r == WSEVENT_OK) {
      t->active = true;
      *out = ((uint64_t)t->gen << 32) | (slot + 1);
    }
  }
  pthread_mutex_unlock(&wse_reactor_mutex);
  if (r != WSEVENT_OK)
    close(fd);
  return r;
}

int wsevent_timer_cancel(wsevent_timer_t id) {
  uint32_t slot = (uint32_t)id - 1, gen = (uint32_t)(id >> 32);
  int r = WSEVENT_EINVAL_HANDLE;
  pthread_mutex_lock(&wse_reactor_mutex);
  if ((uint32_t)id != 0 && slot < n_timers && timers[slot].active &&
      timers[slot].gen == gen) {
    stop(&timers[slot]);
    r = WSEVENT_OK;
  }
  pthread_mutex_unlock(&wse_reactor_mutex);
  return r;
}

void wse_timer_forget(void) {
  /* The child's copies of the timerfds are its own: close them. */
  for (uint32_t i = 0; i < n_timers; i++)
    if (timers[i].active)
      close(timers[i].fd);
  free(timers);
  timers = NULL;
  n_timers = 0;
}
