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
 * FIONREAD, SIOCATMARK), WSAIoctl, WSAPoll, WSAConnect, WSAAccept,
 * WSAAddressToStringA/WSAStringToAddressA, SD_RECEIVE/SD_SEND/SD_BOTH,
 * overlapped I/O (WSASocket, WSABUF, WSAOVERLAPPED / OVERLAPPED,
 * completion routines, WSARecv, WSARecvFrom, WSASend, WSASendTo,
 * WSAGetOverlappedResult, CancelIoEx, SleepEx), the socket types and
 * pointer types Winsock code names (SOCKADDR_IN, LPSOCKADDR, TIMEVAL,
 * FD_SET, LINGER, HOSTENT...), u_char/u_short/u_int/u_long, the Windows
 * types, macros (ZeroMemory, MAKEWORD, LOWORD, _countof...) and the kernel32
 * calls event programs use (CreateEvent, SetEvent, WaitForSingleObject,
 * WaitForMultipleObjects, CloseHandle on events, Sleep, GetTickCount,
 * GetLastError), and the error codes with their Windows values.  Return
 * values and last errors are those Windows documents for each call,
 * including WSAWaitForMultipleEvents' limit of WSA_MAXIMUM_WAIT_EVENTS
 * (64); a call that succeeds (or a wait that times out) leaves
 * WSAGetLastError as it was.
 *
 * The socket calls (socket, bind, listen, connect, accept, recv, recvfrom,
 * send, sendto, shutdown, getsockname, getpeername, getsockopt, setsockopt,
 * select, gethostbyname, gethostbyaddr; getaddrinfo and getnameinfo in
 * ws2tcpip.h) are macros for wsevent's, which set WSAGetLastError as Windows
 * does (WSAENOTSOCK for a descriptor that is no socket, WSAESHUTDOWN after
 * shutdown, WSAEMSGSIZE for a truncated datagram, WSAEISCONN for a
 * connect on a connected socket, WSAETIMEDOUT after SO_RCVTIMEO...), take
 * Windows' arguments (SO_RCVTIMEO in milliseconds, select's nfds ignored,
 * its timeout left as it was) and re-enable network events as Windows'
 * calls do: a socket selected through WSAEventSelect has FD_READ, FD_WRITE
 * and FD_ACCEPT re-enabled by those calls only, exactly as on Windows.  So
 * read such a socket with recv, not read(2).  Close a SOCKET with
 * closesocket, as on Windows, never close(2): overlapped calls trust that
 * a SOCKET's descriptor names the same socket until then
 * (WSEVENT_OV_SAME_SOCKET in wsevent.h).  Define WSEVENT_WINSOCK_NO_MACROS
 * before including this header to keep the C library's calls.
 *
 * Differences: SOCKET is a Linux descriptor (an int, so an fd_set is
 * Linux's bitmap: no fd_count / fd_array, descriptors below FD_SETSIZE);
 * a HANDLE (WSAEVENT) is an event's wsevent handle, and only events are
 * handles; in_addr has no S_un union (s_addr only); iErrorCode values are
 * the WSAE* codes mapped from Linux errno values; FIONBIO and FIONREAD
 * have Linux's values; README.md lists the rest.
 */
#ifndef WSEVENT_WINSOCK2_H
#define WSEVENT_WINSOCK2_H

#include <arpa/inet.h>
#include <netdb.h> /* hostent, servent, protoent, as Windows' winsock2.h */
#include <netinet/in.h>
#ifndef WSEVENT_WINSOCK_INTERNAL /* (its files use the kernel's tcp.h) */
#include <netinet/tcp.h> /* TCP_NODELAY */
#endif
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h> /* ZeroMemory and friends */
#include <sys/ioctl.h> /* FIONBIO, FIONREAD, SIOCATMARK */
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
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
typedef uint32_t DWORD; /* 32 bits, as on Windows (print it with %u) */
typedef int INT;
typedef long LONG;
typedef short SHORT;
typedef unsigned short USHORT;
typedef unsigned int UINT;
typedef unsigned char UCHAR;
typedef unsigned long ULONG;
typedef unsigned char BOOLEAN;
typedef char CHAR;
typedef int64_t LONGLONG;
typedef uint64_t ULONGLONG;
typedef uint64_t DWORD64;
typedef intptr_t INT_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t UINT_PTR;
typedef uintptr_t ULONG_PTR;
typedef uintptr_t DWORD_PTR;
typedef size_t SIZE_T;
typedef void *PVOID, *LPVOID;
typedef const void *LPCVOID;
typedef char *PSTR, *LPSTR;
typedef const char *PCSTR, *LPCSTR;
typedef int *PINT, *LPINT;
typedef BOOL *PBOOL, *LPBOOL;
typedef BYTE *PBYTE, *LPBYTE;
typedef WORD *PWORD, *LPWORD;
typedef DWORD *PDWORD, *LPDWORD;
typedef LONG *PLONG, *LPLONG;
typedef ULONG *PULONG;
typedef USHORT *PUSHORT;
typedef void *HANDLE;
typedef HANDLE *PHANDLE, *LPHANDLE;
#ifndef VOID
#define VOID void
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef CALLBACK
#define CALLBACK
#endif
#ifndef WINAPI
#define WINAPI
#endif
#define MAKEWORD(low, high) ((WORD)(((BYTE)(low)) | ((WORD)((BYTE)(high))) << 8))
#define MAKELONG(low, high)                                                   \
  ((LONG)(((WORD)(((DWORD_PTR)(low)) & 0xffff)) |                             \
          ((DWORD)((WORD)(((DWORD_PTR)(high)) & 0xffff))) << 16))
#define LOBYTE(w) ((BYTE)((w) & 0xff))
#define HIBYTE(w) ((BYTE)(((w) >> 8) & 0xff))
#define LOWORD(l) ((WORD)(((DWORD_PTR)(l)) & 0xffff))
#define HIWORD(l) ((WORD)((((DWORD_PTR)(l)) >> 16) & 0xffff))
#ifndef _countof
#define _countof(array) (sizeof(array) / sizeof((array)[0]))
#endif
#ifndef ARRAYSIZE
#define ARRAYSIZE(array) _countof(array)
#endif

/* Memory, as winnt.h has it. */
#define ZeroMemory(dest, len) ((void)memset((dest), 0, (len)))
#define CopyMemory(dest, src, len) ((void)memcpy((dest), (src), (len)))
#define MoveMemory(dest, src, len) ((void)memmove((dest), (src), (len)))
#define FillMemory(dest, len, fill) ((void)memset((dest), (fill), (len)))
/* Not optimised away, as Windows promises. */
static inline PVOID wsevent_secure_zero(PVOID dest, SIZE_T len) {
  volatile BYTE *p = (volatile BYTE *)dest;
  while (len--)
    *p++ = 0;
  return dest;
}
#define SecureZeroMemory(dest, len) wsevent_secure_zero((dest), (len))

#ifndef __USE_MISC /* glibc has them in <sys/types.h> by default */
typedef unsigned char u_char;
typedef unsigned short u_short;
typedef unsigned int u_int;
typedef unsigned long u_long;
#endif

typedef int SOCKET;
#define INVALID_SOCKET (-1)
#define SOCKET_ERROR (-1)

/* The socket types Winsock code names them by. */
typedef struct sockaddr SOCKADDR, *PSOCKADDR, *LPSOCKADDR;
typedef struct sockaddr_in SOCKADDR_IN, *PSOCKADDR_IN, *LPSOCKADDR_IN;
typedef struct sockaddr_in6 SOCKADDR_IN6, *PSOCKADDR_IN6, *LPSOCKADDR_IN6;
typedef struct sockaddr_storage SOCKADDR_STORAGE, *PSOCKADDR_STORAGE,
    *LPSOCKADDR_STORAGE;
typedef struct in_addr IN_ADDR, *PIN_ADDR, *LPIN_ADDR;
typedef struct in6_addr IN6_ADDR, *PIN6_ADDR, *LPIN6_ADDR;
typedef struct hostent HOSTENT, *PHOSTENT, *LPHOSTENT;
typedef struct servent SERVENT, *PSERVENT, *LPSERVENT;
typedef struct protoent PROTOENT, *PPROTOENT, *LPPROTOENT;
typedef struct timeval TIMEVAL, *PTIMEVAL, *LPTIMEVAL;
typedef struct linger LINGER, *PLINGER, *LPLINGER;
typedef fd_set FD_SET, *PFD_SET, *LPFD_SET;
/* Windows' exclusive binding is Linux's default (a second socket binds a
 * bound port only if both set SO_REUSEADDR); setting it is accepted. */
#define SO_EXCLUSIVEADDRUSE ((int)(~SO_REUSEADDR))

/* shutdown()'s how, with the values of Linux's SHUT_RD, SHUT_WR, SHUT_RDWR. */
#define SD_RECEIVE 0
#define SD_SEND 1
#define SD_BOTH 2

typedef HANDLE WSAEVENT; /* as on Windows: an event is a HANDLE */
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
#define WSAENOTEMPTY 10066
#define WSAEPROCLIM 10067
#define WSAEUSERS 10068
#define WSAEDQUOT 10069
#define WSAESTALE 10070
#define WSAEREMOTE 10071
#define WSASYSNOTREADY 10091
#define WSAVERNOTSUPPORTED 10092
#define WSANOTINITIALISED 10093
#define WSAEDISCON 10101
#define WSAENOMORE 10102
#define WSAECANCELLED 10103
#define WSAEINVALIDPROCTABLE 10104
#define WSAEINVALIDPROVIDER 10105
#define WSAEPROVIDERFAILEDINIT 10106
#define WSASYSCALLFAILURE 10107
#define WSASERVICE_NOT_FOUND 10108
#define WSATYPE_NOT_FOUND 10109
#define WSA_E_NO_MORE 10110
#define WSA_E_CANCELLED 10111
#define WSAEREFUSED 10112
#define WSAHOST_NOT_FOUND 11001
#define WSATRY_AGAIN 11002
#define WSANO_RECOVERY 11003
#define WSANO_DATA 11004
#define WSANO_ADDRESS WSANO_DATA

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
typedef struct _WSAOVERLAPPED OVERLAPPED, *LPOVERLAPPED; /* one type, as there */
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
 * with WSAEINVAL, as on Windows), FIONREAD, and SIOCATMARK with Windows'
 * meaning: TRUE when no urgent (OOB) data waits to be read. */
WSEVENT_EXTERN int ioctlsocket(SOCKET s, long cmd, u_long *argp);

/* WSAIoctl: the ioctlsocket commands, without overlapped (lpOverlapped and
 * the routine must be NULL: WSAEINVAL otherwise); *lpcbBytesReturned is
 * the bytes written to the output buffer.  Other codes: WSAEINVAL. */
WSEVENT_EXTERN int WSAIoctl(SOCKET s, DWORD dwIoControlCode, LPVOID lpvInBuffer,
                            DWORD cbInBuffer, LPVOID lpvOutBuffer,
                            DWORD cbOutBuffer, LPDWORD lpcbBytesReturned,
                            LPWSAOVERLAPPED lpOverlapped,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE lpCompletionRoutine);

/* WSAPoll: poll(2) with Winsock's errors; WSAPOLLFD is struct pollfd (a
 * SOCKET, then events and revents, as Windows lays it out). */
typedef struct pollfd WSAPOLLFD, *PWSAPOLLFD, *LPWSAPOLLFD;
WSEVENT_EXTERN int WSAPoll(LPWSAPOLLFD fdArray, ULONG fds, INT timeout);

/* WSAConnect without caller or callee data or QoS (they must be NULL:
 * WSAEOPNOTSUPP otherwise), and WSAAccept with an optional condition
 * function: CF_ACCEPT keeps the connection, CF_REJECT closes it
 * (WSAECONNREFUSED); CF_DEFER cannot be honoured (Linux has accepted the
 * connection already): it is refused as CF_REJECT is, with WSATRY_AGAIN. */
typedef void *LPQOS;
#define CF_ACCEPT 0x0000
#define CF_REJECT 0x0001
#define CF_DEFER 0x0002
typedef int(CALLBACK *LPCONDITIONPROC)(LPWSABUF lpCallerId, LPWSABUF lpCallerData,
                                       LPQOS lpSQOS, LPQOS lpGQOS,
                                       LPWSABUF lpCalleeId, LPWSABUF lpCalleeData,
                                       GROUP *g, DWORD_PTR dwCallbackData);
WSEVENT_EXTERN int WSAConnect(SOCKET s, const struct sockaddr *name, int namelen,
                              LPWSABUF lpCallerData, LPWSABUF lpCalleeData,
                              LPQOS lpSQOS, LPQOS lpGQOS);
WSEVENT_EXTERN SOCKET WSAAccept(SOCKET s, struct sockaddr *addr, LPINT addrlen,
                                LPCONDITIONPROC lpfnCondition,
                                DWORD_PTR dwCallbackData);

/* An address as text, "1.2.3.4:80" or "[::1]:80" (no port when it is 0),
 * and back; lpProtocolInfo must be NULL.  A buffer too small: WSAEFAULT
 * with the length needed in *lpdwAddressStringLength. */
WSEVENT_EXTERN INT WSAAddressToStringA(LPSOCKADDR lpsaAddress, DWORD dwAddressLength,
                                       LPWSAPROTOCOL_INFO lpProtocolInfo,
                                       LPSTR lpszAddressString,
                                       LPDWORD lpdwAddressStringLength);
WSEVENT_EXTERN INT WSAStringToAddressA(LPSTR AddressString, INT AddressFamily,
                                       LPWSAPROTOCOL_INFO lpProtocolInfo,
                                       LPSOCKADDR lpAddress, LPINT lpAddressLength);
#define WSAAddressToString WSAAddressToStringA
#define WSAStringToAddress WSAStringToAddressA

/* ---- the kernel32 calls event programs use ----
 *
 * Events only: a HANDLE here is an event (CreateEvent's or
 * WSACreateEvent's).  Errors as GetLastError reports them on Windows
 * (ERROR_INVALID_HANDLE, ERROR_INVALID_PARAMETER...); GetLastError is
 * WSAGetLastError, as on Windows.  Security attributes are ignored (only
 * this user's processes see a named event).  A name may start with
 * "Local\\" or "Global\\" (one namespace per user here). */
#define INFINITE 0xFFFFFFFFu
#define WAIT_OBJECT_0 0x0u
#define WAIT_ABANDONED 0x80u
#define WAIT_ABANDONED_0 WAIT_ABANDONED
#define WAIT_TIMEOUT 0x102u
#define WAIT_FAILED 0xFFFFFFFFu
#define MAXIMUM_WAIT_OBJECTS 64
#define INVALID_HANDLE_VALUE ((HANDLE)(intptr_t)-1)
#define ERROR_SUCCESS 0L
#define NO_ERROR 0L
#define ERROR_FILE_NOT_FOUND 2L
#define ERROR_INVALID_HANDLE 6L
#define ERROR_NOT_ENOUGH_MEMORY 8L
#define ERROR_NETNAME_DELETED 64L
#define ERROR_INVALID_PARAMETER 87L
#define ERROR_INVALID_NAME 123L
#define ERROR_ALREADY_EXISTS 183L
#define ERROR_OPERATION_ABORTED 995L
#define ERROR_IO_INCOMPLETE 996L
#define ERROR_IO_PENDING 997L
#define SYNCHRONIZE 0x00100000L
#define EVENT_MODIFY_STATE 0x0002
#define EVENT_ALL_ACCESS 0x1F0003
typedef void *LPSECURITY_ATTRIBUTES;

WSEVENT_EXTERN DWORD GetLastError(void);
WSEVENT_EXTERN void SetLastError(DWORD dwErrCode);
WSEVENT_EXTERN HANDLE CreateEventA(LPSECURITY_ATTRIBUTES lpEventAttributes,
                                   BOOL bManualReset, BOOL bInitialState,
                                   LPCSTR lpName);
WSEVENT_EXTERN HANDLE OpenEventA(DWORD dwDesiredAccess, BOOL bInheritHandle,
                                 LPCSTR lpName);
#define CreateEvent CreateEventA
#define OpenEvent OpenEventA
WSEVENT_EXTERN BOOL SetEvent(HANDLE hEvent);
WSEVENT_EXTERN BOOL ResetEvent(HANDLE hEvent);
WSEVENT_EXTERN BOOL CloseHandle(HANDLE hObject);
WSEVENT_EXTERN DWORD WaitForSingleObject(HANDLE hHandle, DWORD dwMilliseconds);
WSEVENT_EXTERN DWORD WaitForSingleObjectEx(HANDLE hHandle, DWORD dwMilliseconds,
                                           BOOL bAlertable);
WSEVENT_EXTERN DWORD WaitForMultipleObjects(DWORD nCount, const HANDLE *lpHandles,
                                            BOOL bWaitAll, DWORD dwMilliseconds);
WSEVENT_EXTERN DWORD WaitForMultipleObjectsEx(DWORD nCount, const HANDLE *lpHandles,
                                              BOOL bWaitAll, DWORD dwMilliseconds,
                                              BOOL bAlertable);
WSEVENT_EXTERN void Sleep(DWORD dwMilliseconds);
/* Milliseconds since an arbitrary start (the monotonic clock); the DWORD
 * one wraps after 49.7 days, as on Windows. */
WSEVENT_EXTERN DWORD GetTickCount(void);
WSEVENT_EXTERN ULONGLONG GetTickCount64(void);

/* ---- the socket calls, with Winsock's errors and arguments ---- */
WSEVENT_EXTERN SOCKET wsevent_ws_socket(int af, int type, int protocol);
WSEVENT_EXTERN int wsevent_ws_bind(SOCKET s, const struct sockaddr *name, int namelen);
WSEVENT_EXTERN int wsevent_ws_listen(SOCKET s, int backlog);
WSEVENT_EXTERN int wsevent_ws_connect(SOCKET s, const struct sockaddr *name, int namelen);
WSEVENT_EXTERN SOCKET wsevent_ws_accept(SOCKET s, struct sockaddr *addr, int *addrlen);
WSEVENT_EXTERN int wsevent_ws_recv(SOCKET s, void *buf, int len, int flags);
WSEVENT_EXTERN int wsevent_ws_recvfrom(SOCKET s, void *buf, int len, int flags,
                                       struct sockaddr *from, int *fromlen);
WSEVENT_EXTERN int wsevent_ws_send(SOCKET s, const void *buf, int len, int flags);
WSEVENT_EXTERN int wsevent_ws_sendto(SOCKET s, const void *buf, int len, int flags,
                                     const struct sockaddr *to, int tolen);
WSEVENT_EXTERN int wsevent_ws_shutdown(SOCKET s, int how);
WSEVENT_EXTERN int wsevent_ws_getsockname(SOCKET s, struct sockaddr *name, int *namelen);
WSEVENT_EXTERN int wsevent_ws_getpeername(SOCKET s, struct sockaddr *name, int *namelen);
WSEVENT_EXTERN int wsevent_ws_getsockopt(SOCKET s, int level, int optname,
                                         void *optval, int *optlen);
WSEVENT_EXTERN int wsevent_ws_setsockopt(SOCKET s, int level, int optname,
                                         const void *optval, int optlen);
WSEVENT_EXTERN int wsevent_ws_select(int nfds, fd_set *readfds, fd_set *writefds,
                                     fd_set *exceptfds, const struct timeval *timeout);
/* Their failures in WSAGetLastError (WSAHOST_NOT_FOUND...), not h_errno. */
WSEVENT_EXTERN struct hostent *wsevent_ws_gethostbyname(const char *name);
WSEVENT_EXTERN struct hostent *wsevent_ws_gethostbyaddr(const char *addr, int len,
                                                        int type);

#ifndef WSEVENT_WINSOCK_NO_MACROS
/* Windows passes lengths as int: the casts take an int* where Linux wants
 * a socklen_t*, and a char* or void* buffer alike. */
#define socket(af, type, protocol) wsevent_ws_socket((af), (type), (protocol))
#define bind(s, name, namelen)                                                \
  wsevent_ws_bind((s), (const struct sockaddr *)(name), (int)(namelen))
#define listen(s, backlog) wsevent_ws_listen((s), (backlog))
#define connect(s, name, namelen)                                             \
  wsevent_ws_connect((s), (const struct sockaddr *)(name), (int)(namelen))
#define accept(s, addr, addrlen)                                              \
  wsevent_ws_accept((s), (struct sockaddr *)(addr), (int *)(addrlen))
#define recv(s, buf, len, flags)                                              \
  wsevent_ws_recv((s), (buf), (int)(len), (flags))
#define recvfrom(s, buf, len, flags, from, fromlen)                           \
  wsevent_ws_recvfrom((s), (buf), (int)(len), (flags),                        \
                      (struct sockaddr *)(from), (int *)(fromlen))
#define send(s, buf, len, flags)                                              \
  wsevent_ws_send((s), (buf), (int)(len), (flags))
#define sendto(s, buf, len, flags, to, tolen)                                 \
  wsevent_ws_sendto((s), (buf), (int)(len), (flags),                          \
                    (const struct sockaddr *)(to), (int)(tolen))
#define shutdown(s, how) wsevent_ws_shutdown((s), (how))
#define getsockname(s, name, namelen)                                         \
  wsevent_ws_getsockname((s), (struct sockaddr *)(name), (int *)(namelen))
#define getpeername(s, name, namelen)                                         \
  wsevent_ws_getpeername((s), (struct sockaddr *)(name), (int *)(namelen))
#define getsockopt(s, level, name, value, len)                                \
  wsevent_ws_getsockopt((s), (level), (name), (value), (int *)(len))
#define setsockopt(s, level, name, value, len)                                \
  wsevent_ws_setsockopt((s), (level), (name), (value), (int)(len))
#define select(nfds, readfds, writefds, exceptfds, timeout)                   \
  wsevent_ws_select((nfds), (readfds), (writefds), (exceptfds), (timeout))
#define gethostbyname(name) wsevent_ws_gethostbyname((name))
#define gethostbyaddr(addr, len, type)                                        \
  wsevent_ws_gethostbyaddr((const char *)(addr), (int)(len), (type))
#endif

/* Calling conventions, which mean nothing on x86-64 Linux. */
#ifndef __cdecl
#define __cdecl
#endif
#ifndef __stdcall
#define __stdcall
#endif
#ifndef PASCAL
#define PASCAL
#endif

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_WINSOCK2_H */
