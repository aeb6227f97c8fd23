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

#define gai_strerrorA gai_strerror

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
