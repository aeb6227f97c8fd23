/*
 * ws2tcpip.h: the TCP/IP part of Winsock.  On Linux most of it comes with
 * winsock2.h (and <netdb.h>: getaddrinfo, getnameinfo, freeaddrinfo);
 * here are the names Windows gives it.
 */
#ifndef WSEVENT_WS2TCPIP_H
#define WSEVENT_WS2TCPIP_H
#include "winsock2.h"
#include <netdb.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct addrinfo ADDRINFOA, *PADDRINFOA;
typedef ADDRINFOA ADDRINFO, *LPADDRINFO;

/* getaddrinfo and getnameinfo return a Winsock code, as on Windows (and
 * set WSAGetLastError to it): the EAI_* names have Windows' values. */
WSEVENT_EXTERN int wsevent_ws_getaddrinfo(const char *node, const char *service,
                                          const struct addrinfo *hints,
                                          struct addrinfo **res);
WSEVENT_EXTERN int wsevent_ws_getnameinfo(const struct sockaddr *sa, socklen_t salen,
                                          char *host, DWORD hostlen, char *serv,
                                          DWORD servlen, int flags);
WSEVENT_EXTERN const char *wsevent_ws_gai_strerror(int code);

#ifndef WSEVENT_WINSOCK_INTERNAL /* (its files need glibc's values) */
#undef EAI_AGAIN
#undef EAI_BADFLAGS
#undef EAI_FAIL
#undef EAI_FAMILY
#undef EAI_MEMORY
#undef EAI_NONAME
#undef EAI_NODATA
#undef EAI_SERVICE
#undef EAI_SOCKTYPE
#define EAI_AGAIN WSATRY_AGAIN
#define EAI_BADFLAGS WSAEINVAL
#define EAI_FAIL WSANO_RECOVERY
#define EAI_FAMILY WSAEAFNOSUPPORT
#define EAI_MEMORY WSA_NOT_ENOUGH_MEMORY
#define EAI_NONAME WSAHOST_NOT_FOUND
#define EAI_NODATA EAI_NONAME
#define EAI_SERVICE WSATYPE_NOT_FOUND
#define EAI_SOCKTYPE WSAESOCKTNOSUPPORT
#endif

#ifndef WSEVENT_WINSOCK_NO_MACROS
#define getaddrinfo(node, service, hints, res)                                \
  wsevent_ws_getaddrinfo((node), (service), (hints), (res))
#define getnameinfo(sa, salen, host, hostlen, serv, servlen, flags)           \
  wsevent_ws_getnameinfo((const struct sockaddr *)(sa), (socklen_t)(salen),   \
                         (host), (DWORD)(hostlen), (serv), (DWORD)(servlen), (flags))
#undef gai_strerror
#define gai_strerror(code) wsevent_ws_gai_strerror((code))
#endif
#define gai_strerrorA wsevent_ws_gai_strerror

/* InetPton and InetNtop, the ANSI ones (1 / the string on success, as
 * inet_pton and inet_ntop). */
static inline INT InetPtonA(INT family, PCSTR text, PVOID addr) {
  return inet_pton(family, text, addr);
}
static inline PCSTR InetNtopA(INT family, const VOID *addr, PSTR text, size_t size) {
  return inet_ntop(family, addr, text, (socklen_t)size);
}
#define InetPton InetPtonA
#define InetNtop InetNtopA

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_WS2TCPIP_H */
