/*
 * resolve.c: name resolution as Winsock reports it.
 *
 * getaddrinfo and getnameinfo return Winsock codes on Windows (and set
 * the last error to them): ws2tcpip.h gives the EAI_* names those values,
 * as Windows' does, and maps these calls here.  gethostbyname and
 * gethostbyaddr report their failure through WSAGetLastError, where Linux
 * uses h_errno.
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>

#include "internal.h"
#include "wsevent/ws2tcpip.h"

/* glibc's EAI_* (negative), as Windows names them. */
static int from_eai(int eai) {
  switch (eai) {
  case 0: return 0;
  case EAI_AGAIN: return WSATRY_AGAIN;
  case EAI_BADFLAGS: return WSAEINVAL;
  case EAI_FAIL: return WSANO_RECOVERY;
  case EAI_FAMILY: return WSAEAFNOSUPPORT;
  case EAI_MEMORY: return WSA_NOT_ENOUGH_MEMORY;
  case EAI_NONAME: return WSAHOST_NOT_FOUND;
#ifdef EAI_NODATA
  case EAI_NODATA: return WSAHOST_NOT_FOUND; /* Windows: EAI_NODATA is EAI_NONAME */
#endif
#ifdef EAI_ADDRFAMILY
  case EAI_ADDRFAMILY: return WSAHOST_NOT_FOUND;
#endif
  case EAI_SERVICE: return WSATYPE_NOT_FOUND;
  case EAI_SOCKTYPE: return WSAESOCKTNOSUPPORT;
  case EAI_OVERFLOW: return WSAEFAULT; /* a buffer too small */
  case EAI_SYSTEM: return wse_ws_from_errno(errno);
  default: return WSANO_RECOVERY;
  }
}

static int resolved(int eai, int saved) {
  int code = from_eai(eai);
  if (code != 0)
    wse_ws_fail(code);
  else
    errno = saved;
  return code;
}

int wsevent_ws_getaddrinfo(const char *node, const char *service,
                           const struct addrinfo *hints, struct addrinfo **res) {
  int saved = errno;
  if (!wse_ws_started())
    return WSANOTINITIALISED;
  return resolved(getaddrinfo(node, service, hints, res), saved);
}

int wsevent_ws_getnameinfo(const struct sockaddr *sa, socklen_t salen, char *host,
                           DWORD hostlen, char *serv, DWORD servlen, int flags) {
  int saved = errno;
  if (!wse_ws_started())
    return WSANOTINITIALISED;
  return resolved(getnameinfo(sa, salen, host, hostlen, serv, servlen, flags), saved);
}

const char *wsevent_ws_gai_strerror(int code) {
  switch (code) {
  case WSATRY_AGAIN: return gai_strerror(EAI_AGAIN);
  case WSAEINVAL: return gai_strerror(EAI_BADFLAGS);
  case WSANO_RECOVERY: return gai_strerror(EAI_FAIL);
  case WSAEAFNOSUPPORT: return gai_strerror(EAI_FAMILY);
  case WSA_NOT_ENOUGH_MEMORY: return gai_strerror(EAI_MEMORY);
  case WSAHOST_NOT_FOUND: return gai_strerror(EAI_NONAME);
  case WSATYPE_NOT_FOUND: return gai_strerror(EAI_SERVICE);
  case WSAESOCKTNOSUPPORT: return gai_strerror(EAI_SOCKTYPE);
  case WSAEFAULT: return gai_strerror(EAI_OVERFLOW);
  default: return code < 0 ? gai_strerror(code) : "Unknown error";
  }
}

/* h_errno, as WSAGetLastError says it. */
static struct hostent *looked_up(struct hostent *h, int saved) {
  if (h != NULL) {
    errno = saved;
    return h;
  }
  switch (h_errno) {
  case HOST_NOT_FOUND: wse_ws_fail(WSAHOST_NOT_FOUND); break;
  case TRY_AGAIN: wse_ws_fail(WSATRY_AGAIN); break;
  case NO_DATA: wse_ws_fail(WSANO_DATA); break;
  default: wse_ws_fail(WSANO_RECOVERY); break;
  }
  return NULL;
}

struct hostent *wsevent_ws_gethostbyname(const char *name) {
  int saved = errno;
  if (!wse_ws_started())
    return NULL;
  if (name == NULL) {
    wse_ws_fail(WSAEFAULT);
    return NULL;
  }
  return looked_up(gethostbyname(name), saved);
}

struct hostent *wsevent_ws_gethostbyaddr(const char *addr, int len, int type) {
  int saved = errno;
  if (!wse_ws_started())
    return NULL;
  if (addr == NULL || len < 0) {
    wse_ws_fail(WSAEFAULT);
    return NULL;
  }
  return looked_up(gethostbyaddr(addr, (socklen_t)len, type), saved);
}
