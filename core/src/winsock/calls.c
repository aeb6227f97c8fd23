/*
 * calls.c: the BSD socket calls as Winsock makes them (wsevent/winsock2.h
 * maps socket, bind, connect, recv, select... here).
 *
 * Each call makes the system call and reports a failure as Windows does,
 * in the last error: the errno mapped, or what Windows says where Linux
 * answers otherwise (a descriptor that is no socket, a send after
 * shutdown, a truncated datagram, a connect on a connected socket, a
 * receive timeout).  It takes Windows' arguments where they differ (int
 * lengths, SO_RCVTIMEO in milliseconds, select's ignored nfds) and, for
 * recv, send and accept, re-enables network events as Windows' calls do
 * (wsevent_recv and friends).  A call that succeeds leaves the last error
 * and errno as they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/tcp.h> /* the kernel's struct tcp_info, TCP_INFO */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* ---- what shutdown() did, per descriptor ----
 *
 * Linux answers a send after shutdown(SHUT_WR) with EPIPE, as for a
 * connection reset, and a receive after shutdown(SHUT_RD) with 0 bytes, as
 * for the peer's FIN; Windows says WSAESHUTDOWN for both.  So shutdown
 * records what it shut, with the file's identity (a number closed behind
 * our back and reused is not the socket that was shut down).  Only a call
 * that failed looks, and a receive once some socket was shut down for
 * receiving (rare, where shutdown(SD_SEND) before closesocket is the
 * usual close: a receive must not pay for those). */
struct shut {
  dev_t dev;
  ino_t ino;
  unsigned char how; /* bit 0: receive, bit 1: send */
};
enum { SHUT_RECEIVE = 1, SHUT_SEND = 2 };
static pthread_mutex_t shut_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct shut *shuts;
static int n_shuts;
static _Atomic int any_shut, any_shut_receive;

static int shut_bits(SOCKET s) {
  if (!atomic_load_explicit(&any_shut, memory_order_relaxed) || s < 0)
    return 0;
  struct shut entry = {0};
  pthread_mutex_lock(&shut_mutex);
  if (s < n_shuts)
    entry = shuts[s];
  pthread_mutex_unlock(&shut_mutex);
  struct stat st; /* only for a number something was shut on */
  if (entry.how == 0 || fstat(s, &st) < 0 || entry.dev != st.st_dev ||
      entry.ino != st.st_ino)
    return 0;
  return entry.how;
}

static void note_shutdown(SOCKET s, int how) {
  struct stat st;
  if (fstat(s, &st) < 0)
    return;
  pthread_mutex_lock(&shut_mutex);
  if (s >= n_shuts) {
    int n = n_shuts ? n_shuts : 64;
    while (n <= s)
      n *= 2;
    struct shut *t = realloc(shuts, (size_t)n * sizeof *t);
    if (t == NULL) { /* then Linux's answers stand */
      pthread_mutex_unlock(&shut_mutex);
      return;
    }
    memset(t + n_shuts, 0, (size_t)(n - n_shuts) * sizeof *t);
    shuts = t;
    n_shuts = n;
  }
  if (shuts[s].dev != st.st_dev || shuts[s].ino != st.st_ino)
    shuts[s].how = 0;
  shuts[s].dev = st.st_dev;
  shuts[s].ino = st.st_ino;
  shuts[s].how |= (unsigned char)how;
  atomic_store(&any_shut, 1);
  if (how & SHUT_RECEIVE)
    atomic_store(&any_shut_receive, 1);
  pthread_mutex_unlock(&shut_mutex);
}

void wse_ws_forget(SOCKET s) {
  if (!atomic_load_explicit(&any_shut, memory_order_relaxed) || s < 0)
    return;
  pthread_mutex_lock(&shut_mutex);
  if (s < n_shuts)
    shuts[s].how = 0;
  pthread_mutex_unlock(&shut_mutex);
}

static bool has_peer(SOCKET s) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  return getpeername(s, (struct sockaddr *)&a, &len) == 0;
}

static bool is_blocking(SOCKET s) {
  int fl = fcntl(s, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

void wse_ws_fail_errno(SOCKET s, int err) {
  int code = wse_ws_from_errno(err);
  if (err == EPIPE && (shut_bits(s) & SHUT_SEND))
    code = WSAESHUTDOWN; /* else the connection was reset */
  else if ((err == EAGAIN || err == EWOULDBLOCK) && is_blocking(s))
    code = WSAETIMEDOUT; /* SO_RCVTIMEO or SO_SNDTIMEO ran out */
  errno = err; /* first: the last error is recorded with the errno it leaves */
  WSASetLastError(code);
}

static int failed(SOCKET s, int err) {
  wse_ws_fail_errno(s, err);
  return SOCKET_ERROR;
}

static int fail_with(int code) {
  wse_ws_fail(code);
  return SOCKET_ERROR;
}

static int socket_type(SOCKET s) {
  int type = -1;
  socklen_t len = sizeof type;
  if (getsockopt(s, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
    return -1;
  return type;
}

/* An Internet socket's port (0: not bound), or -1 for other families. */
static int bound_port(SOCKET s) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  if (getsockname(s, (struct sockaddr *)&a, &len) < 0)
    return -1;
  if (a.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&a)->sin_port);
  if (a.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
  return -1;
}

/* An address shorter than its family's structure: Windows says
 * WSAEFAULT ("the namelen parameter is too small"), Linux EINVAL. */
static bool too_short(const struct sockaddr *sa, int len) {
  if (sa == NULL || len < (int)sizeof(sa_family_t))
    return true;
  switch (sa->sa_family) {
  case AF_INET: return len < (int)sizeof(struct sockaddr_in);
  case AF_INET6: return len < (int)sizeof(struct sockaddr_in6);
  default: return false;
  }
}

/* ---- creation, addresses, connections ---- */

SOCKET wsevent_ws_socket(int af, int type, int protocol) {
  int saved = errno;
  if (!wse_ws_started())
    return INVALID_SOCKET;
  int s = socket(af, type, protocol);
  if (s < 0) {
    int err = errno, base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    /* Linux says EINVAL for a type it does not know; Windows names it. */
    bool known = base == SOCK_STREAM || base == SOCK_DGRAM || base == SOCK_RAW ||
                 base == SOCK_RDM || base == SOCK_SEQPACKET;
    if (err == EINVAL && !known)
      fail_with(WSAESOCKTNOSUPPORT);
    else
      failed(-1, err);
    return INVALID_SOCKET;
  }
  wse_ws_forget(s);
  errno = saved;
  return s;
}

int wsevent_ws_bind(SOCKET s, const struct sockaddr *name, int namelen) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (too_short(name, namelen))
    return fail_with(WSAEFAULT);
  if (bind(s, name, (socklen_t)namelen) < 0)
    return failed(s, errno);
  errno = saved;
  return 0;
}

int wsevent_ws_listen(SOCKET s, int backlog) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  /* Linux binds an unbound socket to a port of its choice; Windows:
   * "WSAEINVAL: The socket has not been bound with bind." */
  if (bound_port(s) == 0)
    return fail_with(WSAEINVAL);
  if (listen(s, backlog) < 0) {
    int err = errno;
    if (err == EINVAL && has_peer(s))
      return fail_with(WSAEISCONN); /* "The socket is already connected." */
    return failed(s, err);
  }
  errno = saved;
  return 0;
}

int wsevent_ws_connect(SOCKET s, const struct sockaddr *name, int namelen) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (too_short(name, namelen))
    return fail_with(WSAEFAULT);
  /* A stream socket connected already (a non-blocking connect that has
   * completed, which Linux reports once more with 0): WSAEISCONN, what a
   * loop calling connect until it says so waits for. */
  if (socket_type(s) == SOCK_STREAM && has_peer(s))
    return fail_with(WSAEISCONN);
  if (connect(s, name, (socklen_t)namelen) < 0)
    return failed(s, errno);
  errno = saved;
  return 0;
}

SOCKET wsevent_ws_accept(SOCKET s, struct sockaddr *addr, int *addrlen) {
  int saved = errno;
  if (!wse_ws_started())
    return INVALID_SOCKET;
  if (addr != NULL && (addrlen == NULL || *addrlen < (int)sizeof(sa_family_t))) {
    wse_ws_fail(WSAEFAULT);
    return INVALID_SOCKET;
  }
  socklen_t len = addrlen != NULL ? (socklen_t)*addrlen : 0;
  int c = wsevent_accept(s, addr, addr != NULL ? &len : NULL);
  if (c < 0) {
    int err = errno;
    /* "An incoming connection was indicated, but was subsequently
     * terminated by the remote peer prior to accepting the call." */
    if (err == ECONNABORTED)
      wse_ws_fail(WSAECONNRESET);
    else
      failed(s, err);
    return INVALID_SOCKET;
  }
  if (addr != NULL)
    *addrlen = (int)len;
  wse_ws_forget(c);
  errno = saved;
  return c;
}

int wsevent_ws_shutdown(SOCKET s, int how) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (how != SD_RECEIVE && how != SD_SEND && how != SD_BOTH)
    return fail_with(WSAEINVAL);
  if (shutdown(s, how) < 0)
    return failed(s, errno);
  note_shutdown(s, how == SD_RECEIVE ? SHUT_RECEIVE
                   : how == SD_SEND  ? SHUT_SEND
                                     : SHUT_RECEIVE | SHUT_SEND);
  errno = saved;
  return 0;
}

/* getsockname and getpeername: Windows fails a buffer too small
 * (WSAEFAULT) where Linux truncates, and names no unbound socket. */
static int get_name(SOCKET s, struct sockaddr *name, int *namelen, bool peer) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (name == NULL || namelen == NULL || *namelen < 0)
    return fail_with(WSAEFAULT);
  socklen_t len = (socklen_t)*namelen;
  int r = peer ? getpeername(s, name, &len) : getsockname(s, name, &len);
  if (r < 0)
    return failed(s, errno);
  if (len > (socklen_t)*namelen)
    return fail_with(WSAEFAULT);
  /* "WSAEINVAL: The socket has not been bound to an address with bind." */
  if (!peer && bound_port(s) == 0)
    return fail_with(WSAEINVAL);
  *namelen = (int)len;
  errno = saved;
  return 0;
}

int wsevent_ws_getsockname(SOCKET s, struct sockaddr *name, int *namelen) {
  return get_name(s, name, namelen, false);
}

int wsevent_ws_getpeername(SOCKET s, struct sockaddr *name, int *namelen) {
  return get_name(s, name, namelen, true);
}

/* ---- transfers ---- */

static int check_transfer(const void *buf, int len) {
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (len < 0 || (buf == NULL && len > 0))
    return fail_with(WSAEFAULT);
  return 0;
}

int wsevent_ws_recvfrom(SOCKET s, void *buf, int len, int flags,
                        struct sockaddr *from, int *fromlen) {
  int saved = errno;
  if (check_transfer(buf, len) < 0)
    return SOCKET_ERROR;
  if (from != NULL && (fromlen == NULL || *fromlen < 0))
    return fail_with(WSAEFAULT);
  /* "it is not possible to receive on a socket after shutdown has been
   * invoked with how set to SD_RECEIVE or SD_BOTH" */
  if (atomic_load_explicit(&any_shut_receive, memory_order_relaxed) &&
      (shut_bits(s) & SHUT_RECEIVE))
    return fail_with(WSAESHUTDOWN);
  /* recvmsg, for the flags: a datagram that did not fit fails with
   * WSAEMSGSIZE, the buffer filled, as Windows does. */
  struct iovec iov = {buf, (size_t)len};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (from != NULL) {
    m.msg_name = from;
    m.msg_namelen = (socklen_t)*fromlen;
  }
  ssize_t n = wsevent_recvmsg(s, &m, flags);
  if (n < 0)
    return failed(s, errno);
  if (from != NULL)
    *fromlen = (int)m.msg_namelen;
  if (m.msg_flags & MSG_TRUNC)
    return fail_with(WSAEMSGSIZE);
  errno = saved;
  return (int)n;
}

int wsevent_ws_recv(SOCKET s, void *buf, int len, int flags) {
  return wsevent_ws_recvfrom(s, buf, len, flags, NULL, NULL);
}

int wsevent_ws_sendto(SOCKET s, const void *buf, int len, int flags,
                      const struct sockaddr *to, int tolen) {
  int saved = errno;
  if (check_transfer(buf, len) < 0)
    return SOCKET_ERROR;
  if (to != NULL && too_short(to, tolen))
    return fail_with(WSAEFAULT);
  ssize_t n = to != NULL ? wsevent_sendto(s, buf, (size_t)len, flags, to,
                                          (socklen_t)tolen)
                         : wsevent_send(s, buf, (size_t)len, flags);
  if (n < 0) {
    /* send on a datagram socket that has no peer: "WSAENOTCONN: The
     * socket is not connected" (Linux: EDESTADDRREQ). */
    if (errno == EDESTADDRREQ && to == NULL)
      return fail_with(WSAENOTCONN);
    return failed(s, errno);
  }
  errno = saved;
  return (int)n;
}

int wsevent_ws_send(SOCKET s, const void *buf, int len, int flags) {
  return wsevent_ws_sendto(s, buf, len, flags, NULL, 0);
}

/* ---- options ---- */

static bool is_timeout(int level, int optname) {
  return level == SOL_SOCKET && (optname == SO_RCVTIMEO || optname == SO_SNDTIMEO);
}

/* The levels Linux knows for a socket, so that an unknown one is
 * WSAEINVAL ("level is not valid"), an unknown option WSAENOPROTOOPT. */
static bool known_level(int level) {
  return level == SOL_SOCKET || level == IPPROTO_IP || level == IPPROTO_IPV6 ||
         level == IPPROTO_TCP || level == IPPROTO_UDP || level == IPPROTO_ICMP ||
         level == IPPROTO_ICMPV6 || level == IPPROTO_RAW;
}

int wsevent_ws_setsockopt(SOCKET s, int level, int optname, const void *optval,
                          int optlen) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (optlen < 0 || (optval == NULL && optlen > 0))
    return fail_with(WSAEFAULT);
  if (level == SOL_SOCKET && optname == SO_EXCLUSIVEADDRUSE) {
    /* Linux's default binding (see winsock2.h): checked, then kept. */
    if (optlen < (int)sizeof(int))
      return fail_with(WSAEFAULT);
    if (socket_type(s) < 0)
      return failed(s, errno);
    errno = saved;
    return 0;
  }
  struct timeval tv;
  if (is_timeout(level, optname) && optlen == (int)sizeof(DWORD)) {
    /* Windows' SO_RCVTIMEO and SO_SNDTIMEO: a DWORD of milliseconds. */
    DWORD ms;
    memcpy(&ms, optval, sizeof ms);
    tv.tv_sec = (time_t)(ms / 1000);
    tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    optval = &tv;
    optlen = (int)sizeof tv;
  }
  if (setsockopt(s, level, optname, optval, (socklen_t)optlen) < 0) {
    int err = errno;
    if ((err == ENOPROTOOPT || err == EOPNOTSUPP) && !known_level(level))
      return fail_with(WSAEINVAL);
    if (err == EINVAL && optlen < (int)sizeof(int))
      return fail_with(WSAEFAULT); /* "optlen parameter ... too small" */
    return failed(s, err);
  }
  errno = saved;
  return 0;
}

int wsevent_ws_getsockopt(SOCKET s, int level, int optname, void *optval,
                          int *optlen) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (optlen == NULL || *optlen < 0 || (optval == NULL && *optlen > 0))
    return fail_with(WSAEFAULT);
  if (is_timeout(level, optname) && *optlen == (int)sizeof(DWORD)) {
    struct timeval tv;
    socklen_t len = sizeof tv;
    if (getsockopt(s, level, optname, &tv, &len) < 0)
      return failed(s, errno);
    DWORD ms = (DWORD)(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    memcpy(optval, &ms, sizeof ms);
    errno = saved;
    return 0;
  }
  /* Every option Windows answers is an int, a BOOL, a DWORD or larger:
   * "WSAEFAULT: ... the optlen parameter is too small" (Linux truncates). */
  if (*optlen < (int)sizeof(int))
    return fail_with(WSAEFAULT);
  socklen_t len = (socklen_t)*optlen;
  if (getsockopt(s, level, optname, optval, &len) < 0) {
    int err = errno;
    /* (A TCP socket answers an unknown level with EOPNOTSUPP.) */
    if ((err == ENOPROTOOPT || err == EOPNOTSUPP) && !known_level(level))
      return fail_with(WSAEINVAL);
    return failed(s, err);
  }
  /* SO_ERROR is a Winsock error on Windows (WSAECONNREFUSED after a
   * refused connect), which code compares with the WSAE* names. */
  if (level == SOL_SOCKET && optname == SO_ERROR && len >= sizeof(int)) {
    int e;
    memcpy(&e, optval, sizeof e);
    e = wse_ws_from_errno(e);
    memcpy(optval, &e, sizeof e);
  }
  *optlen = (int)len;
  errno = saved;
  return 0;
}

/* ---- select ---- */

/* A stream socket whose connect failed: Windows reports it in exceptfds,
 * not writefds (Linux reports it readable and writable).  TCP_INFO tells
 * without taking the error, which the program reads next. */
static bool connect_failed(SOCKET s) {
  struct tcp_info info;
  socklen_t len = sizeof info;
  return getsockopt(s, IPPROTO_TCP, TCP_INFO, &info, &len) == 0 &&
         info.tcpi_state == 7 /* TCP_CLOSE */ && info.tcpi_segs_in <= 1 &&
         info.tcpi_segs_out > 0 && !has_peer(s);
}

int wsevent_ws_select(int nfds, fd_set *readfds, fd_set *writefds,
                      fd_set *exceptfds, const struct timeval *timeout) {
  (void)nfds; /* "Ignored. The nfds parameter is included only for
                 compatibility with Berkeley sockets." */
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  int top = -1;
  fd_set *sets[3] = {readfds, writefds, exceptfds};
  for (int fd = FD_SETSIZE - 1; fd >= 0 && top < 0; fd--)
    for (int i = 0; i < 3; i++)
      if (sets[i] != NULL && FD_ISSET(fd, sets[i])) {
        top = fd;
        break;
      }
  /* "WSAEINVAL: The time-out value is not valid, or all three descriptor
   * parameters were null." (empty sets too, as Windows answers) */
  if (top < 0 || (timeout != NULL && (timeout->tv_sec < 0 || timeout->tv_usec < 0 ||
                                      timeout->tv_usec >= 1000000)))
    return fail_with(WSAEINVAL);
  fd_set want_except;
  if (exceptfds != NULL)
    want_except = *exceptfds;
  /* Windows leaves the caller's timeval as it was; Linux counts it down. */
  struct timeval tv, *tp = NULL;
  if (timeout != NULL) {
    tv = *timeout;
    tp = &tv;
  }
  int n = select(top + 1, readfds, writefds, exceptfds, tp);
  if (n < 0)
    return failed(-1, errno);
  if (writefds != NULL && exceptfds != NULL) {
    for (int fd = 0; fd <= top; fd++) {
      if (!FD_ISSET(fd, writefds) || !FD_ISSET(fd, &want_except) ||
          !connect_failed(fd))
        continue;
      FD_CLR(fd, writefds);
      if (readfds != NULL && FD_ISSET(fd, readfds)) {
        FD_CLR(fd, readfds);
        n--;
      }
      if (FD_ISSET(fd, exceptfds))
        n--; /* counted once, below */
      FD_SET(fd, exceptfds);
    }
  }
  errno = saved;
  return n;
}

/* ---- WSAPoll, WSAConnect, WSAAccept ---- */

/* The events WSAPoll takes; anything else is WSAEINVAL ("invalid flags
 * were requested in the events member"). */
#define POLL_ASKABLE                                                          \
  (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI | POLLOUT | POLLWRNORM | POLLWRBAND)

int WSAPoll(LPWSAPOLLFD fds, ULONG count, INT timeout) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (fds == NULL)
    return fail_with(WSAEFAULT);
  bool any = false;
  for (ULONG i = 0; i < count; i++) {
    if (fds[i].events & ~POLL_ASKABLE)
      return fail_with(WSAEINVAL);
    any = any || fds[i].fd >= 0;
    /* A peer's FIN is POLLHUP on Windows; Linux says it as POLLRDHUP. */
    if (fds[i].fd >= 0)
      fds[i].events |= POLLRDHUP;
  }
  if (!any) /* negative descriptors are ignored, as on Windows */
    return fail_with(WSAEINVAL);
  int n = poll(fds, (nfds_t)count, timeout < 0 ? -1 : timeout);
  int err = errno;
  bool valid = false;
  for (ULONG i = 0; i < count; i++) {
    if (fds[i].fd < 0)
      continue;
    fds[i].events &= (short)~POLLRDHUP;
    if (fds[i].revents & POLLRDHUP)
      fds[i].revents = (short)((fds[i].revents & ~POLLRDHUP) | POLLHUP);
    valid = valid || !(fds[i].revents & POLLNVAL);
  }
  if (n < 0)
    return failed(-1, err);
  /* "none of the sockets specified ... were valid" */
  if (!valid)
    return fail_with(WSAEINVAL);
  errno = saved;
  return n;
}

int WSAConnect(SOCKET s, const struct sockaddr *name, int namelen,
               LPWSABUF caller_data, LPWSABUF callee_data, LPQOS sqos, LPQOS gqos) {
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (caller_data != NULL || callee_data != NULL || sqos != NULL || gqos != NULL)
    return fail_with(WSAEOPNOTSUPP); /* TCP/IP carries no connect data */
  return wsevent_ws_connect(s, name, namelen);
}

SOCKET WSAAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                 LPCONDITIONPROC condition, DWORD_PTR data) {
  struct sockaddr_storage peer, local;
  int peer_len = sizeof peer;
  if (condition == NULL)
    return wsevent_ws_accept(s, addr, addrlen);
  int saved = errno;
  SOCKET c = wsevent_ws_accept(s, (struct sockaddr *)&peer, &peer_len);
  if (c == INVALID_SOCKET)
    return INVALID_SOCKET;
  socklen_t local_len = sizeof local;
  getsockname(c, (struct sockaddr *)&local, &local_len);
  WSABUF caller = {(ULONG)peer_len, (CHAR *)&peer};
  WSABUF callee = {(ULONG)local_len, (CHAR *)&local};
  GROUP g = 0;
  int verdict = condition(&caller, NULL, NULL, NULL, &callee, NULL, &g, data);
  if (verdict != CF_ACCEPT) {
    wsevent_socket_closing(c);
    close(c);
    wse_ws_fail(verdict == CF_DEFER ? WSATRY_AGAIN : WSAECONNREFUSED);
    return INVALID_SOCKET;
  }
  if (addr != NULL) {
    if (addrlen == NULL || *addrlen < peer_len) {
      wsevent_socket_closing(c);
      close(c);
      wse_ws_fail(WSAEFAULT);
      return INVALID_SOCKET;
    }
    memcpy(addr, &peer, (size_t)peer_len);
    *addrlen = peer_len;
  }
  errno = saved;
  return c;
}

/* ---- addresses as text ---- */

INT WSAAddressToStringA(LPSOCKADDR sa, DWORD salen, LPWSAPROTOCOL_INFO info,
                        LPSTR out, LPDWORD outlen) {
  char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 32];
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (sa == NULL || outlen == NULL || info != NULL)
    return fail_with(sa == NULL || outlen == NULL ? WSAEFAULT : WSAEINVAL);
  unsigned port;
  if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
    const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    port = ntohs(in->sin_port);
    if (port)
      snprintf(text, sizeof text, "%s:%u", host, port);
    else
      snprintf(text, sizeof text, "%s", host);
  } else if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
    const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
    char scope[16] = "";
    inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
    if (in6->sin6_scope_id)
      snprintf(scope, sizeof scope, "%%%u", (unsigned)in6->sin6_scope_id);
    port = ntohs(in6->sin6_port);
    if (port)
      snprintf(text, sizeof text, "[%s%s]:%u", host, scope, port);
    else
      snprintf(text, sizeof text, "%s%s", host, scope);
  } else {
    return fail_with(sa->sa_family == AF_INET || sa->sa_family == AF_INET6
                         ? WSAEFAULT
                         : WSAEINVAL);
  }
  DWORD need = (DWORD)strlen(text) + 1;
  if (out == NULL || *outlen < need) {
    *outlen = need;
    return fail_with(WSAEFAULT);
  }
  memcpy(out, text, need);
  *outlen = need;
  errno = saved;
  return 0;
}

/* "1.2.3.4", "1.2.3.4:80", "::1", "[::1]:80", "fe80::1%2", "[fe80::1%2]:80" */
INT WSAStringToAddressA(LPSTR text, INT family, LPWSAPROTOCOL_INFO info,
                        LPSOCKADDR out, LPINT outlen) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (text == NULL || out == NULL || outlen == NULL)
    return fail_with(WSAEFAULT);
  if (info != NULL || (family != AF_INET && family != AF_INET6))
    return fail_with(WSAEINVAL);
  char host[INET6_ADDRSTRLEN + 16];
  const char *port_text = NULL;
  size_t len = strlen(text);
  if (family == AF_INET6 && text[0] == '[') {
    const char *end = strchr(text, ']');
    if (end == NULL || (size_t)(end - text - 1) >= sizeof host ||
        (end[1] != '\0' && end[1] != ':'))
      return fail_with(WSAEINVAL);
    memcpy(host, text + 1, (size_t)(end - text - 1));
    host[end - text - 1] = '\0';
    port_text = end[1] == ':' ? end + 2 : NULL;
  } else {
    const char *colon = family == AF_INET ? strchr(text, ':') : NULL;
    size_t n = colon != NULL ? (size_t)(colon - text) : len;
    if (n >= sizeof host)
      return fail_with(WSAEINVAL);
    memcpy(host, text, n);
    host[n] = '\0';
    port_text = colon != NULL ? colon + 1 : NULL;
  }
  unsigned long port = 0;
  if (port_text != NULL) {
    char *end;
    port = strtoul(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || port > 65535)
      return fail_with(WSAEINVAL);
  }
  if (family == AF_INET) {
    struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &in.sin_addr) != 1)
      return fail_with(WSAEINVAL);
    if (*outlen < (int)sizeof in) {
      *outlen = (int)sizeof in;
      return fail_with(WSAEFAULT);
    }
    memcpy(out, &in, sizeof in);
    *outlen = (int)sizeof in;
  } else {
    struct sockaddr_in6 in6 = {.sin6_family = AF_INET6,
                               .sin6_port = htons((uint16_t)port)};
    char *percent = strchr(host, '%');
    if (percent != NULL) {
      char *end;
      *percent = '\0';
      in6.sin6_scope_id = (uint32_t)strtoul(percent + 1, &end, 10);
      if (percent[1] == '\0' || *end != '\0')
        return fail_with(WSAEINVAL);
    }
    if (inet_pton(AF_INET6, host, &in6.sin6_addr) != 1)
      return fail_with(WSAEINVAL);
    if (*outlen < (int)sizeof in6) {
      *outlen = (int)sizeof in6;
      return fail_with(WSAEFAULT);
    }
    memcpy(out, &in6, sizeof in6);
    *outlen = (int)sizeof in6;
  }
  errno = saved;
  return 0;
}
