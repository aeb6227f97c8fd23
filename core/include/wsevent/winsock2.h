/*
 * winsock2.h: Winsock's event API on Linux, for code written against
 * Windows to compile unchanged and link with -lwsevent.
 *
 *     cc app.c -I$(prefix)/include/wsevent -lwsevent -lpthread
 *
 * What is here: WSAEVENT and its calls (WSACreateEvent, WSACloseEvent,
 * WSASetEvent, WSAResetEvent, WSAWaitForMultipleEvents), WSAEventSelect and
 * WSAEnumNetworkEvents with WSANETWORKEVENTS and every FD_* / FD_*_BIT,
 * WSAStartup/WSACleanup, WSAGetLastError/WSASetLastError (per thread),
 * SOCKET, INVALID_SOCKET, SOCKET_ERROR, closesocket, ioctlsocket (FIONBIO,
 * FIONREAD), SD_RECEIVE/SD_SEND/SD_BOTH, overlapped I/O (WSASocket,
 * WSABUF, WSAOVERLAPPED, completion routines, WSARecv, WSARecvFrom,
 * WSASend, WSASendTo, WSAGetOverlappedResult, CancelIoEx, SleepEx), u_char/u_short/u_int/u_long, the
 * Windows types the calls use, and the error codes with their Windows
 * values.  Return values and last errors are those Windows documents for
 * each call, including WSAWaitForMultipleEvents' limit of
 * WSA_MAXIMUM_WAIT_EVENTS (64); a call that succeeds (or a wait that times
 * out) leaves WSAGetLastError as it was.
 *
 * recv, recvfrom, send, sendto and accept are macros for wsevent's calls of
 * the same name, which re-enable network events as Windows' calls do: a
 * socket selected through WSAEventSelect has FD_READ, FD_WRITE and
 * FD_ACCEPT re-enabled by those calls only, exactly as on Windows.  So
 * read such a socket with recv, not read(2).  A failed call's Winsock
 * error is WSAGetLastError(), mapped from errno.  Close a SOCKET with
 * closesocket, as on Windows, never close(2): overlapped calls trust that
 * a SOCKET's descriptor names the same socket until then
 * (WSEVENT_OV_SAME_SOCKET in wsevent.h).
 *
 * Differences: SOCKET is a Linux descriptor (an int); WSAEVENT is a
 * pointer-sized wrapper of a wsevent handle; iErrorCode values are the
 * WSAE* codes mapped from Linux errno values; FIONBIO and FIONREAD have
 * Linux's values; README.md lists the rest.
 */
#ifndef WSEVENT_WINSOCK2_H
#define WSEVENT_WINSOCK2_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/ioctl.h> /* FIONBIO, FIONREAD */
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "../wsevent.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Windows types ---- */
typedef int BOOL;
typedef uint8_t BYTE;
typedef uint16_t WORD;
typedef uint32_t DWORD;
typedef int INT;
typedef long LONG;
typedef DWORD *LPDWORD;
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#define MAKEWORD(low, high) ((WORD)(((BYTE)(low)) | ((WORD)((BYTE)(high))) << 8))
#define LOBYTE(w) ((BYTE)((w) & 0xff))
#define HIBYTE(w) ((BYTE)(((w) >> 8) & 0xff))

#ifndef __USE_MISC /* glibc has them in <sys/types.h> by default */
typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef unsigned long u_long;
#endif

typedef int SOCKET;
#define INVALID_SOCKET (-1)
#define SOCKET_ERROR (-1)

/* shutdown()'s how, with the values of Linux's SHUT_RD, SHUT_WR, SHUT_RDWR. */
#define SD_RECEIVE 0
#define SD_SEND 1
#define SD_BOTH 2

typedef struct wsevent_winsock_event *WSAEVENT;
typedef WSAEVENT *LPWSAEVENT;
#define WSA_INVALID_EVENT ((WSAEVENT)NULL)
#define WSA_MAXIMUM_WAIT_EVENTS 64
#define WSA_INFINITE 0xFFFFFFFFu
#define WSA_WAIT_EVENT_0 0u
#define WSA_WAIT_IO_COMPLETION 0xC0u
#define WSA_WAIT_TIMEOUT 0x102u
#define WSA_WAIT_FAILED 0xFFFFFFFFu

/* ---- WSAStartup ---- */
#define WSADESCRIPTION_LEN 256
#define WSASYS_STATUS_LEN 128
typedef struct WSAData {
  WORD wVersion;
  WORD wHighVersion;
  unsigned short iMaxSockets;
  unsigned short iMaxUdpDg;
  char *lpVendorInfo;
  char szDescription[WSADESCRIPTION_LEN + 1];
  char szSystemStatus[WSASYS_STATUS_LEN + 1];
} WSADATA, *LPWSADATA;

/* ---- network events ---- */
#define FD_READ_BIT 0
#define FD_READ (1 << FD_READ_BIT)
#define FD_WRITE_BIT 1
#define FD_WRITE (1 << FD_WRITE_BIT)
#define FD_OOB_BIT 2
#define FD_OOB (1 << FD_OOB_BIT)
#define FD_ACCEPT_BIT 3
#define FD_ACCEPT (1 << FD_ACCEPT_BIT)
#define FD_CONNECT_BIT 4
#define FD_CONNECT (1 << FD_CONNECT_BIT)
#define FD_CLOSE_BIT 5
#define FD_CLOSE (1 << FD_CLOSE_BIT)
#define FD_QOS_BIT 6
#define FD_QOS (1 << FD_QOS_BIT)
#define FD_GROUP_QOS_BIT 7
#define FD_GROUP_QOS (1 << FD_GROUP_QOS_BIT)
#define FD_ROUTING_INTERFACE_CHANGE_BIT 8
#define FD_ROUTING_INTERFACE_CHANGE (1 << FD_ROUTING_INTERFACE_CHANGE_BIT)
#define FD_ADDRESS_LIST_CHANGE_BIT 9
#define FD_ADDRESS_LIST_CHANGE (1 << FD_ADDRESS_LIST_CHANGE_BIT)
#define FD_MAX_EVENTS 10
#define FD_ALL_EVENTS ((1 << FD_MAX_EVENTS) - 1)

typedef struct _WSANETWORKEVENTS {
  long lNetworkEvents;
  int iErrorCode[FD_MAX_EVENTS];
} WSANETWORKEVENTS, *LPWSANETWORKEVENTS;

/* ---- error codes, with their Windows values ---- */
#define WSA_INVALID_HANDLE 6
#define WSA_NOT_ENOUGH_MEMORY 8
#define WSA_INVALID_PARAMETER 87
#define WSA_OPERATION_ABORTED 995
#define WSA_IO_INCOMPLETE 996
#define WSA_IO_PENDING 997
#define WSABASEERR 10000
#define WSAEINTR 10004
#define WSAEBADF 10009
#define WSAEACCES 10013
#define WSAEFAULT 10014
#define WSAEINVAL 10022
#define WSAEMFILE 10024
#define WSAEWOULDBLOCK 10035
#define WSAEINPROGRESS 10036
#define WSAEALREADY 10037
#define WSAENOTSOCK 10038
#define WSAEDESTADDRREQ 10039
#define WSAEMSGSIZE 10040
#define WSAEPROTOTYPE 10041
#define WSAENOPROTOOPT 10042
#define WSAEPROTONOSUPPORT 10043
#define WSAESOCKTNOSUPPORT 10044
#define WSAEOPNOTSUPP 10045
#define WSAEPFNOSUPPORT 10046
#define WSAEAFNOSUPPORT 10047
#define WSAEADDRINUSE 10048
#define WSAEADDRNOTAVAIL 10049
#define WSAENETDOWN 10050
#define WSAENETUNREACH 10051
#define WSAENETRESET 10052
#define WSAECONNABORTED 10053
#define WSAECONNRESET 10054
#define WSAENOBUFS 10055
#define WSAEISCONN 10056
#define WSAENOTCONN 10057
#define WSAESHUTDOWN 10058
#define WSAETOOMANYREFS 10059
#define WSAETIMEDOUT 10060
#define WSAECONNREFUSED 10061
#define WSAELOOP 10062
#define WSAENAMETOOLONG 10063
#define WSAEHOSTDOWN 10064
#define WSAEHOSTUNREACH 10065
#define WSASYSNOTREADY 10091
#define WSAVERNOTSUPPORTED 10092
#define WSANOTINITIALISED 10093

#ifndef WSEVENT_EXTERN
#define WSEVENT_EXTERN extern
#endif

WSEVENT_EXTERN int WSAStartup(WORD wVersionRequested, LPWSADATA lpWSAData);
WSEVENT_EXTERN int WSACleanup(void);
WSEVENT_EXTERN int WSAGetLastError(void);
WSEVENT_EXTERN void WSASetLastError(int iError);

WSEVENT_EXTERN WSAEVENT WSACreateEvent(void);
WSEVENT_EXTERN BOOL WSACloseEvent(WSAEVENT hEvent);
WSEVENT_EXTERN BOOL WSASetEvent(WSAEVENT hEvent);
WSEVENT_EXTERN BOOL WSAResetEvent(WSAEVENT hEvent);
WSEVENT_EXTERN DWORD WSAWaitForMultipleEvents(DWORD cEvents,
                                              const WSAEVENT *lphEvents,
                                              BOOL fWaitAll, DWORD dwTimeout,
                                              BOOL fAlertable);
WSEVENT_EXTERN int WSAEventSelect(SOCKET s, WSAEVENT hEventObject,
                                  long lNetworkEvents);
WSEVENT_EXTERN int WSAEnumNetworkEvents(SOCKET s, WSAEVENT hEventObject,
                                        LPWSANETWORKEVENTS lpNetworkEvents);

/* ---- overlapped I/O ---- */
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef WINAPI
#define WINAPI
#endif
typedef unsigned long ULONG;
typedef uintptr_t ULONG_PTR;
typedef char CHAR;
typedef unsigned int GROUP;
typedef void *LPWSAPROTOCOL_INFO; /* only NULL is accepted */

#define WSA_FLAG_OVERLAPPED 0x01
#define WSA_FLAG_NO_HANDLE_INHERIT 0x80
#define WAIT_IO_COMPLETION 0xC0u

typedef struct _WSABUF {
  ULONG len;
  CHAR *buf;
} WSABUF, *LPWSABUF;

/* Internal, InternalHigh, Offset and OffsetHigh are there for code that
 * clears or copies them; the library keeps the operation's state in its
 * own record at the end (read the outcome with WSAGetOverlappedResult or
 * HasOverlappedIoCompleted).  With a completion routine, hEvent is the
 * program's, as on Windows. */
typedef struct _WSAOVERLAPPED WSAOVERLAPPED, *LPWSAOVERLAPPED;
typedef void(CALLBACK *LPWSAOVERLAPPED_COMPLETION_ROUTINE)(
    DWORD dwError, DWORD cbTransferred, LPWSAOVERLAPPED lpOverlapped,
    DWORD dwFlags);
struct _WSAOVERLAPPED {
  ULONG_PTR Internal;
  ULONG_PTR InternalHigh;
  DWORD Offset;
  DWORD OffsetHigh;
  WSAEVENT hEvent;
  /* The library's. */
  wsevent_overlapped_t wsevent_record;
  LPWSAOVERLAPPED_COMPLETION_ROUTINE wsevent_routine;
};
#define HasOverlappedIoCompleted(lpOverlapped)                                \
  ((lpOverlapped)->wsevent_record.status != WSEVENT_IO_PENDING)

/* socket() with Winsock's extra arguments: lpProtocolInfo must be NULL and
 * g 0; WSA_FLAG_OVERLAPPED is accepted (every socket can do overlapped I/O
 * here), WSA_FLAG_NO_HANDLE_INHERIT gives a close-on-exec descriptor. */
WSEVENT_EXTERN SOCKET WSASocket(int af, int type, int protocol,
                                LPWSAPROTOCOL_INFO lpProtocolInfo, GROUP g,
                                DWORD dwFlags);
#define WSASocketA WSASocket
#define WSASocketW WSASocket

/*
 * Overlapped receive and send, as Windows documents them: with
 * lpOverlapped NULL the call is an ordinary (blocking or not, as the
 * socket is) one.  With it: 0 if the operation completed at once (the
 * event is set or the routine queued all the same), SOCKET_ERROR with
 * WSA_IO_PENDING if it will complete later, SOCKET_ERROR with another
 * error if it could not start (nothing is signalled then).  A truncated
 * datagram fails with WSAEMSGSIZE, the buffer filled.  The WSABUF array may
 * be on the stack; the buffers must live until completion.
 */
WSEVENT_EXTERN int WSARecv(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                           LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
                           LPWSAOVERLAPPED lpOverlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
WSEVENT_EXTERN int WSARecvFrom(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                               LPDWORD lpNumberOfBytesRecvd, LPDWORD lpFlags,
                               struct sockaddr *lpFrom, INT *lpFromlen,
                               LPWSAOVERLAPPED lpOverlapped,
                               LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
WSEVENT_EXTERN int WSASend(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                           LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
                           LPWSAOVERLAPPED lpOverlapped,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
WSEVENT_EXTERN int WSASendTo(SOCKET s, LPWSABUF lpBuffers, DWORD dwBufferCount,
                             LPDWORD lpNumberOfBytesSent, DWORD dwFlags,
                             const struct sockaddr *lpTo, int iTolen,
                             LPWSAOVERLAPPED lpOverlapped,
                             LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);
/* The outcome: TRUE with the bytes and flags once complete; FALSE with
 * WSA_IO_INCOMPLETE if not (fWait FALSE), or with the operation's error
 * (WSA_OPERATION_ABORTED when cancelled or its socket closed). */
WSEVENT_EXTERN BOOL WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED lpOverlapped,
                                           LPDWORD lpcbTransfer, BOOL fWait,
                                           LPDWORD lpdwFlags);
/* Cancel a socket's operations (one, or all with NULL): they complete with
 * WSA_OPERATION_ABORTED.  hFile is the socket cast as Windows code casts
 * it, (HANDLE)s.  FALSE with ERROR_NOT_FOUND (WSAGetLastError) if nothing
 * matched was pending. */
typedef void *HANDLE;
#define ERROR_NOT_FOUND 1168
WSEVENT_EXTERN BOOL CancelIoEx(HANDLE hFile, LPWSAOVERLAPPED lpOverlapped);
/* An alertable sleep runs the thread's completion routines: the kernel32
 * call Winsock samples wait in. WAIT_IO_COMPLETION if routines ran, else
 * 0. */
WSEVENT_EXTERN DWORD SleepEx(DWORD dwMilliseconds, BOOL bAlertable);

/* closesocket: cancels the socket's selection, completes its pending
 * overlapped operations with WSA_OPERATION_ABORTED, then closes it. */
WSEVENT_EXTERN int closesocket(SOCKET s);
/* ioctlsocket: FIONBIO (clearing it while WSAEventSelect is in force fails
 * with WSAEINVAL, as on Windows) and FIONREAD. */
WSEVENT_EXTERN int ioctlsocket(SOCKET s, long cmd, u_long *argp);

/* The calls that re-enable network events (see the top of this file).
 * Windows passes lengths as int: the casts accept an int* where Linux
 * wants a socklen_t*. */
#define recv(s, buf, len, flags) wsevent_recv((s), (buf), (len), (flags))
#define recvfrom(s, buf, len, flags, from, fromlen)                           \
  wsevent_recvfrom((s), (buf), (len), (flags), (from), (socklen_t *)(fromlen))
#define send(s, buf, len, flags) wsevent_send((s), (buf), (len), (flags))
#define sendto(s, buf, len, flags, to, tolen)                                 \
  wsevent_sendto((s), (buf), (len), (flags), (to), (socklen_t)(tolen))
#define accept(s, addr, addrlen)                                              \
  wsevent_accept((s), (addr), (socklen_t *)(addrlen))
#define getsockname(s, addr, addrlen)                                         \
  getsockname((s), (addr), (socklen_t *)(addrlen))
#define getpeername(s, addr, addrlen)                                         \
  getpeername((s), (addr), (socklen_t *)(addrlen))
#define getsockopt(s, level, name, value, len)                                \
  getsockopt((s), (level), (name), (value), (socklen_t *)(len))

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_WINSOCK2_H */
