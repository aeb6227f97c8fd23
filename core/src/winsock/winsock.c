/*
 * winsock.c: the Winsock event API (wsevent/winsock2.h) over the core.
 *
 * Each call returns what Windows documents for it and sets the calling
 * thread's last error the same way.  Calls made before WSAStartup fail with
 * WSANOTINITIALISED, as they do on Windows.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "wsevent.h"
#include "wsevent/winsock2.h"

static _Atomic int startups;

/*
 * The last error.  On Windows every socket call sets it; here libc's
 * connect, recv, send... set errno instead.  So each failing call of ours
 * records its error with the errno it leaves behind; if errno has changed
 * since, a libc call failed later, and WSAGetLastError maps that errno.
 */
static _Thread_local int last_error, last_errno = -1;

static int wsa_from_errno(int e);

int WSAGetLastError(void) {
  return errno == last_errno ? last_error : wsa_from_errno(errno);
}

void WSASetLastError(int error) {
  last_error = error;
  last_errno = errno;
}

/* A failure of ours: the Winsock code, and a matching errno. */
static void fail(int wsa) {
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

static bool started(void) {
  if (atomic_load(&startups) > 0)
    return true;
  fail(WSANOTINITIALISED);
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
    fail(WSANOTINITIALISED);
    return SOCKET_ERROR;
  }
  return 0;
}

static wsevent_t handle_of(WSAEVENT e) { return (wsevent_t)(uintptr_t)e; }

/* The last error for a core code, as Windows' event calls report it. */
static int event_error(int code) {
  switch (code) {
  case WSEVENT_ENOMEM:
  case WSEVENT_ELIMIT:
    return WSA_NOT_ENOUGH_MEMORY;
  case WSEVENT_EINVAL:
    return WSA_INVALID_PARAMETER;
  default:
    return WSA_INVALID_HANDLE;
  }
}

WSAEVENT WSACreateEvent(void) {
  wsevent_t h;
  if (!started())
    return WSA_INVALID_EVENT;
  int r = wsevent_create(&h, 0); /* manual-reset, unsignaled */
  if (r != WSEVENT_OK) {
    fail(event_error(r));
    return WSA_INVALID_EVENT;
  }
  return (WSAEVENT)(uintptr_t)h;
}

static BOOL event_call(int (*fn)(wsevent_t), WSAEVENT e) {
  if (!started())
    return FALSE;
  int r = fn(handle_of(e));
  if (r != WSEVENT_OK) {
    fail(event_error(r));
    return FALSE;
  }
  return TRUE;
}

BOOL WSACloseEvent(WSAEVENT e) { return event_call(wsevent_close, e); }
BOOL WSASetEvent(WSAEVENT e) { return event_call(wsevent_set, e); }
BOOL WSAResetEvent(WSAEVENT e) { return event_call(wsevent_reset, e); }

DWORD WSAWaitForMultipleEvents(DWORD count, const WSAEVENT *events,
                               BOOL wait_all, DWORD timeout, BOOL alertable) {
  wsevent_t handles[WSA_MAXIMUM_WAIT_EVENTS];
  size_t index = 0;
  if (!started())
    return WSA_WAIT_FAILED;
  if (count == 0 || count > WSA_MAXIMUM_WAIT_EVENTS || events == NULL) {
    fail(WSA_INVALID_PARAMETER);
    return WSA_WAIT_FAILED;
  }
  for (DWORD i = 0; i < count; i++)
    handles[i] = handle_of(events[i]);
  int r = wsevent_wait_multiple(handles, count,
                                (wait_all ? WSEVENT_WAIT_ALL : 0) |
                                    (alertable ? WSEVENT_ALERTABLE : 0),
                                timeout, &index);
  if (r < 0)
    fail(event_error(r));
  /* WSA_WAIT_* have the values of Win32's WAIT_*. */
  return wsevent_win32_result(r, index);
}

/* A Linux errno as the Winsock error code Windows reports for it. */
static int wsa_from_errno(int e) {
  switch (e) {
  case 0: return 0;
  case EINTR: return WSAEINTR;
  case EBADF: return WSAEBADF;
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
  default: return WSAEINVAL;
  }
}

int WSAEventSelect(SOCKET s, WSAEVENT e, long mask) {
  if (!started())
    return SOCKET_ERROR;
  int r = wsevent_event_select(s, handle_of(e), mask);
  if (r == WSEVENT_OK)
    return 0;
  /* Windows documents WSAENOTSOCK for a descriptor that is not a socket
   * and WSAEINVAL for any invalid parameter (here: the event, unknown
   * bits, and the bits Linux cannot provide). */
  fail(r == WSEVENT_ENOTSOCK ? WSAENOTSOCK
       : r == WSEVENT_ENOMEM ? WSAENOBUFS
       : r == WSEVENT_ENFILE ? WSAEMFILE
                             : WSAEINVAL);
  return SOCKET_ERROR;
}

int WSAEnumNetworkEvents(SOCKET s, WSAEVENT e, LPWSANETWORKEVENTS out) {
  struct wsevent_network_events ne;
  if (!started())
    return SOCKET_ERROR;
  if (out == NULL) {
    fail(WSAEFAULT);
    return SOCKET_ERROR;
  }
  int r = wsevent_enum_network_events(s, handle_of(e), &ne);
  if (r != WSEVENT_OK) {
    fail(r == WSEVENT_ENOTSOCK ? WSAENOTSOCK : WSAEINVAL);
    return SOCKET_ERROR;
  }
  out->lNetworkEvents = ne.network_events;
  for (int i = 0; i < FD_MAX_EVENTS; i++)
    out->iErrorCode[i] = wsa_from_errno(ne.error_code[i]);
  return 0;
}
