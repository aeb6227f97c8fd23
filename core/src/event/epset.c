/*
 * epset.c: a thread's epoll set of the sources its polling waits watch.
 *
 * A polling wait (pollwait.c) used to ppoll(2) its wake eventfd and every
 * source's descriptor at each round.  poll(2) costs the kernel a look at
 * every descriptor, and, when it sleeps, a wait-queue entry on each: a
 * server waiting on 50 sockets paid for 50 at every message.  epoll keeps
 * its registrations from one wait to the next and hands back only what is
 * ready.  So each thread keeps one epoll instance, level-triggered (it
 * answers as poll does), holding its wake eventfd and the descriptors of
 * the sources its waits polled; a wait registers only what changed since
 * the last one (in a loop that waits on the same events: nothing).
 *
 * Only the owning thread touches its set: no lock.  A registration is
 * remembered by descriptor (epoll allows one per descriptor and file),
 * with the source that made it (its slot and generation: slots are
 * type-stable, so an old pointer is safe to compare) and the events
 * asked.  Its epoll data carries the descriptor and a tag that no other
 * registration of the set ever had.  A wait marks the registrations of
 * its sources with its own sequence number and their place in its poll
 * set; one that reports and is not marked belongs to an earlier wait: it
 * is deleted then (lazily: a registration that is not ready costs
 * nothing).
 *
 * What poll(2) does that epoll cannot, and how it is covered:
 * - Two sources on one descriptor (epoll keeps one registration per
 *   descriptor): that wait uses ppoll.
 * - A descriptor epoll refuses (EPERM) or a closed one (poll says POLLNVAL,
 *   which the provider must see): that wait uses ppoll.
 * - A descriptor closed and its number reused while registered: epoll
 *   dropped the old file's registration when it closed, and the next
 *   registration under the number adds the new file.  If the old file
 *   lives on (a dup elsewhere), its registration can no longer be named to
 *   be deleted, and its reports carry a tag nobody has: the whole set is
 *   then dropped and made again.
 * - After fork(), the child shares the parent's instance: it closes its
 *   copy without touching it and makes its own.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

/* The epoll data of the wake eventfd; a source's is tag << 32 | fd. */
#define WAKE_DATA UINT64_MAX
/* Descriptors beyond this are left to ppoll (the table is by number). */
#define MAX_FD (1 << 20)

struct wse_epreg {
  struct wse_source *src; /* what registered it, or NULL */
  uint32_t gen;           /* src's generation then */
  uint32_t tag;           /* in its epoll data */
  uint32_t seq;           /* the last wait that took it */
  uint32_t index;         /* its place in that wait's poll set */
  short events;           /* registered for, while registered */
  short want;             /* what the wait seq asks (0: nothing) */
  bool registered;        /* in the epoll set */
};

void wse_epset_init(struct wse_epset *es) {
  es->ep = -1;
  es->seq = 0;
  es->tag = 0;
  es->cap = 0;
  es->regs = NULL;
}

/* Drop the instance (never touching it: after fork it is the parent's
 * too) and forget every registration, keeping the table. */
static void reset(struct wse_epset *es) {
  if (es->ep >= 0)
    close(es->ep);
  es->ep = -1;
  for (size_t i = 0; i < es->cap; i++)
    es->regs[i].registered = false;
}

void wse_epset_close(struct wse_epset *es) {
  reset(es);
  free(es->regs);
  es->regs = NULL;
  es->cap = 0;
}

static bool open_set(struct wse_epset *es, int wake_fd) {
  es->ep = epoll_create1(EPOLL_CLOEXEC);
  if (es->ep < 0)
    return false;
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_DATA};
  if (epoll_ctl(es->ep, EPOLL_CTL_ADD, wake_fd, &ev) < 0) {
    reset(es);
    return false;
  }
  return true;
}

static bool fits(struct wse_epset *es, int fd) {
  if ((size_t)fd < es->cap)
    return true;
  if (fd >= MAX_FD)
    return false;
  size_t cap = es->cap ? es->cap : 64;
  while (cap <= (size_t)fd)
    cap *= 2;
  struct wse_epreg *regs = realloc(es->regs, cap * sizeof *regs);
  if (regs == NULL)
    return false;
  memset(regs + es->cap, 0, (cap - es->cap) * sizeof *regs);
  es->regs = regs;
  es->cap = cap;
  return true;
}

static void registration_drop(struct wse_epset *es, int fd,
                              struct wse_epreg *reg) {
  /* ENOENT or EBADF: its file was closed, which removed it. */
  epoll_ctl(es->ep, EPOLL_CTL_DEL, fd, NULL);
  reg->registered = false;
}

/* Register fd for events under a new tag (added, or changed). */
static bool registration_put(struct wse_epset *es, int fd,
                             struct wse_epreg *reg, short events) {
  uint32_t tag = ++es->tag;
  struct epoll_event ev = {.events = (uint32_t)(unsigned short)events,
                           .data.u64 = (uint64_t)tag << 32 | (uint32_t)fd};
  int r = epoll_ctl(es->ep, reg->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD,
                    fd, &ev);
  /* ENOENT: registered, but its file was closed (which removed it) and
   * the number went to another.  EEXIST: in the set, though an earlier
   * failure left the table saying not.  Either way, take the number. */
  if (r < 0 && errno == ENOENT && reg->registered)
    r = epoll_ctl(es->ep, EPOLL_CTL_ADD, fd, &ev);
  else if (r < 0 && errno == EEXIST)
    r = epoll_ctl(es->ep, EPOLL_CTL_MOD, fd, &ev);
  reg->registered = r == 0;
  reg->events = events;
  reg->tag = tag;
  return r == 0;
}

bool wse_epset_sync(struct wse_epset *es, struct wse_pollset *ps) {
  if (es->ep < 0 && !open_set(es, ps->pfds[0].fd))
    return false;
  if (++es->seq == 0)
    ++es->seq; /* 0: never taken */
  for (size_t i = 0; i < ps->n; i++) {
    struct wse_source *src = ps->srcs[i];
    int fd = src->fd;
    short want = ps->pfds[1 + i].fd < 0 ? 0 : ps->pfds[1 + i].events;
    uint32_t gen = wse_gen_of(atomic_load_explicit(&src->slot.state,
                                                   memory_order_relaxed));
    if (!fits(es, fd))
      return false;
    struct wse_epreg *reg = &es->regs[fd];
    if (reg->seq == es->seq)
      return false; /* two sources on one descriptor: poll(2) tells them
                       apart, epoll keeps one registration */
    reg->seq = es->seq;
    reg->index = (uint32_t)i;
    reg->want = want;
    if (reg->src != src || reg->gen != gen) {
      /* Another source on the number: what is registered may be another
       * file's (the number was closed and reused), whatever this wait
       * wants.  Out with it; should that file live on elsewhere, its
       * reports come with a tag nobody has any more (a stray: see
       * wse_epset_wait). */
      if (reg->registered)
        registration_drop(es, fd, reg);
      reg->src = src;
      reg->gen = gen;
    } else if (reg->registered ? (want & ~reg->events) == 0 : want == 0) {
      /* Registered for more than this wait wants (or for nothing: between
       * two operations, a provider often wants nothing for a moment):
       * kept as it is, and narrowed only if it reports what is not
       * wanted. */
      continue;
    }
    if (want != 0 && !registration_put(es, fd, reg, want)) {
      /* A closed descriptor (the provider must see POLLNVAL) or one
       * epoll refuses: poll(2) serves this wait. */
      reg->src = NULL;
      return false;
    }
  }
  return true;
}

/* epoll_pwait2(2) takes a timespec (Linux 5.11); before it, or under a
 * tool that does not know it (valgrind 3.19), epoll_wait's milliseconds,
 * rounded up, serve. */
static atomic_bool no_pwait2;

int wse_epset_wait(struct wse_epset *es, struct wse_pollset *ps,
                   const struct timespec *timeout) {
  struct epoll_event evs[64];
  int n = -1;
  if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
    n = epoll_pwait2(es->ep, evs, 64, timeout, NULL);
    if (n < 0 && errno == ENOSYS)
      atomic_store_explicit(&no_pwait2, true, memory_order_relaxed);
  }
  if (atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
    long long ms = -1;
    if (timeout != NULL) /* never wakes before the deadline */
      ms = (long long)timeout->tv_sec * 1000 +
           (timeout->tv_nsec + 999999) / 1000000;
    n = epoll_wait(es->ep, evs, 64, ms > INT_MAX ? INT_MAX : (int)ms);
  }
  if (n <= 0)
    return n;
  int ready = 0;
  bool stray = false;
  for (int k = 0; k < n; k++) {
    uint64_t data = evs[k].data.u64;
    if (data == WAKE_DATA) {
      ps->pfds[0].revents = (short)evs[k].events;
      ready++;
      continue;
    }
    int fd = (int)(uint32_t)data;
    struct wse_epreg *reg = (size_t)fd < es->cap ? &es->regs[fd] : NULL;
    if (reg == NULL || !reg->registered || reg->tag != (uint32_t)(data >> 32)) {
      stray = true; /* a file closed behind our back lives on elsewhere */
      continue;
    }
    /* What poll(2) would report: what is asked, and errors and hang-ups
     * unless nothing is asked (its descriptor would be -1). */
    short want = reg->seq == es->seq ? reg->want : 0;
    short revents = (short)evs[k].events;
    short seen = want ? revents & (want | POLLERR | POLLHUP) : 0;
    if (revents & ~seen) {
      /* Ready for what no wait asks now (an earlier wait's interest):
       * narrow the registration to what is asked, or drop it. */
      if (want == 0 || !registration_put(es, fd, reg, want))
        registration_drop(es, fd, reg);
    }
    if (seen == 0)
      continue;
    ps->pfds[1 + reg->index].revents = seen;
    ready++;
  }
  if (stray) {
    /* Its registration cannot be named to be deleted: start a new set,
     * and poll this one with ppoll if it cannot be made. */
    reset(es);
    ps->epoll = wse_epset_sync(es, ps);
  }
  return ready;
}
