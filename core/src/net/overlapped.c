/*
 * overlapped.c: overlapped socket I/O, completed through events and
 * completion routines (WSARecv, WSASend, ... with a WSAOVERLAPPED).
 *
 * A provider like select.c: it reaches events and completion routines only
 * through the upcall table (xQueueCompletionEx, and sets the reactor makes
 * once its mutex is released).
 *
 * Each socket with operations has a record (indexed by descriptor, as
 * select.c's) with two queues: input (receives, accepts) and output
 * (sends, connects).  An operation starts in the caller's thread: if its
 * queue is empty it is tried at once, and completes there if it can; else
 * it waits in the queue.  The socket is registered, edge-triggered for
 * input and output, in an epoll instance of this file, `ops`, which sits in
 * the reactor's main instance: when a socket is ready, the reactor thread
 * runs the heads of its queues until one would block.  So operations of a
 * kind complete in the order they started, and no byte is read twice or
 * skipped: only the head of a queue ever touches the socket.
 *
 * Everything is under the reactor mutex.  A record's epoll data is its
 * descriptor and a generation, never a pointer: a report for a record that
 * was dropped meanwhile (its descriptor closed and reused) is recognised.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"

enum kind { OP_RECV, OP_SEND, OP_ACCEPT, OP_CONNECT };

struct op {
  struct op *next;
  wsevent_overlapped_t *ov;
  wsevent_overlapped_fn routine;
  void (*release)(wsevent_overlapped_t *ov);
  wsevent_thread_t thread; /* the starting thread, for the routine */
  wsevent_t event;
  wsevent_source_t source; /* its own, on the event while pending, or 0 */
  bool covered;            /* watched through its socket's source instead */
  bool covered_ts;         /* watched through its thread's set instead */
  enum kind kind;
  int flags;                 /* the caller's MSG_* */
  struct sockaddr *addr;     /* receive-from's or accept's peer */
  socklen_t *addrlen;
  struct sockaddr_storage to; /* send-to's destination */
  socklen_t tolen;
  /* The outcome, copied into the record at completion. */
  int status, error, rflags, socket;
  size_t bytes;
  size_t total;              /* bytes asked for */
  size_t cur, nbufs;         /* a send's progress through iov */
  struct iovec iov[];
};

struct queue {
  struct op *head, **tail;
};

struct ovsock {
  int fd;
  dev_t dev;
  ino_t ino;
  uint32_t gen;
  bool armed;     /* the reactor watches it */
  /* A source kept across operations, on the event (or thread alert event)
   * its operations complete through, so that a loop of operations
   * attaches nothing per operation.  Its poll events are dropped lazily,
   * when it is found ready with nothing to do. */
  wsevent_source_t src;
  wsevent_t src_event;
  short src_events;
  /* The thread set (below) the socket belongs to, 0 for none. */
  uint32_t ts_gen;
  struct ovsock *ts_next;
  bool deferred;  /* in the list of sockets to look at when the timer fires */
  struct ovsock *next_deferred;
  wsevent_time_t watched_at; /* when a waiter last watched every operation */
  /* A stream socket whose last receive emptied its queue (it got fewer
   * bytes than it asked for), at drained_at, with no readiness reported
   * since: a receive started soon after is queued without being tried
   * (see start()). */
  bool stream;
  bool urgent; /* has had urgent data: a TCP receive stops short at its
                  mark with bytes left, so no receive proves it drained */
  bool drained;
  wsevent_time_t drained_at;
  bool ended;  /* the peer's FIN, a hang-up or an error was seen: its edge
                  is gone, so a receive is always tried */
  struct queue in, out;
};

static struct ovsock **socks;
static int n_socks;
static uint32_t next_gen;
static int ops_fd = -1, timer_fd = -1;
static wse_io_t ops_io;
static struct ovsock *deferred; /* sockets whose arming waits for the timer */
static bool timer_running;

/*
 * A thread set: the sockets whose routines go to one thread, in an epoll
 * instance of their own, which is the one wait source on the thread's
 * alert event.  An alertable wait of that thread then polls one
 * descriptor however many sockets it has operations on (a wait polls at
 * most 16 sources per event), and completes the operations of the sockets
 * that are ready, in its own thread.  The set goes when the thread ends
 * (its alert event closes, the source's detached() runs), and with it the
 * thread's pending operations, cancelled as Windows cancels the I/O of a
 * thread that exits: their routines could never run, and a receive left
 * pending would take data nobody sees.
 */
struct tset {
  struct tset *next;
  wsevent_thread_t thread;
  wsevent_t alert;
  int epfd;
  uint32_t gen;
  wsevent_source_t src;
  struct ovsock *members;
};
static struct tset *tsets;
static uint32_t next_tset_gen;
/* Broadcast at every completion, for wsevent_overlapped_result(wait). */
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

/* ---- completion ---- */

static void run_routine(void *context) {
  struct op *op = context;
  op->routine(op->status, op->bytes, op->ov, op->rflags);
  free(op);
}

static void release_routine(void *context) {
  struct op *op = context;
  if (op->release != NULL)
    op->release(op->ov);
  free(op);
}

/* The outcome into the record; then the routine is queued, or the event
 * set.  After the status is stored the record may be the caller's again:
 * it is not touched after that, except through the routine, which the
 * caller waits for. */
static void complete(struct op *op, int status, int error) {
  wsevent_overlapped_t *ov = op->ov;
  if (op->source != 0) /* its detached() takes no lock of ours */
    up()->xSourceDetach(op->source);
  op->status = status;
  op->error = error;
  ov->error = error;
  ov->bytes = op->bytes;
  ov->flags = op->rflags;
  ov->socket = op->socket;
  ov->internal = NULL;
  __atomic_store_n(&ov->status, status, __ATOMIC_RELEASE);
  pthread_cond_broadcast(&done_cond);
  if (op->routine != NULL) {
    /* A thread that ended meanwhile never runs it, as on Windows. */
    if (up()->xQueueCompletionEx(op->thread, run_routine, release_routine,
                                 op) != WSEVENT_OK)
      release_routine(op);
  } else {
    /* Now, under the mutex, not once it is released: a program that sees
     * the outcome (wsevent_overlapped_result takes the mutex) and resets
     * the event to reuse it must never get a late set of this one. */
    if (op->event != 0)
      up()->xSet(op->event);
    free(op);
  }
}

/* ---- one try of an operation ---- */

enum outcome { DONE, FAILED, AGAIN };

static bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

static enum outcome try_recv(const struct ovsock *s, struct op *op) {
  int fd = s->fd;
  ssize_t n;
  struct msghdr m = {0};
  if (s->stream && op->nbufs == 1 && op->total > 0 && op->addr == NULL &&
      !(op->flags & MSG_OOB)) {
    /* One buffer of a stream: no flags to learn, and recv(2) costs the
     * kernel less than recvmsg(2). */
    n = recv(fd, op->iov[0].iov_base, op->iov[0].iov_len, op->flags | MSG_DONTWAIT);
  } else if (op->total == 0) {
    /* A receive into no bytes: a readiness probe that takes nothing. */
    char c;
    n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT | (op->flags & MSG_OOB));
    if (n > 0)
      n = 0;
  } else {
    m.msg_iov = op->iov;
    m.msg_iovlen = op->nbufs;
    if (op->addr != NULL) {
      m.msg_name = op->addr;
      m.msg_namelen = *op->addrlen;
    }
    n = recvmsg(fd, &m, op->flags | MSG_DONTWAIT);
  }
  if (n < 0)
    return would_block(errno) || errno == EINTR ? AGAIN : FAILED;
  op->bytes = (size_t)n;
  op->rflags = m.msg_flags & (MSG_TRUNC | MSG_CTRUNC | MSG_OOB | MSG_EOR);
  if (op->addr != NULL && op->total != 0)
    *op->addrlen = m.msg_namelen;
  return DONE;
}

static enum outcome try_send(int fd, struct op *op) {
  do {
    int flags = op->flags | MSG_DONTWAIT | MSG_NOSIGNAL;
    ssize_t n;
    if (op->nbufs - op->cur == 1 && op->tolen == 0) {
      /* One buffer left: send(2) costs the kernel less than sendmsg(2). */
      n = send(fd, op->iov[op->cur].iov_base, op->iov[op->cur].iov_len, flags);
    } else {
      struct msghdr m = {0};
      m.msg_iov = op->iov + op->cur;
      m.msg_iovlen = op->nbufs - op->cur;
      if (op->tolen != 0) {
        m.msg_name = &op->to;
        m.msg_namelen = op->tolen;
      }
      n = sendmsg(fd, &m, flags);
    }
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return would_block(errno) ? AGAIN : FAILED;
    }
    op->bytes += (size_t)n;
    /* Step over what went. */
    size_t left = (size_t)n;
    while (op->cur < op->nbufs && left >= op->iov[op->cur].iov_len)
      left -= op->iov[op->cur++].iov_len;
    if (left > 0) {
      op->iov[op->cur].iov_base = (char *)op->iov[op->cur].iov_base + left;
      op->iov[op->cur].iov_len -= left;
    }
  } while (op->bytes < op->total);
  return DONE;
}

static bool listening(int fd) {
  int v = 0;
  socklen_t len = sizeof v;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &len) == 0 && v;
}

static enum outcome try_accept(int fd, struct op *op) {
  for (;;) {
    int c = accept4(fd, op->addr, op->addrlen, SOCK_CLOEXEC);
    if (c >= 0) {
      wse_overlapped_fresh(c);
      op->socket = c;
      return DONE;
    }
    /* A connection reset before it was accepted: Winsock never shows it. */
    if (errno != EINTR && errno != ECONNABORTED)
      return would_block(errno) ? AGAIN : FAILED;
  }
}

static enum outcome try_connect(int fd, struct op *op) {
  (void)op;
  struct pollfd p = {.fd = fd, .events = POLLOUT};
  if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLOUT | POLLERR | POLLHUP)))
    return AGAIN;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    return FAILED;
  if (err != 0) {
    errno = err;
    return FAILED;
  }
  return DONE;
}

static enum outcome try_op(const struct ovsock *s, struct op *op) {
  switch (op->kind) {
  case OP_RECV: return try_recv(s, op);
  case OP_SEND: return try_send(s->fd, op);
  case OP_ACCEPT: return try_accept(s->fd, op);
  default: return try_connect(s->fd, op);
  }
}

/* ---- records and queues ---- */

static void queue_init(struct queue *q) {
  q->head = NULL;
  q->tail = &q->head;
}

static void queue_push(struct queue *q, struct op *op) {
  op->next = NULL;
  *q->tail = op;
  q->tail = &op->next;
}

static struct op *queue_pop(struct queue *q) {
  struct op *op = q->head;
  if (op != NULL && (q->head = op->next) == NULL)
    q->tail = &q->head;
  return op;
}

/* A receive of s completed: did it empty the socket's queue?  A stream
 * receive that got some bytes but fewer than it asked for took everything
 * there was (a receive at end of stream, or of urgent data, proves
 * nothing). */
static void note_received(struct ovsock *s, const struct op *op) {
  if (op->kind == OP_RECV && s->stream && op->total > 0 && op->bytes == 0)
    s->ended = true; /* the end of the stream, found by the receive */
  if (op->kind == OP_RECV && s->stream && !s->urgent && op->bytes > 0 &&
      op->bytes < op->total && !(op->flags & MSG_OOB)) {
    s->drained = true;
    s->drained_at = up()->xNow();
  }
}

/* Readiness reported for s (poll bits, which epoll's share): whatever
 * came may complete a receive that was queued without a try. */
static void reported(struct ovsock *s, uint32_t events) {
  s->drained = false;
  if (events & POLLPRI)
    s->urgent = true;
  if (events & (POLLRDHUP | POLLHUP | POLLERR))
    s->ended = true;
}

static void run_queue(struct ovsock *s, struct queue *q);

/* Readiness reported for s: run the queue of each side it concerns (a
 * socket with room to send says nothing to its receives). */
static void run_reported(struct ovsock *s, uint32_t events) {
  reported(s, events);
  if (events & (POLLIN | POLLPRI | POLLRDHUP | POLLERR | POLLHUP | POLLNVAL))
    run_queue(s, &s->in);
  if (events & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))
    run_queue(s, &s->out);
}

/* Run the heads of a queue of s until one would block. */
static void run_queue(struct ovsock *s, struct queue *q) {
  while (q->head != NULL) {
    enum outcome o = try_op(s, q->head);
    if (o == AGAIN)
      return;
    struct op *op = queue_pop(q);
    if (o == DONE)
      note_received(s, op);
    complete(op, o == DONE ? WSEVENT_OK : WSEVENT_ESOCKET,
             o == DONE ? 0 : errno);
  }
}

/* Every operation of a queue completed with status (cancel, close). */
static int abort_queue(struct queue *q, wsevent_overlapped_t *only) {
  int n = 0;
  struct op **p = &q->head;
  while (*p != NULL) {
    struct op *op = *p;
    if (only != NULL && op->ov != only) {
      p = &op->next;
      continue;
    }
    *p = op->next;
    if (q->tail == &op->next)
      q->tail = p;
    complete(op, WSEVENT_EABORTED, 0);
    n++;
  }
  return n;
}

static void undefer(struct ovsock *s);
static void leave_tset(struct ovsock *s, bool still_open);

static struct tset *tset_by_gen(uint32_t gen) {
  for (struct tset *t = tsets; gen != 0 && t != NULL; t = t->next)
    if (t->gen == gen)
      return t;
  return NULL;
}

/* Drop a record, completing its operations with WSEVENT_EABORTED.
 * still_open: its descriptor is still the socket it was made for. */
static int drop(struct ovsock *s, bool still_open) {
  int n = abort_queue(&s->in, NULL) + abort_queue(&s->out, NULL);
  undefer(s);
  leave_tset(s, still_open);
  if (s->src != 0) /* its detached() takes no lock of ours */
    up()->xSourceDetach(s->src);
  if (still_open && ops_fd >= 0)
    epoll_ctl(ops_fd, EPOLL_CTL_DEL, s->fd, NULL);
  socks[s->fd] = NULL;
  free(s);
  return n;
}

/*
 * Who watches a socket.  A thread waiting on the event of a pending
 * operation polls the socket itself (a wait source on that event) and
 * completes the operation in its own thread: no hop through the reactor.
 * The reactor stands down (its interest in the socket cleared) while every
 * pending operation is watched that way, and watches again as soon as one
 * is not (no event, a routine, or nobody waiting on its event).
 */
#define ARMED (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET)

static uint64_t key_of(const struct ovsock *s) {
  return ((uint64_t)s->gen << 32) | (uint32_t)s->fd;
}

static bool unwatched(const struct ovsock *s, const struct queue *q) {
  for (const struct op *op = q->head; op != NULL; op = op->next) {
    wsevent_source_t src = op->covered ? s->src : op->source;
    if (op->covered_ts) {
      const struct tset *t = tset_by_gen(s->ts_gen);
      src = t != NULL ? t->src : 0;
    }
    if (src == 0 || up()->xSourceWatchers(src) == 0)
      return true;
  }
  return false;
}

/*
 * A socket whose operations waiters watched a moment ago is likely watched
 * again in a moment (a loop that starts an operation, then waits): the
 * reactor is not armed for it at once but after GRACE_NS, if nobody
 * watches by then, so such a loop makes no epoll_ctl per operation.
 */
#define GRACE_NS 10000000LL

static void set_armed(struct ovsock *s, bool want) {
  if (want == s->armed)
    return;
  struct epoll_event ev = {.events = want ? ARMED : EPOLLET,
                           .data.u64 = key_of(s)};
  if (epoll_ctl(ops_fd, EPOLL_CTL_MOD, s->fd, &ev) == 0)
    s->armed = want;
}

static void undefer(struct ovsock *s) {
  if (!s->deferred)
    return;
  struct ovsock **p = &deferred;
  while (*p != s)
    p = &(*p)->next_deferred;
  *p = s->next_deferred;
  s->deferred = false;
}

/* Start the grace timer to fire in `ns` unless it runs; false if it
 * cannot be started. */
static bool start_timer(wsevent_time_t ns) {
  struct itimerspec t = {.it_value = {.tv_sec = ns / 1000000000LL,
                                      .tv_nsec = ns % 1000000000LL}};
  if (!timer_running && timerfd_settime(timer_fd, 0, &t, NULL) == 0)
    timer_running = true;
  return timer_running;
}

static void defer(struct ovsock *s) {
  if (!s->deferred) {
    s->deferred = true;
    s->next_deferred = deferred;
    deferred = s;
  }
}

/* Under the mutex: arm or disarm the reactor for s.  Re-arming reports
 * what is ready already (epoll polls the socket again), so nothing that
 * arrived while it stood down is missed. */
static void update_reactor(struct ovsock *s, bool grace) {
  if (s->in.head == NULL && s->out.head == NULL) {
    undefer(s); /* nothing to do: leave epoll as it is */
    return;
  }
  bool want = unwatched(s, &s->in) || unwatched(s, &s->out);
  wsevent_time_t now = up()->xNow();
  if (!want) {
    s->watched_at = now;
    undefer(s);
  } else if (grace && !s->armed && now - s->watched_at < GRACE_NS) {
    defer(s);
    if (start_timer(GRACE_NS))
      return;
    want = true; /* no timer: arm now */
  }
  if (want)
    undefer(s);
  set_armed(s, want);
}

/* Under the mutex: the timer fired: arm what nobody watched for
 * GRACE_NS.  A socket watched again since it was deferred (a loop that
 * runs its routines, then waits again, leaves the watch between waits)
 * is served by those waits: it is looked at again GRACE_NS after it was
 * last watched, not armed now, or the reactor would take over every
 * socket of a busy loop at each tick, then hand them back. */
static void timer_fired(void) {
  uint64_t n;
  ssize_t got = read(timer_fd, &n, sizeof n);
  (void)got;
  timer_running = false;
  wsevent_time_t now = up()->xNow(), oldest = now;
  struct ovsock *list = deferred;
  deferred = NULL;
  while (list != NULL) {
    struct ovsock *s = list;
    list = s->next_deferred;
    s->deferred = false;
    if (!s->armed && now - s->watched_at < GRACE_NS) {
      defer(s);
      if (s->watched_at < oldest)
        oldest = s->watched_at;
    } else {
      update_reactor(s, false);
    }
  }
  if (deferred != NULL && !start_timer(oldest + GRACE_NS - now)) {
    list = deferred; /* no timer: arm now */
    deferred = NULL;
    for (struct ovsock *s = list; s != NULL; s = list) {
      list = s->next_deferred;
      s->deferred = false;
      update_reactor(s, false);
    }
  }
}

static void ops_ready(void *ctx, uint32_t events, bool write_edge) {
  (void)ctx, (void)events, (void)write_edge;
  struct epoll_event evs[64];
  int n;
  while ((n = epoll_wait(ops_fd, evs, 64, 0)) > 0) {
    for (int i = 0; i < n; i++) {
      if (evs[i].data.u64 == 0) {
        timer_fired();
        continue;
      }
      int fd = (int)(uint32_t)evs[i].data.u64;
      uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
      struct ovsock *s = fd < n_socks ? socks[fd] : NULL;
      if (s == NULL || s->gen != gen)
        continue; /* dropped meanwhile */
      run_reported(s, evs[i].events);
      update_reactor(s, false);
    }
  }
}

/* The `ops` instance, in the reactor's main one. */
static int ops_start(void) {
  if (ops_fd >= 0)
    return WSEVENT_OK;
  int r = wse_reactor_start();
  if (r != WSEVENT_OK)
    return r;
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0)
    return wse_errno_code(errno);
  timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  struct epoll_event tev = {.events = EPOLLIN, .data.u64 = 0};
  if (timer_fd < 0 || epoll_ctl(fd, EPOLL_CTL_ADD, timer_fd, &tev) < 0) {
    r = wse_errno_code(errno);
    if (timer_fd >= 0)
      close(timer_fd);
    timer_fd = -1;
    close(fd);
    return r;
  }
  r = wse_reactor_register(ops_ready, NULL, &ops_io);
  if (r == WSEVENT_OK) {
    r = wse_reactor_add(ops_io, fd, EPOLLIN, false);
    if (r != WSEVENT_OK)
      wse_reactor_unregister(ops_io);
  }
  if (r != WSEVENT_OK) {
    close(timer_fd);
    timer_fd = -1;
    close(fd);
    return r;
  }
  ops_fd = fd;
  return WSEVENT_OK;
}

/* The record of socket fd (st from fstat), made and registered if there
 * is none, or replaced if fd names another socket now. */
static int sock_for(int fd, const struct stat *st, struct ovsock **out) {
  struct ovsock *s = fd < n_socks ? socks[fd] : NULL;
  if (s != NULL && (s->dev != st->st_dev || s->ino != st->st_ino)) {
    drop(s, false); /* that socket was closed behind our back */
    s = NULL;
  }
  if (s != NULL) {
    *out = s;
    return WSEVENT_OK;
  }
  int r = ops_start();
  if (r != WSEVENT_OK)
    return r;
  if (fd >= n_socks) {
    int n = n_socks ? n_socks : 64;
    while (n <= fd)
      n *= 2;
    struct ovsock **grown = realloc(socks, (size_t)n * sizeof *grown);
    if (grown == NULL)
      return WSEVENT_ENOMEM;
    memset(grown + n_socks, 0, (size_t)(n - n_socks) * sizeof *grown);
    socks = grown;
    n_socks = n;
  }
  s = calloc(1, sizeof *s);
  if (s == NULL)
    return WSEVENT_ENOMEM;
  s->fd = fd;
  s->dev = st->st_dev;
  s->ino = st->st_ino;
  int type = 0;
  socklen_t len = sizeof type;
  s->stream = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
              type == SOCK_STREAM;
  if ((s->gen = ++next_gen) == 0) /* 0 keys the timer */
    s->gen = ++next_gen;
  queue_init(&s->in);
  queue_init(&s->out);
  s->armed = true;
  struct epoll_event ev = {.events = ARMED, .data.u64 = key_of(s)};
  /* EEXIST: this very file is there under a record dropped after its
   * socket was closed behind our back (its number reused since): ours. */
  if (epoll_ctl(ops_fd, EPOLL_CTL_ADD, fd, &ev) < 0 &&
      (errno != EEXIST || epoll_ctl(ops_fd, EPOLL_CTL_MOD, fd, &ev) < 0)) {
    r = wse_errno_code(errno);
    free(s);
    return r;
  }
  socks[fd] = s;
  *out = s;
  return WSEVENT_OK;
}

static bool pending_in(const struct queue *q, const wsevent_overlapped_t *ov) {
  for (const struct op *op = q->head; op != NULL; op = op->next)
    if (op->ov == ov)
      return true;
  return false;
}

/* ---- wait sources ---- */

struct src {
  int fd;
  uint32_t gen;
};

/* Under the mutex: the record a source was made for, if still there. */
static struct ovsock *sock_of_src(const struct src *c) {
  struct ovsock *s = c->fd < n_socks ? socks[c->fd] : NULL;
  return s != NULL && s->gen == c->gen ? s : NULL;
}

/* In a waiting thread: the socket is ready; do the work here. */
static void src_ready(void *context, short revents) {
  pthread_mutex_lock(&wse_reactor_mutex);
  struct ovsock *s = sock_of_src(context);
  if (s != NULL) {
    run_reported(s, (uint16_t)revents);
    /* Ready with nothing to wait for: stop polling that side, or the
     * waiter would find it ready again and again.  But a receive that
     * just emptied the stream left it not ready: its interest stays, for
     * the receive a loop starts next (an update per message takes the
     * dispatcher lock and makes polling waiters build their sets again);
     * should bytes come first, the poll that finds them drops it. */
    short events = s->src_events;
    bool emptied = s->drained && !(revents & (POLLHUP | POLLERR));
    if (s->in.head == NULL && (revents & (POLLIN | POLLHUP | POLLERR)) &&
        !emptied)
      events &= ~POLLIN;
    if (s->out.head == NULL && (revents & (POLLOUT | POLLHUP | POLLERR)))
      events &= ~POLLOUT;
    if (s->src != 0 && events != s->src_events &&
        up()->xSourceUpdate(s->src, events) == WSEVENT_OK)
      s->src_events = events;
    update_reactor(s, true);
  }
  wse_reactor_unlock();
}

static void src_watchers_changed(void *context) {
  pthread_mutex_lock(&wse_reactor_mutex);
  struct ovsock *s = sock_of_src(context);
  if (s != NULL)
    update_reactor(s, true);
  wse_reactor_unlock();
}

static void src_detached(void *context) { free(context); }

static const struct wsevent_source_ops src_ops = {
    .ready = src_ready,
    .watchers_changed = src_watchers_changed,
    .detached = src_detached,
};

/* ---- thread sets ---- */

static void leave_tset(struct ovsock *s, bool still_open) {
  struct tset *t = tset_by_gen(s->ts_gen);
  s->ts_gen = 0;
  if (t == NULL)
    return;
  for (struct ovsock **p = &t->members; *p != NULL; p = &(*p)->ts_next)
    if (*p == s) {
      *p = s->ts_next;
      break;
    }
  if (still_open)
    epoll_ctl(t->epfd, EPOLL_CTL_DEL, s->fd, NULL);
}

/* In the thread, inside an alertable wait: some of its sockets are ready. */
static void tset_ready(void *context, short revents) {
  (void)revents;
  pthread_mutex_lock(&wse_reactor_mutex);
  struct tset *t = tset_by_gen((uint32_t)(uintptr_t)context);
  if (t != NULL) {
    struct epoll_event evs[64];
    int n;
    while ((n = epoll_wait(t->epfd, evs, 64, 0)) > 0) {
      for (int i = 0; i < n; i++) {
        int fd = (int)(uint32_t)evs[i].data.u64;
        struct ovsock *s = fd < n_socks ? socks[fd] : NULL;
        if (s == NULL || key_of(s) != evs[i].data.u64)
          continue; /* dropped meanwhile */
        run_reported(s, evs[i].events);
        update_reactor(s, true);
      }
      if (n < 64)
        break;
    }
  }
  wse_reactor_unlock();
}

static void tset_watchers_changed(void *context) {
  pthread_mutex_lock(&wse_reactor_mutex);
  struct tset *t = tset_by_gen((uint32_t)(uintptr_t)context);
  for (struct ovsock *s = t != NULL ? t->members : NULL; s != NULL; s = s->ts_next)
    update_reactor(s, true);
  wse_reactor_unlock();
}

/* Complete the operations of q that have routines for `thread` with
 * WSEVENT_EABORTED. */
static void abort_thread(struct queue *q, wsevent_thread_t thread) {
  struct op **p = &q->head;
  while (*p != NULL) {
    struct op *op = *p;
    if (op->routine == NULL || op->thread != thread) {
      p = &op->next;
      continue;
    }
    *p = op->next;
    if (q->tail == &op->next)
      q->tail = p;
    complete(op, WSEVENT_EABORTED, 0);
  }
}

/* The thread ended: its operations are cancelled, its sockets go back to
 * the reactor. */
static void tset_detached(void *context) {
  pthread_mutex_lock(&wse_reactor_mutex);
  uint32_t gen = (uint32_t)(uintptr_t)context;
  for (struct tset **p = &tsets; *p != NULL; p = &(*p)->next) {
    struct tset *t = *p;
    if (t->gen != gen)
      continue;
    *p = t->next;
    for (struct ovsock *s = t->members; s != NULL; s = s->ts_next)
      s->ts_gen = 0;
    for (int fd = 0; fd < n_socks; fd++) {
      struct ovsock *s = socks[fd];
      if (s == NULL)
        continue;
      abort_thread(&s->in, t->thread);
      abort_thread(&s->out, t->thread);
      update_reactor(s, false);
    }
    close(t->epfd);
    free(t);
    break;
  }
  wse_reactor_unlock();
}

static const struct wsevent_source_ops tset_ops = {
    .ready = tset_ready,
    .watchers_changed = tset_watchers_changed,
    .detached = tset_detached,
};

/* Under the mutex: put s in the set of the thread whose alert event is
 * `alert`; false if it cannot (it is in another thread's set, or a
 * failure), and then the caller uses a source of the socket's own. */
static bool join_tset(struct ovsock *s, wsevent_thread_t thread, wsevent_t alert) {
  struct tset *t = tsets;
  while (t != NULL && t->alert != alert)
    t = t->next;
  if (t == NULL) {
    t = calloc(1, sizeof *t);
    if (t == NULL)
      return false;
    t->alert = alert;
    t->thread = thread;
    if ((t->gen = ++next_tset_gen) == 0)
      t->gen = ++next_tset_gen;
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (t->epfd < 0 ||
        up()->xSourceAttach(alert, &tset_ops, (void *)(uintptr_t)t->gen,
                            t->epfd, POLLIN, &t->src) != WSEVENT_OK) {
      if (t->epfd >= 0)
        close(t->epfd);
      free(t);
      return false;
    }
    t->next = tsets;
    tsets = t;
  }
  if (s->ts_gen == t->gen)
    return true;
  if (s->ts_gen != 0 && tset_by_gen(s->ts_gen) != NULL)
    return false; /* another thread's */
  struct epoll_event ev = {.events = ARMED, .data.u64 = key_of(s)};
  if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0 &&
      (errno != EEXIST || epoll_ctl(t->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0))
    return false;
  s->ts_gen = t->gen;
  s->ts_next = t->members;
  t->members = s;
  return true;
}

/* Whether an operation of s other than op is watched through s's source. */
static bool source_in_use(const struct ovsock *s, const struct op *op) {
  const struct queue *qs[] = {&s->in, &s->out};
  for (int k = 0; k < 2; k++)
    for (const struct op *o = qs[k]->head; o != NULL; o = o->next)
      if (o != op && o->covered)
        return true;
  return false;
}

/* Under the mutex: op is pending on s: attach a source to its event, or,
 * with a routine, to the starting thread's alert event (its alertable
 * waits poll that one).  A failure leaves the operation to the reactor. */
static void attach_source(struct ovsock *s, struct op *op) {
  wsevent_t event = op->event;
  if (op->routine != NULL) {
    if (up()->xThreadAlertEvent(op->thread, &event) != WSEVENT_OK)
      return;
    if (join_tset(s, op->thread, event)) {
      op->covered_ts = true;
      return;
    }
  }
  if (event == 0)
    return;
  short events = op->kind == OP_RECV || op->kind == OP_ACCEPT ? POLLIN : POLLOUT;
  if (s->src != 0 && s->src_event != event && !source_in_use(s, op)) {
    /* The socket's source is on an event no pending operation uses any
     * more (the program moved to another, or closed it): it moves to this
     * one, so that a loop on the new event attaches nothing per
     * operation.  (Its detached() takes no lock of ours.) */
    up()->xSourceDetach(s->src);
    s->src = 0;
  }
  if (s->src != 0 && s->src_event == event) {
    /* The socket's source serves it: usually nothing to change. */
    short want = s->src_events | events;
    if (want != s->src_events) {
      if (up()->xSourceUpdate(s->src, want) != WSEVENT_OK) {
        s->src = 0; /* its event was closed: make another */
        goto fresh;
      }
      s->src_events = want;
    }
    op->covered = true;
    return;
  }
fresh:;
  struct src *c = malloc(sizeof *c);
  if (c == NULL)
    return;
  c->fd = s->fd;
  c->gen = s->gen;
  if (s->src == 0) {
    /* The socket's first: kept across operations. */
    if (up()->xSourceAttach(event, &src_ops, c, s->fd, events, &s->src) !=
        WSEVENT_OK) {
      s->src = 0;
      free(c);
      return;
    }
    s->src_event = event;
    s->src_events = events;
    op->covered = true;
    wse_reactor_stand_in(event);
    return;
  }
  /* Another event than the socket source's: one for this operation. */
  if (up()->xSourceAttach(event, &src_ops, c, s->fd, events, &op->source) !=
      WSEVENT_OK) {
    op->source = 0;
    free(c);
    return;
  }
  wse_reactor_stand_in(event);
}

/* ---- starting an operation ---- */

static struct op *new_op(enum kind kind, const wsevent_buf_t *bufs,
                         size_t nbufs, int *code) {
  size_t total = 0;
  for (size_t i = 0; i < nbufs; i++) {
    if (bufs[i].buf == NULL && bufs[i].len != 0) {
      *code = WSEVENT_EINVAL;
      return NULL;
    }
    if (bufs[i].len > SIZE_MAX / 2 - total) {
      *code = WSEVENT_EINVAL;
      return NULL;
    }
    total += bufs[i].len;
  }
  struct op *op = calloc(1, sizeof *op + nbufs * sizeof op->iov[0]);
  if (op == NULL) {
    *code = WSEVENT_ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < nbufs; i++)
    op->iov[i] = (struct iovec){.iov_base = bufs[i].buf, .iov_len = bufs[i].len};
  op->nbufs = nbufs;
  op->total = total;
  op->kind = kind;
  op->socket = -1;
  return op;
}

/*
 * A receive started within DRAINED_NS of one that emptied the stream, with
 * no readiness reported for the socket since, is queued without a try: the
 * try would find nothing, and costs a system call per message in a loop
 * that receives again from its completion routine.  Nothing is missed: the
 * socket stays in an edge-triggered epoll set, or is polled by a waiter,
 * so bytes that arrived meanwhile are reported and complete it.  It is then
 * pending where Winsock could have completed it at once, as for bytes that
 * arrive just after the call.
 *
 * The window is the grace period: a server with many connections comes
 * back to a socket long after it drained it (50 connections: about 500 us
 * later), and its tries then failed once per message, 13% of its time
 * (bench_echo: 1.32x the epoll loop, 1.13x without them).  When bytes did
 * come meanwhile, skipping the try costs the poll that finds them (one
 * ppoll for every socket ready at once), about what a failed try costs: a
 * receiver that streams found no difference (bulk loopback transfer, 0 to
 * 200 us of work per receive).
 */
#define DRAINED_NS GRACE_NS

static bool just_drained(const struct ovsock *s, const struct op *op) {
  return s->drained && !s->ended && op->kind == OP_RECV && op->total > 0 &&
         !(op->flags & MSG_OOB) && up()->xNow() - s->drained_at < DRAINED_NS;
}

/* Start op on fd: tried now if its queue is empty, else queued.  Frees op
 * unless it is pending or its routine was queued.
 *
 * A receive or send on a socket the library has a record of, with nothing
 * queued in its direction, is tried first with no other system call: a
 * descriptor that is no longer a socket fails it with ENOTSOCK or EBADF.
 * Only an operation that must wait, or queue, checks with fstat(2) that
 * the descriptor is still the record's socket (a queue must never belong
 * to a socket closed behind the library's back): a busy loop whose
 * operations complete at once makes one system call per operation. */
static int start(int fd, struct op *op, wsevent_overlapped_t *ov,
                 wsevent_overlapped_fn routine, bool nonblocking) {
  struct stat st;
  int saved = errno, r;
  if (fd < 0 || (nonblocking && (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)))) {
    free(op);
    return WSEVENT_ENOTSOCK;
  }
  if (routine != NULL && (r = up()->xThreadSelf(&op->thread)) != WSEVENT_OK) {
    free(op);
    return r;
  }
  if (nonblocking) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)) {
      r = wse_errno_code(errno);
      free(op);
      return r;
    }
  }
  op->ov = ov;
  op->routine = routine;
  op->release = routine != NULL ? ov->release : NULL;
  op->event = ov->event;
  bool in = op->kind == OP_RECV || op->kind == OP_ACCEPT;
  pthread_mutex_lock(&wse_reactor_mutex);
  /* Windows' I/O manager resets the event as the operation starts (a loop
   * that reuses its event need not): before the try that may set it. */
  if (routine == NULL && op->event != 0)
    up()->xReset(op->event);
  struct ovsock *s = fd < n_socks ? socks[fd] : NULL;
  bool first = !nonblocking && s != NULL && (in ? s->in.head : s->out.head) == NULL;
  enum outcome o = AGAIN;
  bool tried = false;
  uint32_t drained = 0; /* s's gen, if not tried for just_drained() (a
                           record dropped below and another made at its
                           address is not that one) */
  r = WSEVENT_OK;
  if (first) {
    if (pending_in(&s->in, ov) || pending_in(&s->out, ov))
      r = WSEVENT_EINVAL; /* the record is in use */
    else if (just_drained(s, op))
      drained = s->gen; /* fstat below finds a descriptor that is no socket */
    else if ((tried = true) && (o = try_op(s, op)) == FAILED &&
             (errno == ENOTSOCK || errno == EBADF))
      r = WSEVENT_ENOTSOCK;
  }
  if (r == WSEVENT_OK && o == AGAIN) {
    if (s != NULL && !nonblocking && (ov->options & WSEVENT_OV_SAME_SOCKET))
      ; /* the caller vouches that s is still fd's record */
    else if (!nonblocking && (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)))
      r = WSEVENT_ENOTSOCK;
    else
      r = sock_for(fd, &st, &s);
    if (r == WSEVENT_OK && !first && (pending_in(&s->in, ov) || pending_in(&s->out, ov)))
      r = WSEVENT_EINVAL; /* the record is in use */
  }
  if (r != WSEVENT_OK) {
    wse_reactor_unlock();
    free(op);
    return r;
  }
  struct queue *q = in ? &s->in : &s->out;
  if (tried) {
    /* already */
  } else if (op->kind == OP_CONNECT) {
    if (q->head != NULL) { /* a connect (or a send) is under way */
      wse_reactor_unlock();
      free(op);
      return WSEVENT_EINVAL;
    }
    o = DONE;
    if (connect(fd, (struct sockaddr *)&op->to, op->tolen) < 0)
      o = errno == EINPROGRESS || errno == EINTR ? AGAIN : FAILED;
  } else if (q->head == NULL && s->gen != drained && !just_drained(s, op)) {
    o = try_op(s, op); /* (one clock read for the same answer is enough) */
  } else if (op->kind == OP_ACCEPT && !listening(fd)) {
    /* Queued behind a receive: only a listener may accept (Windows fails
     * AcceptEx on any other socket with WSAEINVAL). */
    errno = EINVAL;
    o = FAILED;
  }
  if (o == FAILED) {
    /* Refused at once: no completion is signalled, as on Windows. */
    int err = errno;
    ov->error = err;
    ov->bytes = op->bytes;
    ov->status = WSEVENT_ESOCKET;
    ov->internal = NULL;
    wse_reactor_unlock();
    free(op);
    errno = err;
    return WSEVENT_ESOCKET;
  }
  ov->status = WSEVENT_IO_PENDING;
  ov->internal = op;
  if (o == DONE) {
    note_received(s, op);
    complete(op, WSEVENT_OK, 0); /* and still signalled, as on Windows */
    r = WSEVENT_OK;
  } else {
    queue_push(q, op);
    attach_source(s, op);
    update_reactor(s, true);
    r = WSEVENT_IO_PENDING;
  }
  wse_reactor_unlock();
  errno = saved;
  return r;
}

static bool bufs_ok(const wsevent_buf_t *bufs, size_t nbufs) {
  return nbufs <= WSEVENT_MAX_BUFS && (bufs != NULL || nbufs == 0);
}

static int transfer(int fd, enum kind kind, const wsevent_buf_t *bufs,
                    size_t nbufs, int flags, int allowed,
                    struct sockaddr *from, socklen_t *fromlen,
                    const struct sockaddr *to, socklen_t tolen,
                    wsevent_overlapped_t *ov, wsevent_overlapped_fn routine) {
  int code;
  if (ov == NULL || !bufs_ok(bufs, nbufs) || (flags & ~allowed) != 0 ||
      (ov->options & ~WSEVENT_OV_SAME_SOCKET) != 0)
    return fd < 0 ? WSEVENT_ENOTSOCK : WSEVENT_EINVAL;
  if (to != NULL && (tolen == 0 || tolen > sizeof(struct sockaddr_storage)))
    return WSEVENT_EINVAL;
  struct op *op = new_op(kind, bufs, nbufs, &code);
  if (op == NULL)
    return code;
  op->flags = flags;
  op->addr = from;
  op->addrlen = fromlen;
  if (to != NULL) {
    memcpy(&op->to, to, tolen);
    op->tolen = tolen;
  }
  return start(fd, op, ov, routine, false);
}

int wsevent_recv_overlapped(int fd, const wsevent_buf_t *bufs, size_t nbufs,
                            int flags, wsevent_overlapped_t *ov,
                            wsevent_overlapped_fn routine) {
  return transfer(fd, OP_RECV, bufs, nbufs, flags, MSG_OOB, NULL, NULL, NULL,
                  0, ov, routine);
}

int wsevent_recvfrom_overlapped(int fd, const wsevent_buf_t *bufs, size_t nbufs,
                                int flags, struct sockaddr *from,
                                socklen_t *fromlen, wsevent_overlapped_t *ov,
                                wsevent_overlapped_fn routine) {
  if ((from == NULL) != (fromlen == NULL))
    return WSEVENT_EINVAL;
  return transfer(fd, OP_RECV, bufs, nbufs, flags, MSG_OOB, from, fromlen,
                  NULL, 0, ov, routine);
}

int wsevent_send_overlapped(int fd, const wsevent_buf_t *bufs, size_t nbufs,
                            int flags, wsevent_overlapped_t *ov,
                            wsevent_overlapped_fn routine) {
  return transfer(fd, OP_SEND, bufs, nbufs, flags, MSG_OOB | MSG_DONTROUTE,
                  NULL, NULL, NULL, 0, ov, routine);
}

int wsevent_sendto_overlapped(int fd, const wsevent_buf_t *bufs, size_t nbufs,
                              int flags, const struct sockaddr *to,
                              socklen_t tolen, wsevent_overlapped_t *ov,
                              wsevent_overlapped_fn routine) {
  return transfer(fd, OP_SEND, bufs, nbufs, flags, MSG_OOB | MSG_DONTROUTE,
                  NULL, NULL, to, tolen, ov, routine);
}

int wsevent_accept_overlapped(int fd, struct sockaddr *addr, socklen_t *addrlen,
                              wsevent_overlapped_t *ov,
                              wsevent_overlapped_fn routine) {
  int code;
  if (ov == NULL || (addr != NULL && addrlen == NULL) ||
      (ov->options & ~WSEVENT_OV_SAME_SOCKET) != 0)
    return fd < 0 ? WSEVENT_ENOTSOCK : WSEVENT_EINVAL;
  struct op *op = new_op(OP_ACCEPT, NULL, 0, &code);
  if (op == NULL)
    return code;
  op->addr = addr;
  op->addrlen = addr != NULL ? addrlen : NULL;
  return start(fd, op, ov, routine, true);
}

int wsevent_connect_overlapped(int fd, const struct sockaddr *addr,
                               socklen_t addrlen, wsevent_overlapped_t *ov,
                               wsevent_overlapped_fn routine) {
  int code;
  if (ov == NULL || addr == NULL || addrlen == 0 ||
      addrlen > sizeof(struct sockaddr_storage) ||
      (ov->options & ~WSEVENT_OV_SAME_SOCKET) != 0)
    return fd < 0 ? WSEVENT_ENOTSOCK : WSEVENT_EINVAL;
  struct op *op = new_op(OP_CONNECT, NULL, 0, &code);
  if (op == NULL)
    return code;
  memcpy(&op->to, addr, addrlen);
  op->tolen = addrlen;
  return start(fd, op, ov, routine, true);
}

/* ---- outcome, cancel, close ---- */

static bool known_status(int status) {
  return status == WSEVENT_IO_PENDING || status == WSEVENT_OK ||
         (status <= WSEVENT_EINVAL_HANDLE && status >= WSEVENT_ESOCKET);
}

int wsevent_overlapped_result(wsevent_overlapped_t *ov, int wait, size_t *bytes,
                              int *flags) {
  if (ov == NULL)
    return WSEVENT_EINVAL;
  pthread_mutex_lock(&wse_reactor_mutex);
  int status = ov->status;
  while (status == WSEVENT_IO_PENDING && wait) {
    pthread_cond_wait(&done_cond, &wse_reactor_mutex);
    status = ov->status;
  }
  if (status != WSEVENT_IO_PENDING && known_status(status)) {
    if (bytes != NULL)
      *bytes = ov->bytes;
    if (flags != NULL)
      *flags = ov->flags;
  }
  pthread_mutex_unlock(&wse_reactor_mutex);
  if (!known_status(status))
    return WSEVENT_EINVAL;
  return status == WSEVENT_IO_PENDING ? WSEVENT_IO_INCOMPLETE : status;
}

int wsevent_cancel_overlapped(int fd, wsevent_overlapped_t *ov) {
  if (fd < 0)
    return WSEVENT_EINVAL_HANDLE;
  pthread_mutex_lock(&wse_reactor_mutex);
  struct ovsock *s = fd < n_socks ? socks[fd] : NULL;
  int n = s != NULL ? abort_queue(&s->in, ov) + abort_queue(&s->out, ov) : 0;
  if (s != NULL)
    update_reactor(s, false);
  wse_reactor_unlock();
  return n > 0 ? WSEVENT_OK : WSEVENT_EINVAL_HANDLE;
}

void wse_overlapped_fresh(int fd) {
  struct ovsock *s = fd >= 0 && fd < n_socks ? socks[fd] : NULL;
  if (s != NULL) /* the number's old socket was closed behind our back */
    drop(s, false);
}

bool wse_overlapped_closing(int fd) {
  struct ovsock *s = fd >= 0 && fd < n_socks ? socks[fd] : NULL;
  if (s == NULL)
    return false;
  struct stat st;
  drop(s, fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino);
  return true;
}

void wse_overlapped_forget(void) {
  /* In a fork child: the operations are the parent's. */
  for (int i = 0; i < n_socks; i++) {
    if (socks[i] == NULL)
      continue;
    struct op *op;
    while ((op = queue_pop(&socks[i]->in)) != NULL)
      free(op);
    while ((op = queue_pop(&socks[i]->out)) != NULL)
      free(op);
    free(socks[i]);
  }
  free(socks);
  socks = NULL;
  n_socks = 0;
  if (ops_fd >= 0)
    close(ops_fd);
  if (timer_fd >= 0)
    close(timer_fd);
  ops_fd = timer_fd = -1;
  ops_io = 0;
  deferred = NULL;
  timer_running = false;
  while (tsets != NULL) {
    struct tset *t = tsets;
    tsets = t->next;
    close(t->epfd);
    free(t);
  }
  pthread_cond_init(&done_cond, NULL);
}
