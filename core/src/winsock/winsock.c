/*
 * winsock.c: the Winsock event API (wsevent/winsock2.h) over the core.
 *
 * Each call returns what Windows documents for it and sets the calling
 * thread's last error the same way; a call that succeeds leaves it as it
 * was (it keeps errno, which the last error follows).  Calls made before
 * WSAStartup fail with WSANOTINITIALISED, as they do on Windows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/stat.h>

#include "internal.h"

static _Atomic int startups;

/*
 * The last error.  On Windows every socket call sets it; here libc's
 * connect, recv, send... set errno instead.  So each failing call of ours
 * records its error with the errno it leaves behind; if errno has changed
 * since, a libc call failed later, and WSAGetLastError maps that errno.
 */
static _Thread_local int last_error, last_errno = -1;

int WSAGetLastError(void) {
  return errno == last_errno ? last_error : wse_ws_from_errno(errno);
}

void WSASetLastError(int error) {
  last_error = error;
  last_errno = errno;
}

void wse_ws_fail(int wsa) {
  int e;
  switch (wsa) {
  case WSA_INVALID_HANDLE: e = EBADF; break;
  case WSA_NOT_ENOUGH_MEMORY: case WSAENOBUFS: e = ENOMEM; break;
  case WSAENOTSOCK: e = ENOTSOCK; break;
  case WSAEFAULT: e = EFAULT; break;
  case WSAEMFILE: e = EMFILE; break;
  case WSANOTINITIALISED: e = EPERM; break;
  default: e = EINVAL;
  }
  errno = e;
  last_error = wsa;
  last_errno = e;
}

bool wse_ws_started(void) {
  if (atomic_load(&startups) > 0)
    return true;
  wse_ws_fail(WSANOTINITIALISED);
  return false;
}

int WSAStartup(WORD version, LPWSADATA data) {
  /* Winsock 1.0 does not exist; anything from 1.1 up is served as at most
   * 2.2.  The error is returned, not set as the last error. */
  if (LOBYTE(version) < 1 || (LOBYTE(version) == 1 && HIBYTE(version) < 1))
    return WSAVERNOTSUPPORTED;
  if (data == NULL)
    return WSAEFAULT;
  memset(data, 0, sizeof *data);
  data->wHighVersion = MAKEWORD(2, 2);
  data->wVersion = (LOBYTE(version) > 2 || (LOBYTE(version) == 2 && HIBYTE(version) >= 2))
                       ? MAKEWORD(2, 2)
                       : version;
  strcpy(data->szDescription, "wsevent Winsock event API on Linux");
  strcpy(data->szSystemStatus, "Running");
  atomic_fetch_add(&startups, 1);
  return 0;
}

int WSACleanup(void) {
  int n = atomic_load(&startups);
  while (n > 0 && !atomic_compare_exchange_weak(&startups, &n, n - 1))
    ;
  if (n <= 0) {
    wse_ws_fail(WSANOTINITIALISED);
    return SOCKET_ERROR;
  }
  return 0;
}

static wsevent_t handle_of(WSAEVENT e) { return (wsevent_t)(uintptr_t)e; }

/* The event calls are kernel32's (kernel32.c), after WSAStartup; a
 * WSAEVENT is an event HANDLE, as on Windows, and the WSA_* errors have
 * the values of Win32's. */

WSAEVENT WSACreateEvent(void) {
  wsevent_t h;
  int saved = errno;
  if (!wse_ws_started())
    return WSA_INVALID_EVENT;
  int r = wsevent_create(&h, 0); /* manual-reset, unsignaled */
  if (r != WSEVENT_OK) {
    wse_ws_fail(wse_ws_event_error(r));
    return WSA_INVALID_EVENT;
  }
  errno = saved; /* (CreateEvent would say ERROR_SUCCESS) */
  return (WSAEVENT)(uintptr_t)h;
}

BOOL WSACloseEvent(WSAEVENT e) { return wse_ws_started() && CloseHandle(e); }
BOOL WSASetEvent(WSAEVENT e) { return wse_ws_started() && SetEvent(e); }
BOOL WSAResetEvent(WSAEVENT e) { return wse_ws_started() && ResetEvent(e); }

DWORD WSAWaitForMultipleEvents(DWORD count, const WSAEVENT *events,
                               BOOL wait_all, DWORD timeout, BOOL alertable) {
  if (!wse_ws_started())
    return WSA_WAIT_FAILED;
  /* WSA_MAXIMUM_WAIT_EVENTS is MAXIMUM_WAIT_OBJECTS, WSA_WAIT_* WAIT_*. */
  return WaitForMultipleObjectsEx(count, events, wait_all, timeout, alertable);
}

/* A Linux errno as the Winsock error code Windows reports for it. */
int wse_ws_from_errno(int e) {
  switch (e) {
  case 0: return 0;
  case EINTR: return WSAEINTR;
  /* A descriptor that is not open, given where Windows wants a SOCKET. */
  case EBADF: return WSAENOTSOCK;
  case EACCES: return WSAEACCES;
  case EFAULT: return WSAEFAULT;
  case EINVAL: return WSAEINVAL;
  case EMFILE: return WSAEMFILE;
  case EAGAIN: return WSAEWOULDBLOCK;
  /* A non-blocking connect under way is WSAEWOULDBLOCK on Windows
   * (Winsock's WSAEINPROGRESS means a blocking call is in progress). */
  case EINPROGRESS: return WSAEWOULDBLOCK;
  case EALREADY: return WSAEALREADY;
  case ENOTSOCK: return WSAENOTSOCK;
  case EMSGSIZE: return WSAEMSGSIZE;
  case EOPNOTSUPP: return WSAEOPNOTSUPP;
  case EADDRINUSE: return WSAEADDRINUSE;
  case EADDRNOTAVAIL: return WSAEADDRNOTAVAIL;
  case ENETDOWN: return WSAENETDOWN;
  case ENETUNREACH: return WSAENETUNREACH;
  case ENETRESET: return WSAENETRESET;
  case ECONNABORTED: return WSAECONNABORTED;
  case ECONNRESET: return WSAECONNRESET;
  case EPIPE: return WSAECONNRESET;
  case ENOBUFS: return WSAENOBUFS;
  case EISCONN: return WSAEISCONN;
  case ENOTCONN: return WSAENOTCONN;
  case ESHUTDOWN: return WSAESHUTDOWN;
  case ETIMEDOUT: return WSAETIMEDOUT;
  case ECONNREFUSED: return WSAECONNREFUSED;
  case EHOSTDOWN: return WSAEHOSTDOWN;
  case EHOSTUNREACH: return WSAEHOSTUNREACH;
  case EAFNOSUPPORT: return WSAEAFNOSUPPORT;
  case EPFNOSUPPORT: return WSAEPFNOSUPPORT;
  case EPROTONOSUPPORT: return WSAEPROTONOSUPPORT;
  case ESOCKTNOSUPPORT: return WSAESOCKTNOSUPPORT;
  case EPROTOTYPE: return WSAEPROTOTYPE;
  case ENOPROTOOPT: return WSAENOPROTOOPT;
  case EDESTADDRREQ: return WSAEDESTADDRREQ;
  case ETOOMANYREFS: return WSAETOOMANYREFS;
  case ELOOP: return WSAELOOP;
  case ENAMETOOLONG: return WSAENAMETOOLONG;
  case ENOTEMPTY: return WSAENOTEMPTY;
  case EUSERS: return WSAEUSERS;
  case EDQUOT: return WSAEDQUOT;
  case ESTALE: return WSAESTALE;
  case EREMOTE: return WSAEREMOTE;
  case ENFILE: return WSAEMFILE;
  case ENOMEM: return WSAENOBUFS;
  case EPERM: return WSAEACCES;
  default: return WSAEINVAL;
  }
}

static bool is_socket(SOCKET s) {
  struct stat st;
  return s >= 0 && fstat(s, &st) == 0 && S_ISSOCK(st.st_mode);
}

int WSAEventSelect(SOCKET s, WSAEVENT e, long mask) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (!is_socket(s)) {
    wse_ws_fail(WSAENOTSOCK); /* checked first, as Windows does */
    return SOCKET_ERROR;
  }
  /* recv, send and accept are wsevent's calls here (winsock2.h): they
   * re-enable the bits, exactly as on Windows. */
  int r = wsevent_event_select_ex(s, handle_of(e), mask,
                                  WSEVENT_SELECT_CALLS_SEEN);
  if (r == WSEVENT_OK) {
    errno = saved;
    return 0;
  }
  /* Windows documents WSAEINVAL for any invalid parameter (here: the
   * event, unknown bits, and the bits Linux cannot provide). */
  wse_ws_fail(r == WSEVENT_ENOTSOCK ? WSAENOTSOCK
       : r == WSEVENT_ENOMEM ? WSAENOBUFS
       : r == WSEVENT_ENFILE ? WSAEMFILE
                             : WSAEINVAL);
  return SOCKET_ERROR;
}

int WSAEnumNetworkEvents(SOCKET s, WSAEVENT e, LPWSANETWORKEVENTS out) {
  struct wsevent_network_events ne;
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (!is_socket(s)) {
    wse_ws_fail(WSAENOTSOCK); /* even with a NULL out, as Windows */
    return SOCKET_ERROR;
  }
  if (out == NULL) {
    wse_ws_fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  int r = wsevent_enum_network_events(s, handle_of(e), &ne);
  if (r != WSEVENT_OK) {
    wse_ws_fail(r == WSEVENT_ENOTSOCK ? WSAENOTSOCK : WSAEINVAL);
    return SOCKET_ERROR;
  }
  out->lNetworkEvents = ne.network_events;
  for (int i = 0; i < FD_MAX_EVENTS; i++)
    out->iErrorCode[i] = wse_ws_from_errno(ne.error_code[i]);
  errno = saved;
  return 0;
}

int closesocket(SOCKET s) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (!is_socket(s)) {
    wse_ws_fail(WSAENOTSOCK);
    return SOCKET_ERROR;
  }
  wsevent_socket_closing(s);
  wse_ws_forget(s);
  /* Linux closes the descriptor even when close() reports an error (EINTR,
   * or a deferred write error): the socket is gone, as on Windows. */
  close(s);
  errno = saved;
  return 0;
}

int ioctlsocket(SOCKET s, long cmd, u_long *argp) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (!is_socket(s)) {
    wse_ws_fail(WSAENOTSOCK);
    return SOCKET_ERROR;
  }
  if (argp == NULL) {
    wse_ws_fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  if (cmd == (long)FIONBIO) {
    wsevent_t ev;
    long mask;
    int fl = fcntl(s, F_GETFL);
    /* "WSAEINVAL: ... the socket is in non-blocking mode because of
     * WSAEventSelect" when asked to leave it. */
    if (*argp == 0 && wsevent_socket_selection(s, &ev, &mask) == WSEVENT_OK &&
        mask != 0) {
      wse_ws_fail(WSAEINVAL);
      return SOCKET_ERROR;
    }
    if (fl < 0 ||
        fcntl(s, F_SETFL, *argp ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0) {
      wse_ws_fail_errno(s, errno);
      return SOCKET_ERROR;
    }
  } else if (cmd == (long)FIONREAD) {
    int n;
    if (ioctl(s, FIONREAD, &n) < 0) {
      /* A listening socket: Windows answers 0, Linux EINVAL. */
      if (errno != EINVAL) {
        wse_ws_fail_errno(s, errno);
        return SOCKET_ERROR;
      }
      n = 0;
    }
    *argp = (u_long)n;
  } else if (cmd == (long)SIOCATMARK) {
    /* Windows: "If no OOB data is waiting, the operation returns TRUE"
     * (BSD's at-the-mark answer is another question).  Urgent data
     * waiting is what makes a socket POLLPRI. */
    struct pollfd p = {.fd = s, .events = POLLPRI};
    if (poll(&p, 1, 0) < 0) {
      wse_ws_fail_errno(s, errno);
      return SOCKET_ERROR;
    }
    *argp = (p.revents & POLLPRI) ? FALSE : TRUE;
  } else {
    wse_ws_fail(WSAEINVAL); /* "cmd is not a valid command" */
    return SOCKET_ERROR;
  }
  errno = saved;
  return 0;
}

int WSAIoctl(SOCKET s, DWORD code, LPVOID in, DWORD in_len, LPVOID out,
             DWORD out_len, LPDWORD returned, LPWSAOVERLAPPED ov,
             LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (ov != NULL || routine != NULL) {
    wse_ws_fail(WSAEINVAL); /* these commands are answered at once */
    return SOCKET_ERROR;
  }
  u_long arg = 0;
  if (code == (DWORD)FIONBIO) {
    if (in == NULL || in_len < sizeof arg) {
      wse_ws_fail(WSAEFAULT);
      return SOCKET_ERROR;
    }
    memcpy(&arg, in, sizeof arg);
  } else if (code != (DWORD)FIONREAD && code != (DWORD)SIOCATMARK) {
    wse_ws_fail(WSAEINVAL);
    return SOCKET_ERROR;
  } else if (out == NULL || out_len < sizeof arg || returned == NULL) {
    wse_ws_fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  if (ioctlsocket(s, (long)code, &arg) == SOCKET_ERROR)
    return SOCKET_ERROR;
  if (code != (DWORD)FIONBIO)
    memcpy(out, &arg, sizeof arg);
  if (returned != NULL)
    *returned = code == (DWORD)FIONBIO ? 0 : (DWORD)sizeof arg;
  errno = saved;
  return 0;
}

/* ---- overlapped I/O ---- */

SOCKET WSASocket(int af, int type, int protocol, LPWSAPROTOCOL_INFO info,
                 GROUP g, DWORD flags) {
  int saved = errno;
  if (!wse_ws_started())
    return INVALID_SOCKET;
  if (info != NULL || g != 0 ||
      (flags & ~(DWORD)(WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)) != 0) {
    wse_ws_fail(WSAEINVAL);
    return INVALID_SOCKET;
  }
  SOCKET s = wsevent_ws_socket(
      af, type | ((flags & WSA_FLAG_NO_HANDLE_INHERIT) ? SOCK_CLOEXEC : 0), protocol);
  if (s != INVALID_SOCKET)
    errno = saved;
  return s;
}

/* The Winsock error of a finished operation's core outcome. */
static int overlapped_error(int status, int err, int flags) {
  switch (status) {
  case WSEVENT_OK: return (flags & MSG_TRUNC) ? WSAEMSGSIZE : 0;
  case WSEVENT_EABORTED: return WSA_OPERATION_ABORTED;
  case WSEVENT_ESOCKET: return wse_ws_from_errno(err);
  case WSEVENT_ENOTSOCK: return WSAENOTSOCK;
  case WSEVENT_IO_INCOMPLETE: return WSA_IO_INCOMPLETE;
  case WSEVENT_ENOMEM: return WSAENOBUFS;
  case WSEVENT_ENFILE: return WSAEMFILE;
  default: return WSAEINVAL;
  }
}

static void run_routine(int status, size_t bytes, wsevent_overlapped_t *rec,
                        int flags) {
  LPWSAOVERLAPPED ov = (LPWSAOVERLAPPED)((char *)rec -
                                         offsetof(WSAOVERLAPPED, wsevent_record));
  ov->Internal = (ULONG_PTR)status;
  ov->InternalHigh = (ULONG_PTR)bytes;
  ov->wsevent_routine(overlapped_error(status, rec->error, flags), (DWORD)bytes,
                      ov, (DWORD)(flags & ~MSG_TRUNC));
}

enum { RECV, SEND };

/* WSARecv, WSARecvFrom, WSASend, WSASendTo: one path. */
static int transfer(int dir, SOCKET s, LPWSABUF wsabufs, DWORD count,
                    LPDWORD done, DWORD *flags_in, struct sockaddr *from, INT *fromlen,
                    const struct sockaddr *to, int tolen, LPWSAOVERLAPPED ov,
                    LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  enum { ON_STACK = 16 };
  wsevent_buf_t stack[ON_STACK], *bufs = stack;
  int saved = errno;
  if (!wse_ws_started())
    return SOCKET_ERROR;
  if (!is_socket(s)) {
    wse_ws_fail(WSAENOTSOCK);
    return SOCKET_ERROR;
  }
  if ((wsabufs == NULL && count != 0) || (dir == RECV && flags_in == NULL) ||
      (ov == NULL && done == NULL)) {
    wse_ws_fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  if (count > WSEVENT_MAX_BUFS) {
    wse_ws_fail(WSAEINVAL);
    return SOCKET_ERROR;
  }
  if (count > ON_STACK && (bufs = malloc(count * sizeof *bufs)) == NULL) {
    wse_ws_fail(WSAENOBUFS);
    return SOCKET_ERROR;
  }
  for (DWORD i = 0; i < count; i++)
    bufs[i] = (wsevent_buf_t){wsabufs[i].len, wsabufs[i].buf};
  int flags = (int)*flags_in, r;
  size_t bytes = 0;
  int out_flags = 0, err = 0;
  if (ov == NULL) {
    /* An ordinary call, through the calls that re-enable network events. */
    struct msghdr m = {0};
    struct iovec iov_stack[ON_STACK], *iov = count > ON_STACK
                                                 ? malloc(count * sizeof *iov)
                                                 : iov_stack;
    if (iov == NULL) {
      if (bufs != stack)
        free(bufs);
      wse_ws_fail(WSAENOBUFS);
      return SOCKET_ERROR;
    }
    for (DWORD i = 0; i < count; i++)
      iov[i] = (struct iovec){bufs[i].buf, bufs[i].len};
    m.msg_iov = iov;
    m.msg_iovlen = count;
    ssize_t n;
    if (dir == RECV) {
      m.msg_name = from;
      m.msg_namelen = from != NULL && fromlen != NULL ? (socklen_t)*fromlen : 0;
      n = wsevent_recvmsg(s, &m, flags);
      if (n >= 0 && from != NULL && fromlen != NULL)
        *fromlen = (INT)m.msg_namelen;
    } else {
      m.msg_name = (void *)to;
      m.msg_namelen = to != NULL ? (socklen_t)tolen : 0;
      n = wsevent_sendmsg(s, &m, flags);
    }
    err = errno;
    if (iov != iov_stack)
      free(iov);
    if (bufs != stack)
      free(bufs);
    if (n < 0) {
      wse_ws_fail_errno(s, err);
      return SOCKET_ERROR;
    }
    *done = (DWORD)n;
    if (dir == RECV)
      *flags_in = 0;
    if (dir == RECV && (m.msg_flags & MSG_TRUNC)) {
      wse_ws_fail(WSAEMSGSIZE);
      return SOCKET_ERROR;
    }
    errno = saved;
    return 0;
  }
  wsevent_overlapped_t *rec = &ov->wsevent_record;
  memset(rec, 0, sizeof *rec);
  rec->event = routine != NULL ? 0 : handle_of(ov->hEvent);
  /* A SOCKET is closed with closesocket, as on Windows (winsock2.h): the
   * library need not check that s is still the socket of its record. */
  rec->options = WSEVENT_OV_SAME_SOCKET;
  ov->wsevent_routine = routine;
  wsevent_overlapped_fn fn = routine != NULL ? run_routine : NULL;
  if (dir == RECV)
    r = from != NULL
            ? wsevent_recvfrom_overlapped(s, bufs, count, flags, from,
                                          (socklen_t *)fromlen, rec, fn)
            : wsevent_recv_overlapped(s, bufs, count, flags, rec, fn);
  else
    r = to != NULL ? wsevent_sendto_overlapped(s, bufs, count, flags, to,
                                               (socklen_t)tolen, rec, fn)
                   : wsevent_send_overlapped(s, bufs, count, flags, rec, fn);
  if (bufs != stack)
    free(bufs);
  if (r == WSEVENT_IO_PENDING) {
    wse_ws_fail(WSA_IO_PENDING);
    return SOCKET_ERROR;
  }
  if (r == WSEVENT_OK) {
    bytes = rec->bytes;
    out_flags = rec->flags;
    if (done != NULL)
      *done = (DWORD)bytes;
    if (dir == RECV)
      *flags_in = (DWORD)(out_flags & ~MSG_TRUNC);
    if (out_flags & MSG_TRUNC) {
      wse_ws_fail(WSAEMSGSIZE);
      return SOCKET_ERROR;
    }
    errno = saved;
    return 0;
  }
  if (r == WSEVENT_ESOCKET)
    wse_ws_fail_errno(s, rec->error);
  else
    wse_ws_fail(overlapped_error(r, 0, 0));
  return SOCKET_ERROR;
}

int WSARecv(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
            LPDWORD flags, LPWSAOVERLAPPED ov,
            LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  return transfer(RECV, s, bufs, count, received, flags, NULL, NULL, NULL, 0,
                  ov, routine);
}

int WSARecvFrom(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD received,
                LPDWORD flags, struct sockaddr *from, INT *fromlen,
                LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  if (from != NULL && fromlen == NULL) {
    wse_ws_fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  return transfer(RECV, s, bufs, count, received, flags, from, fromlen, NULL,
                  0, ov, routine);
}

int WSASend(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
            LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  return transfer(SEND, s, bufs, count, sent, &flags, NULL, NULL, NULL, 0, ov,
                  routine);
}

int WSASendTo(SOCKET s, LPWSABUF bufs, DWORD count, LPDWORD sent, DWORD flags,
              const struct sockaddr *to, int tolen, LPWSAOVERLAPPED ov,
              LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  if (to != NULL && tolen <= 0) {
    wse_ws_fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  return transfer(SEND, s, bufs, count, sent, &flags, NULL, NULL, to, tolen, ov,
                  routine);
}

BOOL WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD transferred,
                            BOOL wait, LPDWORD flags) {
  int saved = errno;
  if (!wse_ws_started())
    return FALSE;
  if (!is_socket(s)) {
    wse_ws_fail(WSAENOTSOCK);
    return FALSE;
  }
  if (ov == NULL || transferred == NULL || flags == NULL) {
    wse_ws_fail(WSAEFAULT);
    return FALSE;
  }
  size_t bytes = 0;
  int out_flags = 0;
  int r = wsevent_overlapped_result(&ov->wsevent_record, wait, &bytes, &out_flags);
  if (r == WSEVENT_OK || r == WSEVENT_ESOCKET || r == WSEVENT_EABORTED) {
    *transferred = (DWORD)bytes;
    *flags = (DWORD)(out_flags & ~MSG_TRUNC);
  }
  int wsa = overlapped_error(r, ov->wsevent_record.error, out_flags);
  if (wsa != 0) {
    if (r == WSEVENT_ESOCKET)
      wse_ws_fail_errno(s, ov->wsevent_record.error);
    else
      wse_ws_fail(wsa);
    return FALSE;
  }
  errno = saved;
  return TRUE;
}

BOOL CancelIoEx(HANDLE file, LPWSAOVERLAPPED ov) {
  int saved = errno;
  SOCKET s = (SOCKET)(intptr_t)file;
  if (wsevent_cancel_overlapped(s, ov != NULL ? &ov->wsevent_record : NULL) !=
      WSEVENT_OK) {
    wse_ws_fail(ERROR_NOT_FOUND);
    return FALSE;
  }
  errno = saved;
  return TRUE;
}

DWORD SleepEx(DWORD ms, BOOL alertable) {
  int saved = errno;
  int r = wsevent_sleep(ms, alertable ? WSEVENT_ALERTABLE : 0);
  errno = saved;
  return r == WSEVENT_IO_COMPLETION ? WAIT_IO_COMPLETION : 0;
}
