/*
 * select.c: WSAEventSelect and WSAEnumNetworkEvents over the reactor.
 *
 * Every selected socket has a record of network events that occurred and
 * were not yet enumerated, with an errno per bit.  One function,
 * evaluate(), looks at the socket's current state (poll with a zero
 * timeout, TCP state, pending error, bytes readable) and records what
 * Winsock would record; it runs when the socket is selected, on every
 * epoll edge, and after every enumeration.  The rules, as far as Linux
 * allows (README.md lists the differences):
 *
 * - FD_READ, FD_OOB, FD_ACCEPT are level-like: recorded while the
 *   condition holds and it is not already in the record.  Winsock
 *   re-enables them on recv/accept, which Linux cannot see: here the
 *   re-enabling call is the enumeration, after which a condition that
 *   still holds (data left unread) is recorded again at once.
 * - FD_WRITE: recorded when the socket is first seen connected (at select
 *   time if it already is, or when a connect completes), then only on an
 *   edge of send space returning (the `writes` epoll instance).
 * - FD_CONNECT once per connect, with the connect's error; FD_CLOSE once,
 *   only when all data was read (0 for a graceful close) or at once on a
 *   reset (its errno).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
/* The kernel's struct tcp_info (glibc's lacks tcpi_segs_in/out). */
#include <linux/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net.h"

/* TCP states, as TCP_INFO reports them (stable kernel ABI). */
enum { STATE_SYN_SENT = 2, STATE_CLOSE = 7 };
#define WINDOWS_ONLY                                                          \
  (WSEVENT_FD_QOS | WSEVENT_FD_GROUP_QOS |                                    \
   WSEVENT_FD_ROUTING_INTERFACE_CHANGE | WSEVENT_FD_ADDRESS_LIST_CHANGE)

struct sock {
  wse_io_t io;        /* the reactor registration, while active */
  bool active;
  bool connected;     /* seen connected since the select */
  bool listening;     /* seen listening (a state a socket never leaves) */
  int type;           /* SO_TYPE */
  wsevent_t event;
  long mask;
  long record;        /* occurred, not yet enumerated */
  long fired;         /* FD_CONNECT/FD_CLOSE already recorded once */
  int errors[WSEVENT_FD_MAX_EVENTS];
  dev_t dev;
  ino_t ino;
};

static struct sock *socks; /* indexed by descriptor */
static int n_socks;

static int getint(int fd, int level, int name) {
  int v = 0;
  socklen_t len = sizeof v;
  if (getsockopt(fd, level, name, &v, &len) < 0)
    return -1;
  return v;
}

/* TCP_INFO, or false for a socket that is not TCP. */
static bool tcp_info(int fd, struct tcp_info *info) {
  socklen_t len = sizeof *info;
  memset(info, 0, sizeof *info);
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, info, &len) == 0;
}

static bool has_peer(int fd) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  return getpeername(fd, (struct sockaddr *)&a, &len) == 0;
}

static bool same_file(int fd, const struct sock *s) {
  struct stat st;
  return fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

static void drop(int fd, struct sock *s, bool still_open) {
  if (still_open) {
    wse_reactor_del(fd, false);
    wse_reactor_del(fd, true);
  }
  wse_reactor_unregister(s->io);
  s->active = false;
}

static void post(struct sock *s, int bit, int err) {
  long b = 1L << bit;
  if (!(s->mask & b) || (s->record & b))
    return;
  s->record |= b;
  s->errors[bit] = err;
  wse_reactor_set(s->event);
}

static void post_once(struct sock *s, int bit, int err) {
  if (s->fired & (1L << bit))
    return;
  s->fired |= 1L << bit;
  post(s, bit, err);
}

/* Why a socket is looked at. */
enum cause {
  ON_READINESS,  /* the reactor saw input, an error or a hang-up */
  ON_WRITE_EDGE, /* the reactor saw send space come back */
  AT_SELECT,     /* the select itself: record what already holds */
  AFTER_ENUM,    /* the enumeration re-enabled what it took */
};

static void evaluate(int fd, struct sock *s, enum cause cause) {
  /* At select and enumeration the caller has just checked that fd is
   * still this socket; a reactor report may be older than a close. */
  bool verified = cause == AT_SELECT || cause == AFTER_ENUM;
  bool at_select = cause == AT_SELECT;
  bool write_edge = cause == ON_WRITE_EDGE;
  struct pollfd p = {.fd = fd, .events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP};
  if (poll(&p, 1, 0) < 0)
    return;
  if ((p.revents & POLLNVAL) || (!verified && !same_file(fd, s))) {
    drop(fd, s, false); /* closed (or reused) behind our back */
    return;
  }
  short r = p.revents;

  if (s->type != SOCK_STREAM) {
    if (r & POLLIN)
      post(s, WSEVENT_FD_READ_BIT, 0);
    if ((r & POLLOUT) && (write_edge || at_select))
      post(s, WSEVENT_FD_WRITE_BIT, 0);
    return;
  }
  if (!s->connected && !s->listening)
    s->listening = getint(fd, SOL_SOCKET, SO_ACCEPTCONN) == 1;
  if (s->listening) {
    if (r & POLLIN)
      post(s, WSEVENT_FD_ACCEPT_BIT, 0);
    return;
  }
  if (!s->connected) {
    struct tcp_info info;
    bool tcp = tcp_info(fd, &info);
    if (r & POLLERR) {
      int err = getint(fd, SOL_SOCKET, SO_ERROR);
      if (err > 0) {
        post_once(s, WSEVENT_FD_CONNECT_BIT, err); /* refused, unreachable */
        return;
      }
    }
    if (tcp && info.tcpi_state == STATE_CLOSE && info.tcpi_segs_out > 0) {
      /* A connect that failed, whose SO_ERROR the application read first
       * (luasocket's blocking connect does): an answer means a reset. */
      post_once(s, WSEVENT_FD_CONNECT_BIT,
                info.tcpi_segs_in > 0 ? ECONNREFUSED : ETIMEDOUT);
      return;
    }
    if ((tcp && info.tcpi_state == STATE_SYN_SENT) || !has_peer(fd))
      return; /* in progress, or not connecting at all */
    s->connected = true;
    if (!at_select)
      post_once(s, WSEVENT_FD_CONNECT_BIT, 0);
    write_edge = true; /* FD_WRITE after connect or accept */
  }

  /* Not FIONREAD: at the urgent mark it reports 0 with data readable. */
  char peek;
  bool avail = recv(fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  if (r & POLLERR) {
    int err = getint(fd, SOL_SOCKET, SO_ERROR);
    post_once(s, WSEVENT_FD_CLOSE_BIT, err > 0 ? err : ECONNRESET);
    return;
  }
  if ((r & POLLIN) && avail)
    post(s, WSEVENT_FD_READ_BIT, 0);
  if (r & POLLPRI)
    post(s, WSEVENT_FD_OOB_BIT, 0);
  if ((r & POLLOUT) && write_edge)
    post(s, WSEVENT_FD_WRITE_BIT, 0);
  if ((r & (POLLRDHUP | POLLHUP)) && !avail)
    post_once(s, WSEVENT_FD_CLOSE_BIT, 0); /* only once all data was read */
}

/* The reactor's callback.  The context is the descriptor, not a pointer:
 * the table of sockets moves when it grows. */
static void on_ready(void *ctx, uint32_t events, bool write_edge) {
  int fd = (int)(intptr_t)ctx;
  (void)events; /* evaluate() looks at the socket itself */
  /* The reactor drops reports of registrations dropped since. */
  evaluate(fd, &socks[fd], write_edge ? ON_WRITE_EDGE : ON_READINESS);
}

static int grow(int fd) {
  if (fd < n_socks)
    return WSEVENT_OK;
  int n = n_socks ? n_socks : 64;
  while (n <= fd)
    n *= 2;
  struct sock *t = realloc(socks, (size_t)n * sizeof *t);
  if (t == NULL)
    return WSEVENT_ENOMEM;
  memset(t + n_socks, 0, (size_t)(n - n_socks) * sizeof *t);
  socks = t;
  n_socks = n;
  return WSEVENT_OK;
}

int wsevent_event_select(int fd, wsevent_t event, long mask) {
  struct stat st;
  int r;

  if (fd < 0)
    return WSEVENT_EINVAL;
  if (mask & WINDOWS_ONLY)
    return WSEVENT_ENOTSUP;
  if (mask & ~WSEVENT_FD_ALL_EVENTS)
    return WSEVENT_EINVAL;
  if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
    return WSEVENT_ENOTSOCK;
  if (mask != 0 && up()->xIsSet(event) < 0)
    return WSEVENT_EINVAL_HANDLE;
  /* As on Windows, a selected socket is non-blocking (also after mask 0). */
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return WSEVENT_ENOTSOCK;

  pthread_mutex_lock(&wse_reactor_mutex);
  r = grow(fd);
  if (r == WSEVENT_OK && mask != 0)
    r = wse_reactor_start();
  if (r != WSEVENT_OK)
    goto out;
  struct sock *s = &socks[fd];
  if (s->active)
    drop(fd, s, true); /* a new select replaces the old one */
  if (mask == 0)
    goto out; /* cancelled; the record went with it */

  memset(s, 0, sizeof *s);
  r = wse_reactor_register(on_ready, (void *)(intptr_t)fd, &s->io);
  if (r != WSEVENT_OK)
    goto out;
  s->event = event;
  s->mask = mask;
  s->type = getint(fd, SOL_SOCKET, SO_TYPE);
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  r = wse_reactor_add(s->io, fd, EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLET, false);
  if (r == WSEVENT_OK) {
    r = wse_reactor_add(s->io, fd, EPOLLOUT | EPOLLET, true);
    if (r != WSEVENT_OK)
      wse_reactor_del(fd, false);
  }
  if (r != WSEVENT_OK) {
    wse_reactor_unregister(s->io);
    goto out;
  }
  s->active = true;
  /* Registering a writable socket queued a write edge: take it now, so
   * that this select reports FD_WRITE once, not again after an early
   * enumeration. */
  wse_reactor_take_write_edges();
  evaluate(fd, s, AT_SELECT); /* conditions that already hold */
out:
  wse_reactor_unlock();
  return r;
}

int wsevent_enum_network_events(int fd, wsevent_t event_to_reset,
                                struct wsevent_network_events *out) {
  struct stat st;
  int r = WSEVENT_OK;

  if (out == NULL)
    return WSEVENT_EINVAL;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
    return WSEVENT_ENOTSOCK;
  if (event_to_reset != 0 && up()->xIsSet(event_to_reset) < 0)
    return WSEVENT_EINVAL_HANDLE;
  memset(out, 0, sizeof *out);

  pthread_mutex_lock(&wse_reactor_mutex);
  struct sock *s = fd < n_socks ? &socks[fd] : NULL;
  if (s != NULL && s->active && !same_file(fd, s))
    drop(fd, s, false);
  if (s != NULL && s->active) {
    /* Copy, clear and reset in one step under the mutex that every
     * recording takes; then record again what still holds. */
    out->network_events = s->record;
    memcpy(out->error_code, s->errors, sizeof out->error_code);
    s->record = 0;
    memset(s->errors, 0, sizeof s->errors);
  }
  if (event_to_reset != 0 && up()->xReset(event_to_reset) != WSEVENT_OK)
    r = WSEVENT_EINVAL_HANDLE;
  if (s != NULL && s->active)
    evaluate(fd, s, AFTER_ENUM);
  wse_reactor_unlock();
  return r;
}

void wse_select_forget(void) {
  free(socks);
  socks = NULL;
  n_socks = 0;
}
