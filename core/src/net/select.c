/*
 * select.c: WSAEventSelect and WSAEnumNetworkEvents.
 *
 * Winsock's model, as Windows documents it and Wine implements it
 * (server/sock.c: pending and reported events): a network event that
 * occurs is recorded and its event object set, once; it is then
 * "reported" and not recorded again until the call that re-enables it:
 * recv for FD_READ and FD_OOB, accept for FD_ACCEPT, a send that would
 * block for FD_WRITE.  FD_CONNECT and FD_CLOSE happen once.  If the
 * condition still holds when it is re-enabled (data left after a recv),
 * it is recorded again at once.  Enumeration copies and clears the record
 * and resets the event; it re-enables nothing.
 *
 * Where the library sees the re-enabling call (wsevent_recv, _send,
 * _accept..., which wsevent/winsock2.h maps recv, send, accept... to),
 * that is exactly what happens.  A socket's bit whose calls the library
 * never saw (a Python socket's recv, luasocket's receive) is re-enabled
 * when the program next waits on the event or enumerates (it has had the
 * chance to read by then), and looked at then, not at the enumeration that
 * took it: the usual loop (wait, enumerate, read everything, wait) does
 * not wake again for data it read.  If a descriptor of the event was
 * handed out (asyncio, cqueues, luv poll it, and may never call a wait),
 * the enumeration looks at once, so that nothing is ever missed.
 *
 * Each selected socket is a wait source of its event: a thread waiting on
 * the event polls the socket itself, for the conditions of the bits that
 * are enabled, and records what it finds in its own thread (no thread hop
 * between the kernel and the waiter).  While no thread waits, the reactor
 * serves it: edge-triggered for input, errors and hang-ups, and, always,
 * edge-triggered for output in the `writes` instance, whose edges mean
 * "send space came back after a send filled the buffer": the Linux
 * equivalent of FD_WRITE's re-enabling for sends the library cannot see.
 *
 * A socket's state is under the reactor mutex; sets are made at the end
 * of its critical section (wse_reactor_set).  A socket closed behind our
 * back is noticed (POLLNVAL, or another file at the same number) and its
 * selection dropped.  README.md lists what still differs from Windows.
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
#define BIT(b) (1L << WSEVENT_FD_##b##_BIT)
/* Re-enabled by calls the library may not see (recv, accept). */
#define REENABLED_BY_CALLS (BIT(READ) | BIT(OOB) | BIT(ACCEPT))

struct sock {
  /* All under the reactor mutex. */
  int fd;
  bool active;        /* selected: socks[fd] is this */
  bool connected;     /* seen connected since the select */
  bool listening;     /* seen listening (a state a socket never leaves) */
  bool recheck;       /* bits re-enabled, not looked at yet */
  long deferred;      /* enumerated bits whose calls are unseen: re-enabled
                         at the next wait or enumeration */
  int type;           /* SO_TYPE */
  dev_t dev;
  ino_t ino;
  wsevent_t event;
  long mask;          /* selected */
  long record;        /* occurred, not yet enumerated */
  long reported;      /* recorded and not re-enabled (also unselected
                         FD_READ: it gates the close check) */
  long visible;       /* bits whose re-enabling calls the library saw */
  long all_seen;      /* bits whose every call the library sees
                         (WSEVENT_SELECT_CALLS_SEEN): re-enabled by those
                         calls only, as on Windows */
  long fired;         /* FD_CONNECT/FD_CLOSE already recorded once */
  bool write_wanted;  /* a send the library saw would block, and no room
                         has been seen since: poll for it */
  bool seen_block;    /* and the output edge to come is for that one */
  bool input_edge;    /* the reactor saw new input while FD_READ was
                         reported: the next re-enabling call looks */
  bool aborted;       /* reset: FD_CLOSE was its last event */
  bool selecting;     /* in select_locked(): what a look finds held then */
  bool peer_closed;   /* the peer's FIN (or a hang-up) was seen: a read
                         that drains the data is followed by FD_CLOSE,
                         and no new edge will say so */
  int errors[WSEVENT_FD_MAX_EVENTS];
  short polled;       /* the source's events, as last set */
  struct wse_served served; /* the source, and the reactor's main edge */
  wse_io_t writes_io;       /* the reactor's output edge */
};

static struct sock **socks; /* indexed by descriptor */
static int n_socks;

/* Why a socket is looked at. */
enum cause {
  AT_SELECT,    /* the select itself: record what already holds */
  ON_EDGE,      /* the reactor saw input, an error or a hang-up */
  ON_WRITE_EDGE,/* the reactor saw send space come back */
  ON_POLL,      /* a waiting thread's poll found the socket ready */
  ON_CALL,      /* a re-enabling call was made through the library */
  AT_ENUM,      /* an enumeration, or a wait, looks at re-enabled bits */
};

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

/* The error of a socket that reports POLLERR, without taking it: reading
 * SO_ERROR (or a receive that finds no data) clears it, and the program's
 * own receive would then see a clean end of stream where Linux, as
 * Windows, reports the reset.  A TCP socket that failed sending timed out;
 * any other was reset. */
static int pending_error(int fd) {
  struct tcp_info info;
  if (tcp_info(fd, &info))
    return info.tcpi_retransmits > 0 || info.tcpi_probes > 0 ? ETIMEDOUT
                                                             : ECONNRESET;
  int err = getint(fd, SOL_SOCKET, SO_ERROR); /* no other way */
  return err > 0 ? err : ECONNRESET;
}

static bool same_file(const struct sock *s) {
  struct stat st;
  return fstat(s->fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
}

/* The selection of fd, if fd is still the socket that was selected. */
static struct sock *sock_of(int fd) {
  return fd >= 0 && fd < n_socks && socks[fd] != NULL ? socks[fd] : NULL;
}

/* ---- the poll events a waiting thread watches ---- */

/* What would give this socket work: the conditions of its enabled bits. */
static short wanted(const struct sock *s) {
  long enabled = ~s->reported;
  if (s->fired & BIT(CLOSE))
    return 0; /* a reset or a hang-up: nothing more to watch (and
                 POLLHUP/POLLERR would keep the poll ready) */
  if (s->type != SOCK_STREAM)
    return (short)(((enabled & s->mask & BIT(READ)) ? POLLIN : 0) |
                   (s->write_wanted ? POLLOUT : 0));
  if (s->listening)
    return (enabled & s->mask & BIT(ACCEPT)) ? POLLIN : 0;
  if (!s->connected) {
    struct tcp_info info;
    /* Connecting: its completion or failure.  Never poll an unconnected
     * socket: Linux says POLLOUT|POLLHUP for it at once.  But a connect
     * that failed in the call itself (Linux refuses a loopback connect at
     * once, where Windows says WSAEWOULDBLOCK and reports FD_CONNECT) has
     * sent a segment: poll it, so that look() records the failure. */
    if ((s->fired & BIT(CONNECT)) || !tcp_info(s->fd, &info))
      return 0;
    bool failed = info.tcpi_state == STATE_CLOSE && info.tcpi_segs_out > 0;
    return info.tcpi_state == STATE_SYN_SENT || failed ? POLLOUT : 0;
  }
  short ev = 0;
  /* FD_READ, and the close, seen as POLLIN with nothing to read (Wine
   * does the same): only while FD_READ is not reported, so unread data
   * cannot keep the poll ready. */
  if (enabled & BIT(READ))
    ev |= POLLIN | POLLRDHUP;
  if (enabled & s->mask & BIT(OOB))
    ev |= POLLPRI;
  if (s->write_wanted)
    ev |= POLLOUT;
  return ev;
}

/* Read interest that is no longer wanted (FD_READ reported) stays polled
 * until a poll finds it ready: a loop that reads everything before it
 * waits again wants it again by then, so its source is never updated (an
 * update takes the dispatcher lock and makes the waiters build their sets
 * again).  A poll that finds only such stale interest drops it. */
#define LAZY_EVENTS (POLLIN | POLLRDHUP)

static short stale_events(const struct sock *s) {
  if (s->type != SOCK_STREAM || !s->connected)
    return 0; /* never kept (and wanted() may ask TCP_INFO) */
  return (short)(s->polled & LAZY_EVENTS & ~wanted(s));
}

/* Make the source's events what the socket wants now, but for stale
 * interest a poll did not find ready (`gone`: that it did). */
static void sync_polled(struct sock *s, short gone) {
  /* A stream socket selected before listen() (or before it connects) is
   * one waiters cannot poll: Linux says POLLHUP for it at once.  Look for
   * its listening now, and until it says what it is, keep the reactor on
   * it: a connection that comes or a connect that starts is an edge
   * there. */
  bool undecided = s->type == SOCK_STREAM && !s->connected && !s->listening;
  if (undecided && getint(s->fd, SOL_SOCKET, SO_ACCEPTCONN) == 1) {
    s->listening = true;
    undecided = false;
  }
  short ev = wanted(s);
  if (s->type == SOCK_STREAM && s->connected && !(s->fired & BIT(CLOSE)))
    ev |= (short)(s->polled & LAZY_EVENTS & ~gone);
  if (ev != s->polled && up()->xSourceUpdate(s->served.source, ev) == WSEVENT_OK)
    s->polled = ev;
  wse_served_keep(&s->served, undecided && ev == 0 &&
                                  !(s->fired & (BIT(CONNECT) | BIT(CLOSE))));
}

/* ---- recording ---- */

/* Record bit (if selected) and report it, unless it is reported already. */
static void post(struct sock *s, int bit, int err) {
  long b = 1L << bit;
  if (s->reported & b)
    return;
  s->reported |= b;
  if (!(s->mask & b))
    return; /* not selected: reported only to gate the close check */
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

static void drop(struct sock *s, bool still_open);

/* Look at the socket and record what Winsock would record now. */
static void look(struct sock *s, enum cause cause) {
  /* Whatever the input edge was, this look records it; but not while
   * FD_READ is reported: the input stays for its re-enabling call to look
   * at (a look for send space between an input edge and a receive that
   * re-enabled without looking left data unreported, the edge gone). */
  if (!(s->reported & BIT(READ)))
    s->input_edge = false;
  struct pollfd p = {.fd = s->fd, .events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP};
  if (poll(&p, 1, 0) < 0)
    return;
  /* A report or a poll may be older than a close: check the file. */
  if ((p.revents & POLLNVAL) || (cause != AT_SELECT && !same_file(s))) {
    drop(s, false); /* closed (or reused) behind our back */
    return;
  }
  short r = p.revents;

  if (r & POLLOUT)
    s->write_wanted = false; /* the room it waited for: FD_WRITE below */
  if (s->type != SOCK_STREAM) {
    if (r & POLLIN)
      post(s, WSEVENT_FD_READ_BIT, 0);
    if (r & POLLOUT)
      post(s, WSEVENT_FD_WRITE_BIT, 0);
    return;
  }
  if (!s->connected && !s->listening)
    s->listening = getint(s->fd, SOL_SOCKET, SO_ACCEPTCONN) == 1;
  if (s->listening) {
    if (r & POLLIN)
      post(s, WSEVENT_FD_ACCEPT_BIT, 0);
    return;
  }
  if (!s->connected) {
    struct tcp_info info;
    bool tcp = tcp_info(s->fd, &info);
    /* A closed TCP socket that received more than one segment was
     * connected (a failed connect gets at most its reset): one accepted
     * or connected, then reset before the select or before we looked.
     * Its reset is an FD_CLOSE, below, not a failed FD_CONNECT. */
    bool was_connected = tcp && info.tcpi_state == STATE_CLOSE &&
                         info.tcpi_segs_in > 1;
    if ((r & POLLERR) && !was_connected) {
      int err = getint(s->fd, SOL_SOCKET, SO_ERROR);
      if (err > 0) {
        post_once(s, WSEVENT_FD_CONNECT_BIT, err); /* refused, unreachable */
        return;
      }
    }
    if (tcp && info.tcpi_state == STATE_CLOSE && info.tcpi_segs_out > 0 &&
        !was_connected && !has_peer(s->fd)) {
      /* A connect that failed, whose SO_ERROR the application read first
       * (luasocket's blocking connect does): an answer means a reset. */
      post_once(s, WSEVENT_FD_CONNECT_BIT,
                info.tcpi_segs_in > 0 ? ECONNREFUSED : ETIMEDOUT);
      return;
    }
    if (!was_connected &&
        ((tcp && info.tcpi_state == STATE_SYN_SENT) || !has_peer(s->fd)))
      return; /* in progress, or not connecting at all */
    s->connected = true;
    if (cause != AT_SELECT) /* (connected, and perhaps reset since) */
      post_once(s, WSEVENT_FD_CONNECT_BIT, 0);
    /* The poll above may be older than the connection (a connect that
     * completed while we looked: POLLHUP then meant "not connected", not
     * a close): look again.  (At the select, the selecting thread is
     * not connecting it.) */
    if (!was_connected && cause != AT_SELECT) {
      if (poll(&p, 1, 0) < 0)
        return;
      r = p.revents;
    }
  }

  if (s->aborted)
    return; /* nothing happens on a reset connection any more */
  if (r & POLLERR) {
    /* Reset (or timed out): FD_CLOSE with its error, as on Windows, and
     * nothing else.  The error stays for the program's own calls. */
    post_once(s, WSEVENT_FD_CLOSE_BIT, pending_error(s->fd));
    s->aborted = true;
    return;
  }
  /* Not FIONREAD: at the urgent mark it reports 0 with data readable. */
  char peek;
  ssize_t n = recv(s->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT);
  bool avail = n > 0;
  if (n < 0 && (errno == ECONNRESET || errno == EPIPE)) {
    /* Reset since the poll (this peek took the error: it is lost to the
     * program's next receive, which sees the end of the stream). */
    post_once(s, WSEVENT_FD_CLOSE_BIT, ECONNRESET);
    s->aborted = true;
    return;
  }
  if ((r & POLLIN) && avail)
    post(s, WSEVENT_FD_READ_BIT, 0);
  if (r & POLLPRI)
    post(s, WSEVENT_FD_OOB_BIT, 0);
  if (r & POLLOUT)
    post(s, WSEVENT_FD_WRITE_BIT, 0); /* only if enabled */
  if (r & (POLLRDHUP | POLLHUP))
    s->peer_closed = true; /* the read that drains the data must look */
  if ((r & (POLLRDHUP | POLLHUP)) && !avail)
    post_once(s, WSEVENT_FD_CLOSE_BIT, 0); /* only once all data was read */
}

/* Re-enable the bits whose calls the library did not see. */
/* Re-enable what an earlier enumeration deferred: the program has had its
 * chance to make the unseen calls since. */
static void reenable_unseen(struct sock *s) {
  if (s->deferred) {
    s->reported &= ~s->deferred;
    s->deferred = 0;
    s->recheck = true;
  }
}

/* ---- callbacks: a waiting thread, the reactor ---- */

static void on_ready(void *ctx, short revents) {
  struct sock *s = ctx;
  pthread_mutex_lock(&wse_reactor_mutex);
  if (s->active) {
    short stale = revents & stale_events(s);
    /* Only stale interest (FD_READ reported, its data not read yet):
     * nothing to record, stop polling it. */
    if (revents == stale)
      ;
    /* The common case costs no system call: data on a connected stream
     * socket whose FD_READ is enabled. */
    else if (revents == POLLIN && s->type == SOCK_STREAM && s->connected &&
             !(s->reported & BIT(READ)))
      post(s, WSEVENT_FD_READ_BIT, 0);
    else
      look(s, ON_POLL);
    if (s->active)
      sync_polled(s, stale);
  }
  wse_reactor_unlock();
}

static void on_waiting(void *ctx) {
  struct sock *s = ctx;
  pthread_mutex_lock(&wse_reactor_mutex);
  if (s->active) {
    /* The program has had its chance to read since the enumeration: the
     * waiter's own poll now looks at what is re-enabled (every unseen
     * bit, also FD_READ reported only to gate the close check). */
    /* A bit still reported now was not re-enabled by a call the library
     * saw (that call takes it): the program read with its own, even if it
     * used the library's before.  Only a selection whose every call is
     * seen keeps its bits until those calls. */
    s->deferred |= s->reported & REENABLED_BY_CALLS & ~s->all_seen;
    bool reenabled = s->deferred != 0;
    reenable_unseen(s);
    s->recheck = false;
    /* Nobody polls it: the event's descriptor was just handed out.  The
     * reactor's edges for what was re-enabled are long gone: look. */
    if (reenabled && up()->xSourceWatchers(s->served.source) == 0)
      look(s, AT_ENUM);
    if (s->active) {
      sync_polled(s, 0);
      wse_served_touch(&s->served);
    }
  }
  wse_reactor_unlock();
}

static void on_watchers_changed(void *ctx) {
  wse_served_changed(&((struct sock *)ctx)->served);
}

static void forget(struct sock *s, bool still_open);

/* The source is gone: detached by us (already forgotten), or because the
 * event was closed (still in our tables: forget it first). */
static void on_detached(void *ctx) {
  struct sock *s = ctx;
  pthread_mutex_lock(&wse_reactor_mutex);
  if (s->active)
    forget(s, same_file(s));
  pthread_mutex_unlock(&wse_reactor_mutex);
  free(s);
}

static const struct wsevent_source_ops sock_ops = {
    .ready = on_ready,
    .watchers_changed = on_watchers_changed,
    .detached = on_detached,
    .waiting = on_waiting,
};

static void on_edge(void *ctx, uint32_t events, bool write_edge) {
  struct sock *s = ctx;
  if (!write_edge && events == EPOLLIN && s->type == SOCK_STREAM &&
      s->connected) {
    /* New data, nothing else: no system call needed (a busy server's
     * sockets are served here while it is not waiting).  If FD_READ is
     * reported, remember the edge: its re-enabling call must look, since
     * the edge will not come again for this data.  The edge may be for
     * bytes a receive took while it was on its way: the program then
     * finds nothing to read, which Microsoft asks robust Winsock code to
     * expect (WSAEWOULDBLOCK after FD_READ); looking first would cost a
     * system call per message served here. */
    if (s->reported & BIT(READ))
      s->input_edge = true;
    else
      post(s, WSEVENT_FD_READ_BIT, 0);
    sync_polled(s, 0);
    return;
  }
  if (write_edge && s->seen_block) {
    /* A send the library saw filled the buffer: FD_WRITE follows it
     * (write_wanted), not this edge too. */
    s->seen_block = false;
  } else if (write_edge && !(s->all_seen & BIT(WRITE))) {
    /* Space came back after a send that filled the buffer: FD_WRITE's
     * re-enabling, for sends the library did not see. */
    s->reported &= ~BIT(WRITE);
  }
  /* (An edge taken by the select itself is what holds at the select.) */
  look(s, s->selecting ? AT_SELECT : write_edge ? ON_WRITE_EDGE : ON_EDGE);
  if (s->active)
    sync_polled(s, 0);
}

/* ---- selection ---- */

/* Out of the reactor and the table (still_open: fd is still ours, so its
 * epoll registrations may be deleted by number). */
static void forget(struct sock *s, bool still_open) {
  if (still_open)
    wse_reactor_del(s->fd, true);
  wse_served_stop(&s->served, still_open);
  wse_reactor_unregister(s->writes_io);
  socks[s->fd] = NULL;
  s->active = false;
}

static void drop(struct sock *s, bool still_open) {
  forget(s, still_open);
  wse_reactor_detach(&s->served); /* then detached() frees it */
}

static int grow(int fd) {
  if (fd < n_socks)
    return WSEVENT_OK;
  int n = n_socks ? n_socks : 64;
  while (n <= fd)
    n *= 2;
  struct sock **t = realloc(socks, (size_t)n * sizeof *t);
  if (t == NULL)
    return WSEVENT_ENOMEM;
  memset(t + n_socks, 0, (size_t)(n - n_socks) * sizeof *t);
  socks = t;
  n_socks = n;
  return WSEVENT_OK;
}

/* Under the mutex: select fd (a socket, st its fstat) for event and mask. */
static int select_locked(int fd, const struct stat *st, wsevent_t event,
                         long mask, unsigned flags) {
  int r = grow(fd);
  if (r == WSEVENT_OK && mask != 0)
    r = wse_reactor_start();
  if (r != WSEVENT_OK)
    return r;
  if (socks[fd] != NULL)
    drop(socks[fd], true); /* a new select replaces the old one */
  if (mask == 0)
    return WSEVENT_OK; /* cancelled; the record went with it */

  struct sock *s = calloc(1, sizeof *s);
  if (s == NULL)
    return WSEVENT_ENOMEM;
  s->fd = fd;
  s->event = event;
  s->mask = mask;
  if (flags & WSEVENT_SELECT_CALLS_SEEN)
    s->visible = s->all_seen = REENABLED_BY_CALLS | BIT(WRITE);
  s->type = getint(fd, SOL_SOCKET, SO_TYPE);
  s->dev = st->st_dev;
  s->ino = st->st_ino;
  r = wse_served_init(&s->served, on_edge, s, fd,
                      EPOLLIN | EPOLLPRI | EPOLLRDHUP | EPOLLET);
  if (r == WSEVENT_OK)
    r = wse_reactor_register(on_edge, s, &s->writes_io);
  /* Output edges only for what reports them: without FD_WRITE or
   * FD_CONNECT, each send's returning space would wake the reactor for
   * nothing (a look, a system call or three, the mutex taken from the
   * program that sent). */
  if (r == WSEVENT_OK && (mask & (BIT(WRITE) | BIT(CONNECT))))
    r = wse_reactor_add(s->writes_io, fd, EPOLLOUT | EPOLLET, true);
  if (r == WSEVENT_OK)
    r = up()->xSourceAttach(event, &sock_ops, s, fd, 0, &s->served.source);
  if (r != WSEVENT_OK) {
    wse_reactor_del(fd, true);
    wse_reactor_unregister(s->writes_io);
    wse_reactor_unregister(s->served.io);
    free(s);
    return r == WSEVENT_EINVAL ? WSEVENT_EINVAL_HANDLE : r;
  }
  s->active = true;
  socks[fd] = s;
  wse_reactor_stand_in(event);
  /* Registering a writable socket queued a write edge: take it now, so
   * that this select reports FD_WRITE once, not again later. */
  s->selecting = true;
  wse_reactor_take_write_edges();
  s->selecting = false;
  if (s->active)
    look(s, AT_SELECT); /* conditions that already hold */
  if (s->active) {
    r = wse_served_update(&s->served); /* nobody polls it yet: serve it */
    sync_polled(s, 0);
  }
  return r;
}

int wsevent_event_select(int fd, wsevent_t event, long mask) {
  return wsevent_event_select_ex(fd, event, mask, 0);
}

int wsevent_event_select_ex(int fd, wsevent_t event, long mask, unsigned flags) {
  struct stat st;
  if (fd < 0 || (flags & ~WSEVENT_SELECT_CALLS_SEEN))
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
  int r = select_locked(fd, &st, event, mask, flags);
  wse_reactor_unlock();
  return r;
}

int wsevent_enum_network_events(int fd, wsevent_t event_to_reset,
                                struct wsevent_network_events *out) {
  return wsevent_enum_network_events_ex(fd, event_to_reset, out, 0);
}

int wsevent_enum_network_events_ex(int fd, wsevent_t event_to_reset,
                                   struct wsevent_network_events *out,
                                   unsigned flags) {
  struct stat st;
  int r = WSEVENT_OK;

  if (fd < 0)
    return WSEVENT_ENOTSOCK;
  int bad = out == NULL || (flags & ~WSEVENT_ENUM_SAME_SOCKET) ? WSEVENT_EINVAL
            : event_to_reset != 0 && up()->xIsSet(event_to_reset) < 0
                ? WSEVENT_EINVAL_HANDLE
                : WSEVENT_OK;
  pthread_mutex_lock(&wse_reactor_mutex);
  /* One fstat(2) for a selected socket (the check that it is still the
   * file we selected says it is a socket), unless the caller vouches for
   * it; one for any other. */
  struct sock *s = sock_of(fd);
  if (s != NULL && !(flags & WSEVENT_ENUM_SAME_SOCKET) && !same_file(s)) {
    drop(s, false);
    s = NULL;
  }
  if (s == NULL && (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode)))
    bad = WSEVENT_ENOTSOCK; /* before the NULL check, as Windows */
  if (bad != WSEVENT_OK) {
    wse_reactor_unlock();
    return bad;
  }
  memset(out, 0, sizeof *out);
  /* The next enumeration after bits were re-enabled looks at them. */
  if (s != NULL)
    reenable_unseen(s);
  if (s != NULL && s->recheck) {
    s->recheck = false;
    look(s, AT_ENUM);
    if (!s->active)
      s = NULL;
  }
  if (s != NULL) {
    /* Copy, clear and reset in one step under the mutex that every
     * recording takes. */
    out->network_events = s->record;
    memcpy(out->error_code, s->errors, sizeof out->error_code);
    s->record = 0;
    memset(s->errors, 0, sizeof s->errors);
  }
  /* The sets of what was copied (a look just above) before the reset. */
  wse_reactor_flush_sets();
  if (event_to_reset != 0 && up()->xReset(event_to_reset) != WSEVENT_OK)
    r = WSEVENT_EINVAL_HANDLE;
  if (s != NULL) {
    /* What was just taken and has unseen calls is re-enabled later, not
     * now: an edge already on its way for the data taken must not record
     * it again. */
    s->deferred |= s->reported & REENABLED_BY_CALLS & ~s->visible;
    unsigned ev_flags = 0;
    /* A descriptor poller may never wait, and waiters do not poll the
     * sources of a crowded event (so never call waiting()): re-enable and
     * look now, miss nothing. */
    if (s->deferred && up()->xGetFlags(s->event, &ev_flags) == WSEVENT_OK &&
        (ev_flags & (WSEVENT_HAS_DESCRIPTOR | WSEVENT_SOURCES_NOT_POLLED))) {
      reenable_unseen(s);
      s->recheck = false;
      look(s, AT_ENUM);
    }
    if (s->active)
      sync_polled(s, 0);
  }
  wse_reactor_unlock();
  return r;
}

/* ---- the socket calls the library sees ---- */

/* After a call on fd: re-enable `bits` as Winsock's call would, and look
 * again (data left after a recv is recorded again at once) unless the
 * call showed there is nothing to find. */
enum left { MAYBE_LEFT, STREAM_DRAINED, NOTHING_LEFT };

static void reenable(int fd, long bits, bool would_block, enum left left) {
  pthread_mutex_lock(&wse_reactor_mutex);
  struct sock *s = sock_of(fd);
  if (s != NULL) {
    s->visible |= bits;
    if (bits & BIT(WRITE)) {
      /* Only a send that would block re-enables FD_WRITE. */
      s->write_wanted = would_block;
      if (would_block) {
        s->reported &= ~BIT(WRITE);
        s->seen_block = true;
      }
      bits &= ~BIT(WRITE);
    }
    /* The call takes what was recorded for its bits, as Wine's server
     * does (Windows' documentation is silent): a record stays only if the
     * condition still holds (the look below records it again), so an
     * accept that took the last connection leaves no stale FD_ACCEPT. */
    /* A record of these bits made since the enumeration may be for what
     * came after the call looked (its edge is gone): look again. */
    bool recorded = (s->record & bits) != 0;
    s->reported &= ~bits;
    s->record &= ~bits;
    if (left == MAYBE_LEFT || s->input_edge || recorded ||
        (left == STREAM_DRAINED &&
         (s->type != SOCK_STREAM ||
          (s->peer_closed && !(s->fired & BIT(CLOSE))))))
      look(s, ON_CALL);
    if (s->active)
      sync_polled(s, 0);
  }
  wse_reactor_unlock();
}

static bool would_block(ssize_t n) {
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* After a receive that asked for `want` bytes and returned n (err its
 * errno): re-enable as Winsock's recv does. */
static void received(int fd, ssize_t n, int err, size_t want, int flags) {
  /* A stream read that did not fill the buffer took all there was (new
   * data is caught by the poll, FD_READ being enabled again); nor does one
   * that would block leave anything.  So no look, no system call: the
   * common case of an echo loop.  A peek re-enables too (Windows names
   * recv, whatever its flags), and leaves what it saw: FD_READ again. */
  enum left left = MAYBE_LEFT;
  if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK))
    left = NOTHING_LEFT;
  else if (n > 0 && (size_t)n < want && !(flags & (MSG_OOB | MSG_PEEK)))
    left = STREAM_DRAINED;
  reenable(fd, (flags & MSG_OOB) ? BIT(OOB) : BIT(READ), false, left);
  errno = err;
}

/* After a send: nothing to look at (a send that blocked waits for room,
 * polled; one that did not re-enables nothing). */
static void sent(int fd, ssize_t n, int err) {
  reenable(fd, BIT(WRITE), would_block(n), NOTHING_LEFT);
  errno = err;
}

/* Each call makes the system call of its own name (recv and send make
 * recvfrom and sendto, as the C library's do; the msghdr ones cost more
 * in the kernel). */
ssize_t wsevent_recvmsg(int fd, struct msghdr *msg, int flags) {
  size_t want = 0;
  for (size_t i = 0; i < (size_t)msg->msg_iovlen; i++)
    want += msg->msg_iov[i].iov_len;
  ssize_t n = recvmsg(fd, msg, flags);
  received(fd, n, errno, want, flags);
  return n;
}

ssize_t wsevent_recv(int fd, void *buf, size_t len, int flags) {
  return wsevent_recvfrom(fd, buf, len, flags, NULL, NULL);
}

ssize_t wsevent_recvfrom(int fd, void *buf, size_t len, int flags,
                         struct sockaddr *from, socklen_t *fromlen) {
  ssize_t n = recvfrom(fd, buf, len, flags, from, fromlen);
  received(fd, n, errno, len, flags);
  return n;
}

ssize_t wsevent_sendmsg(int fd, const struct msghdr *msg, int flags) {
  ssize_t n = sendmsg(fd, msg, flags | MSG_NOSIGNAL);
  sent(fd, n, errno);
  return n;
}

ssize_t wsevent_send(int fd, const void *buf, size_t len, int flags) {
  return wsevent_sendto(fd, buf, len, flags, NULL, 0);
}

ssize_t wsevent_sendto(int fd, const void *buf, size_t len, int flags,
                       const struct sockaddr *to, socklen_t tolen) {
  ssize_t n = sendto(fd, buf, len, flags | MSG_NOSIGNAL, to, tolen);
  sent(fd, n, errno);
  return n;
}

int wsevent_accept(int fd, struct sockaddr *addr, socklen_t *addrlen) {
  int c = accept4(fd, addr, addrlen, SOCK_CLOEXEC);
  int err = errno;
  pthread_mutex_lock(&wse_reactor_mutex);
  if (c >= 0)
    wse_overlapped_fresh(c);
  struct sock *s = sock_of(fd);
  if (s != NULL && c >= 0) {
    /* As Winsock: the accepted socket has the listener's selection (and
     * so is non-blocking, as a selected socket is). */
    struct stat st;
    int fl = fcntl(c, F_GETFL);
    unsigned flags = s->all_seen ? WSEVENT_SELECT_CALLS_SEEN : 0;
    if (fstat(c, &st) == 0 && fl >= 0 && fcntl(c, F_SETFL, fl | O_NONBLOCK) == 0)
      select_locked(c, &st, s->event, s->mask, flags);
  }
  wse_reactor_unlock();
  reenable(fd, BIT(ACCEPT), false, MAYBE_LEFT);
  errno = err;
  return c;
}

int wsevent_socket_closing(int fd) {
  pthread_mutex_lock(&wse_reactor_mutex);
  struct sock *s = sock_of(fd);
  if (s != NULL)
    drop(s, true);
  bool had_ops = wse_overlapped_closing(fd);
  wse_reactor_unlock();
  return s != NULL || had_ops ? WSEVENT_OK : WSEVENT_ENOTSOCK;
}

int wsevent_socket_selection(int fd, wsevent_t *event, long *mask) {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
    return WSEVENT_ENOTSOCK;
  if (event == NULL || mask == NULL)
    return WSEVENT_EINVAL;
  pthread_mutex_lock(&wse_reactor_mutex);
  struct sock *s = sock_of(fd);
  if (s != NULL && !same_file(s)) {
    drop(s, false);
    s = NULL;
  }
  *event = s != NULL ? s->event : 0;
  *mask = s != NULL ? s->mask : 0;
  wse_reactor_unlock();
  return WSEVENT_OK;
}

void wse_select_forget(void) {
  /* In a fork child: the core forgot the sources without calling them. */
  for (int i = 0; i < n_socks; i++)
    free(socks[i]);
  free(socks);
  socks = NULL;
  n_socks = 0;
}
