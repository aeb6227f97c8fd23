/*
 * test_calls.c: the BSD socket calls and the kernel32 calls as Winsock
 * code makes them, compiled unchanged against wsevent's <winsock2.h>.
 * Each expected value is what Windows documents for the call (quoted
 * where it is not obvious); Wine 8 gives the same unless a comment says.
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../tap.h"

static void startup(void) {
  WSADATA wsa;
  ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
}

static SOCKET listener(SOCKADDR_IN *addr) {
  SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  int len = sizeof *addr;
  ZeroMemory(addr, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(l, (SOCKADDR *)addr, sizeof *addr), 0);
  ASSERT_EQ(listen(l, SOMAXCONN), 0);
  ASSERT_EQ(getsockname(l, (SOCKADDR *)addr, &len), 0);
  return l;
}

/* A connected pair: *client, and the accepted end returned. */
static SOCKET tcp_pair(SOCKET *client) {
  SOCKADDR_IN addr;
  SOCKET l = listener(&addr);
  *client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(connect(*client, (SOCKADDR *)&addr, sizeof addr), 0);
  SOCKET s = accept(l, NULL, NULL);
  ASSERT_NE(s, INVALID_SOCKET);
  closesocket(l);
  return s;
}

TEST(test_socket_calls_before_wsastartup_fail_with_wsanotinitialised) {
  ASSERT_EQ(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), INVALID_SOCKET);
  ASSERT_EQ(WSAGetLastError(), WSANOTINITIALISED);
  char c;
  ASSERT_EQ(recv(0, &c, 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSANOTINITIALISED);
  /* kernel32's calls need no WSAStartup. */
  HANDLE h = CreateEvent(NULL, TRUE, FALSE, NULL);
  ASSERT(h != NULL);
  ASSERT_EQ(CloseHandle(h), TRUE);
}

TEST(test_each_failure_sets_its_own_error_even_with_errno_unchanged) {
  /* Two failures in a row that leave the same errno each set the error
   * (a WSASetLastError(0) in between must not stick). */
  startup();
  SOCKET c, s = tcp_pair(&c);
  u_long on = 1;
  char buf[8];
  ASSERT_EQ(ioctlsocket(s, FIONBIO, &on), 0);
  for (int i = 0; i < 2; i++) {
    WSASetLastError(0);
    ASSERT_EQ(recv(s, buf, sizeof buf, 0), SOCKET_ERROR);
    ASSERT_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
  }
  /* A pending overlapped operation records WSA_IO_PENDING; the next
   * failure is its own. */
  WSAOVERLAPPED ov;
  WSABUF wb = {sizeof buf, buf};
  DWORD n, flags = 0;
  ZeroMemory(&ov, sizeof ov);
  ov.hEvent = WSACreateEvent();
  ASSERT_EQ(WSARecv(s, &wb, 1, &n, &flags, &ov, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSA_IO_PENDING);
  SOCKADDR_IN a;
  int len = sizeof a;
  ASSERT_EQ(getsockname(s, (SOCKADDR *)&a, &len), 0);
  ASSERT_EQ(bind(s, (SOCKADDR *)&a, sizeof a), SOCKET_ERROR); /* bound */
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  ASSERT_EQ(WSASetEvent((WSAEVENT)(uintptr_t)12345), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  closesocket(c);
  ASSERT_EQ(recv(c, buf, 1, 0), SOCKET_ERROR); /* closed: no socket */
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  closesocket(s);
  WSACloseEvent(ov.hEvent);
  WSACleanup();
}

TEST(test_creation_and_option_errors_name_what_is_wrong) {
  startup();
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  char buf[4] = {0};
  ASSERT_EQ(socket(12345, SOCK_STREAM, 0), INVALID_SOCKET);
  ASSERT_EQ(WSAGetLastError(), WSAEAFNOSUPPORT);
  ASSERT_EQ(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), INVALID_SOCKET);
  ASSERT_EQ(WSAGetLastError(), WSAEPROTONOSUPPORT);
  ASSERT_EQ(socket(AF_INET, 999, 0), INVALID_SOCKET);
  ASSERT_EQ(WSAGetLastError(), WSAESOCKTNOSUPPORT);
  ASSERT_EQ(setsockopt(s, SOL_SOCKET, 9999, buf, 4), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOPROTOOPT);
  ASSERT_EQ(setsockopt(s, 12345, 1, buf, 4), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL); /* "level is not valid" */
  SOCKADDR_IN a;
  ZeroMemory(&a, sizeof a);
  ASSERT_EQ(bind((SOCKET)12345, (SOCKADDR *)&a, sizeof a), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK); /* Wine says WSAEAFNOSUPPORT */
  ASSERT_EQ(connect((SOCKET)12345, (SOCKADDR *)&a, sizeof a), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(send((SOCKET)12345, buf, 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  /* "WSAEINVAL: The socket has not been bound with bind." */
  ASSERT_EQ(listen(s, 5), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  int len = sizeof a;
  ASSERT_EQ(getsockname(s, (SOCKADDR *)&a, &len), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  /* A buffer too small is WSAEFAULT, not a truncated address. */
  SOCKADDR_IN named;
  SOCKET l = listener(&named);
  len = 4;
  ASSERT_EQ(getsockname(l, (SOCKADDR *)&a, &len), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  /* A success leaves the error as it was. */
  WSASetLastError(7777);
  BOOL yes = TRUE;
  ASSERT_EQ(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (char *)&yes, sizeof yes), 0);
  ASSERT_EQ(setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (char *)&yes, sizeof yes), 0);
  ASSERT_EQ(WSAGetLastError(), 7777);
  closesocket(l);
  closesocket(s);
  WSACleanup();
}

TEST(test_lengths_too_small_and_unknown_levels_answer_as_windows) {
  startup();
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  SOCKADDR_IN a;
  ZeroMemory(&a, sizeof a);
  a.sin_family = AF_INET;
  /* "the namelen parameter is too small": WSAEFAULT (Linux: EINVAL) */
  ASSERT_EQ(bind(s, (SOCKADDR *)&a, 8), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  ASSERT_EQ(connect(s, (SOCKADDR *)&a, 8), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT); /* Wine says WSAEADDRNOTAVAIL */
  int v = 0, len = 1; /* an int option read into one byte */
  ASSERT_EQ(getsockopt(s, SOL_SOCKET, SO_RCVBUF, (char *)&v, &len), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  len = sizeof v; /* a TCP socket answers an unknown level with EOPNOTSUPP */
  ASSERT_EQ(getsockopt(s, 12345, 1, (char *)&v, &len), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  /* send on a datagram socket with no peer: "not connected" */
  SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  ASSERT_EQ(send(u, "x", 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTCONN); /* Wine says WSAEINVAL */
  closesocket(u);
  closesocket(s);
  WSACleanup();
}

TEST(test_wsapoll_says_hup_for_a_close_and_refuses_what_windows_refuses) {
  startup();
  SOCKET c, s = tcp_pair(&c);
  WSAPOLLFD pf = {s, POLLRDNORM, 0};
  ASSERT_EQ(WSAPoll(&pf, 1, 0), 0);
  ASSERT_EQ(shutdown(c, SD_SEND), 0); /* the peer's FIN */
  ASSERT_EQ(WSAPoll(&pf, 1, 5000), 1);
  ASSERT(pf.revents & POLLHUP); /* Linux says POLLRDHUP */
  ASSERT_EQ(pf.events, POLLRDNORM); /* the caller's array, as it was */
  WSAPOLLFD bad = {s, POLLRDNORM | POLLHUP, 0};
  ASSERT_EQ(WSAPoll(&bad, 1, 0), SOCKET_ERROR); /* invalid flags in events
                                                   (Wine takes them) */
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  WSAPOLLFD none[2] = {{(SOCKET)12345, POLLRDNORM, 0}, {-1, POLLRDNORM, 0}};
  ASSERT_EQ(WSAPoll(none, 2, 0), SOCKET_ERROR); /* no valid socket at all
                                                   (Wine: WSAENOTSOCK) */
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  WSAPOLLFD some[2] = {{(SOCKET)12345, POLLRDNORM, 0}, {s, POLLRDNORM, 0}};
  ASSERT_EQ(WSAPoll(some, 2, 0), 2);
  ASSERT(some[0].revents & POLLNVAL);
  closesocket(c);
  closesocket(s);
  WSACleanup();
}

TEST(test_resolver_failures_are_winsock_codes) {
  /* getaddrinfo returns a Winsock code and sets the last error to it, and
   * the EAI_* names have those values, as Windows' ws2tcpip.h says. */
  startup();
  ADDRINFOA hints, *res = NULL;
  ZeroMemory(&hints, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_flags = AI_NUMERICHOST;
  ASSERT_EQ(getaddrinfo("not-an-address", "80", &hints, &res), WSAHOST_NOT_FOUND);
  ASSERT_EQ(EAI_NONAME, WSAHOST_NOT_FOUND);
  ASSERT_EQ(WSAGetLastError(), WSAHOST_NOT_FOUND);
  ASSERT(gai_strerror(EAI_NONAME) != NULL && strlen(gai_strerror(EAI_NONAME)) > 0);
  hints.ai_flags = AI_NUMERICSERV;
  ASSERT_EQ(getaddrinfo("127.0.0.1", "http-not-a-number", &hints, &res), EAI_NONAME);
  hints.ai_flags = 0;
  ASSERT_EQ(getaddrinfo("127.0.0.1", "no-such-service-here", &hints, &res), WSATYPE_NOT_FOUND);
  ASSERT_EQ(getaddrinfo("127.0.0.1", "80", &hints, &res), 0);
  ASSERT(res != NULL);
  char host[64], serv[16];
  ASSERT_EQ(getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV), 0);
  ASSERT_EQ(strcmp(host, "127.0.0.1"), 0);
  ASSERT_EQ(getnameinfo(res->ai_addr, res->ai_addrlen, host, 2, NULL, 0, NI_NUMERICHOST),
            WSAEFAULT); /* a buffer too small (Wine passes glibc's -12 on) */
  freeaddrinfo(res);
  WSASetLastError(0);
  ASSERT(gethostbyname("no-such-host.invalid") == NULL);
  ASSERT(WSAGetLastError() == WSAHOST_NOT_FOUND || WSAGetLastError() == WSATRY_AGAIN ||
         WSAGetLastError() == WSANO_RECOVERY); /* not h_errno, not 0 */
  WSACleanup();
  /* After WSACleanup, as before WSAStartup (Wine still resolves). */
  ASSERT_EQ(getaddrinfo("127.0.0.1", "80", &hints, &res), WSANOTINITIALISED);
}

TEST(test_connect_again_after_a_non_blocking_connect_is_wsaeisconn) {
  /* The loop that calls connect until it says WSAEISCONN (Linux says 0
   * once more after the connection completed). */
  startup();
  SOCKADDR_IN addr;
  SOCKET l = listener(&addr);
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  u_long on = 1;
  ASSERT_EQ(ioctlsocket(c, FIONBIO, &on), 0);
  int r = connect(c, (SOCKADDR *)&addr, sizeof addr), err = WSAGetLastError();
  ASSERT(r == 0 || err == WSAEWOULDBLOCK);
  int tries = 0;
  while (connect(c, (SOCKADDR *)&addr, sizeof addr) == SOCKET_ERROR &&
         (err = WSAGetLastError()) != WSAEISCONN && tries++ < 500) {
    ASSERT(err == WSAEALREADY || err == WSAEWOULDBLOCK || err == WSAEINVAL);
    Sleep(1);
  }
  ASSERT_EQ(err, WSAEISCONN);
  ASSERT_EQ(connect(c, (SOCKADDR *)&addr, sizeof addr), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEISCONN);
  /* listen on a connected socket: "The socket is already connected." */
  ASSERT_EQ(listen(c, 1), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEISCONN); /* Wine says WSAEINVAL */
  closesocket(c);
  closesocket(l);
  WSACleanup();
}

TEST(test_shutdown_makes_later_sends_and_receives_wsaeshutdown) {
  startup();
  SOCKET c, s = tcp_pair(&c);
  char buf[8] = "x";
  ASSERT_EQ(shutdown(s, SD_SEND), 0);
  ASSERT_EQ(send(s, "x", 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAESHUTDOWN);
  WSABUF wb = {1, buf};
  DWORD n;
  ASSERT_EQ(WSASend(s, &wb, 1, &n, 0, NULL, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAESHUTDOWN);
  ASSERT_EQ(send(c, "data", 4, 0), 4); /* the other way still works */
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), 4);
  ASSERT_EQ(shutdown(s, SD_RECEIVE), 0);
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAESHUTDOWN);
  ASSERT_EQ(shutdown(s, 7), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  /* A socket reset by its peer is WSAECONNRESET, not WSAESHUTDOWN. */
  SOCKET c2, s2 = tcp_pair(&c2);
  LINGER lg = {1, 0};
  ASSERT_EQ(setsockopt(c2, SOL_SOCKET, SO_LINGER, (char *)&lg, sizeof lg), 0);
  closesocket(c2);
  WSAPOLLFD pf = {s2, POLLRDNORM, 0}; /* until the reset has arrived */
  ASSERT_EQ(WSAPoll(&pf, 1, 5000), 1);
  ASSERT_EQ(send(s2, "x", 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAECONNRESET);
  /* A new socket under a shut socket's number starts clean. */
  closesocket(s);
  SOCKET c3, s3 = tcp_pair(&c3);
  ASSERT_EQ(send(s3, "ok", 2, 0), 2);
  closesocket(c);
  closesocket(s2);
  closesocket(c3);
  closesocket(s3);
  WSACleanup();
}

TEST(test_a_truncated_datagram_fails_with_wsaemsgsize_its_buffer_filled) {
  startup();
  SOCKET u1 = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  SOCKET u2 = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  SOCKADDR_IN a, from;
  ZeroMemory(&a, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(u1, (SOCKADDR *)&a, sizeof a), 0);
  int len = sizeof a;
  ASSERT_EQ(getsockname(u1, (SOCKADDR *)&a, &len), 0);
  ASSERT_EQ(sendto(u2, "too long", 8, 0, (SOCKADDR *)&a, sizeof a), 8);
  char buf[4];
  int fromlen = sizeof from;
  ASSERT_EQ(recvfrom(u1, buf, sizeof buf, 0, (SOCKADDR *)&from, &fromlen), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEMSGSIZE);
  ASSERT_EQ(memcmp(buf, "too ", 4), 0);
  ASSERT_EQ(sendto(u2, "fits", 4, 0, (SOCKADDR *)&a, sizeof a), 4);
  ASSERT_EQ(recv(u1, buf, sizeof buf, 0), 4);
  closesocket(u1);
  closesocket(u2);
  WSACleanup();
}

TEST(test_socket_options_take_windows_values) {
  startup();
  SOCKET c, s = tcp_pair(&c);
  /* SO_RCVTIMEO as Windows takes it: a DWORD of milliseconds; a recv that
   * times out fails with WSAETIMEDOUT. */
  DWORD ms = 50, back = 0;
  int len = sizeof back;
  ASSERT_EQ(setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&ms, sizeof ms), 0);
  ASSERT_EQ(getsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (char *)&back, &len), 0);
  ASSERT_GE(back, 50); /* Linux keeps it in clock ticks: 52 at 250 Hz */
  ASSERT_LE(back, 60);
  char buf[4];
  DWORD t0 = GetTickCount();
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAETIMEDOUT);
  ASSERT_GE(GetTickCount() - t0, 40);
  /* A timeval, as Linux code passes it, still works. */
  struct timeval tv = {0, 20000};
  ASSERT_EQ(setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, (const char *)&tv, sizeof tv), 0);
  int one = 1;
  ASSERT_EQ(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one), 0);
  /* SO_ERROR is a Winsock error. */
  SOCKADDR_IN addr;
  SOCKET l = listener(&addr);
  closesocket(l); /* nobody listens there now */
  SOCKET r = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  u_long on = 1;
  ASSERT_EQ(ioctlsocket(r, FIONBIO, &on), 0);
  if (connect(r, (SOCKADDR *)&addr, sizeof addr) == SOCKET_ERROR &&
      WSAGetLastError() == WSAEWOULDBLOCK) {
    fd_set w, e;
    FD_ZERO(&w);
    FD_ZERO(&e);
    FD_SET(r, &w);
    FD_SET(r, &e);
    TIMEVAL five = {5, 0};
    /* A failed connect is in exceptfds, not writefds. */
    ASSERT_EQ(select(0, NULL, &w, &e, &five), 1);
    ASSERT(FD_ISSET(r, &e));
    ASSERT(!FD_ISSET(r, &w));
    int err = 0;
    len = sizeof err;
    ASSERT_EQ(getsockopt(r, SOL_SOCKET, SO_ERROR, (char *)&err, &len), 0);
    ASSERT_EQ(err, WSAECONNREFUSED);
  } else {
    ASSERT_EQ(WSAGetLastError(), WSAECONNREFUSED); /* refused in the call */
  }
  closesocket(r);
  closesocket(c);
  closesocket(s);
  WSACleanup();
}

TEST(test_select_ignores_nfds_and_keeps_the_timeout) {
  startup();
  SOCKADDR_IN addr;
  SOCKET l = listener(&addr);
  fd_set r;
  TIMEVAL tv = {0, 20000};
  FD_ZERO(&r);
  FD_SET(l, &r);
  ASSERT_EQ(select(0, &r, NULL, NULL, &tv), 0); /* nothing yet: times out */
  ASSERT_EQ(tv.tv_usec, 20000); /* left as it was, as Windows leaves it */
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(connect(c, (SOCKADDR *)&addr, sizeof addr), 0);
  FD_SET(l, &r);
  tv.tv_sec = 5;
  ASSERT_EQ(select(0, &r, NULL, NULL, &tv), 1);
  ASSERT(FD_ISSET(l, &r));
  /* "all three descriptor parameters were null", or empty */
  ASSERT_EQ(select(0, NULL, NULL, NULL, &tv), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  FD_ZERO(&r);
  ASSERT_EQ(select(0, &r, NULL, NULL, &tv), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  /* WSAPoll, with the Windows names. */
  WSAPOLLFD pf = {l, POLLRDNORM, 0};
  ASSERT_EQ(WSAPoll(&pf, 1, 5000), 1);
  ASSERT(pf.revents & POLLRDNORM);
  ASSERT_EQ(WSAPoll(NULL, 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  closesocket(c);
  closesocket(l);
  WSACleanup();
}

TEST(test_siocatmark_is_true_while_no_urgent_data_waits) {
  startup();
  SOCKET c, s = tcp_pair(&c);
  u_long at = 0;
  ASSERT_EQ(ioctlsocket(s, SIOCATMARK, &at), 0);
  ASSERT_EQ(at, TRUE);
  ASSERT_EQ(send(c, "!", 1, MSG_OOB), 1);
  WSAPOLLFD pf = {s, POLLPRI, 0};
  ASSERT_EQ(WSAPoll(&pf, 1, 5000), 1);
  ASSERT_EQ(ioctlsocket(s, SIOCATMARK, &at), 0);
  ASSERT_EQ(at, FALSE);
  char b;
  ASSERT_EQ(recv(s, &b, 1, MSG_OOB), 1);
  ASSERT_EQ(ioctlsocket(s, SIOCATMARK, &at), 0);
  ASSERT_EQ(at, TRUE);
  u_long n = 99;
  DWORD got = 0;
  ASSERT_EQ(WSAIoctl(s, FIONREAD, NULL, 0, &n, sizeof n, &got, NULL, NULL), 0);
  ASSERT_EQ(n, 0);
  ASSERT_EQ(got, sizeof n);
  closesocket(c);
  closesocket(s);
  WSACleanup();
}

static int CALLBACK reject_all(LPWSABUF caller, LPWSABUF caller_data, LPQOS sqos,
                               LPQOS gqos, LPWSABUF callee, LPWSABUF callee_data,
                               GROUP *g, DWORD_PTR data) {
  (void)caller_data, (void)sqos, (void)gqos, (void)callee_data, (void)g;
  const SOCKADDR_IN *peer = (const SOCKADDR_IN *)caller->buf;
  ASSERT_EQ(peer->sin_family, AF_INET);
  ASSERT_EQ(callee->len, sizeof(SOCKADDR_IN));
  return data == 1 ? CF_REJECT : CF_ACCEPT;
}

TEST(test_wsaconnect_and_wsaaccept_with_a_condition) {
  startup();
  SOCKADDR_IN addr, peer;
  SOCKET l = listener(&addr);
  SOCKET c1 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  SOCKET c2 = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(WSAConnect(c1, (SOCKADDR *)&addr, sizeof addr, NULL, NULL, NULL, NULL), 0);
  ASSERT_EQ(WSAConnect(c2, (SOCKADDR *)&addr, sizeof addr, NULL, NULL, NULL, NULL), 0);
  ASSERT_EQ(WSAAccept(l, NULL, NULL, reject_all, 1), INVALID_SOCKET);
  ASSERT_EQ(WSAGetLastError(), WSAECONNREFUSED);
  int len = sizeof peer;
  SOCKET s = WSAAccept(l, (SOCKADDR *)&peer, &len, reject_all, 0);
  ASSERT_NE(s, INVALID_SOCKET);
  ASSERT_EQ(len, sizeof peer);
  char b;
  ASSERT_EQ(recv(c1, &b, 1, 0), 0); /* the rejected one was closed */
  WSABUF data = {1, &b};
  ASSERT_EQ(WSAConnect(c1, (SOCKADDR *)&addr, sizeof addr, &data, NULL, NULL, NULL),
            SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEOPNOTSUPP);
  closesocket(s);
  closesocket(c1);
  closesocket(c2);
  closesocket(l);
  WSACleanup();
}

TEST(test_addresses_to_and_from_text) {
  startup();
  SOCKADDR_IN a;
  int len = sizeof a;
  char text[64];
  DWORD tlen = sizeof text;
  ASSERT_EQ(WSAStringToAddressA("10.1.2.3:8080", AF_INET, NULL, (LPSOCKADDR)&a, &len), 0);
  ASSERT_EQ(ntohs(a.sin_port), 8080);
  ASSERT_EQ(WSAAddressToStringA((LPSOCKADDR)&a, sizeof a, NULL, text, &tlen), 0);
  ASSERT_EQ(strcmp(text, "10.1.2.3:8080"), 0);
  ASSERT_EQ(tlen, strlen(text) + 1);
  SOCKADDR_IN6 a6;
  len = sizeof a6;
  ASSERT_EQ(WSAStringToAddressA("[::1]:53", AF_INET6, NULL, (LPSOCKADDR)&a6, &len), 0);
  tlen = sizeof text;
  ASSERT_EQ(WSAAddressToStringA((LPSOCKADDR)&a6, sizeof a6, NULL, text, &tlen), 0);
  ASSERT_EQ(strcmp(text, "[::1]:53"), 0);
  a6.sin6_port = 0;
  tlen = 2; /* too small: WSAEFAULT with the size needed */
  ASSERT_EQ(WSAAddressToStringA((LPSOCKADDR)&a6, sizeof a6, NULL, text, &tlen),
            SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  ASSERT_EQ(tlen, 4); /* "::1" */
  len = sizeof a;
  ASSERT_EQ(WSAStringToAddressA("not an address", AF_INET, NULL, (LPSOCKADDR)&a, &len),
            SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  IN_ADDR ia;
  ASSERT_EQ(InetPton(AF_INET, "1.2.3.4", &ia), 1);
  ASSERT(InetNtop(AF_INET, &ia, text, sizeof text) != NULL);
  ASSERT_EQ(strcmp(text, "1.2.3.4"), 0);
  WSACleanup();
}

static void *set_after(void *h) {
  Sleep(20);
  SetEvent((HANDLE)h);
  return NULL;
}

TEST(test_kernel32_events_waits_and_last_errors) {
  HANDLE manual = CreateEvent(NULL, TRUE, FALSE, NULL);
  HANDLE autoev = CreateEventA(NULL, FALSE, TRUE, NULL);
  ASSERT(manual != NULL && autoev != NULL);
  ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
  ASSERT_EQ(WaitForSingleObject(autoev, 0), WAIT_OBJECT_0);
  ASSERT_EQ(WaitForSingleObject(autoev, 0), WAIT_TIMEOUT); /* consumed */
  pthread_t t;
  pthread_create(&t, NULL, set_after, manual);
  HANDLE both[2] = {autoev, manual};
  ASSERT_EQ(WaitForMultipleObjects(2, both, FALSE, INFINITE), WAIT_OBJECT_0 + 1);
  pthread_join(t, NULL);
  ASSERT_EQ(ResetEvent(manual), TRUE);
  ASSERT_EQ(WaitForMultipleObjects(0, both, FALSE, 0), WAIT_FAILED);
  ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
  ASSERT_EQ(WaitForMultipleObjects(MAXIMUM_WAIT_OBJECTS + 1, both, FALSE, 0), WAIT_FAILED);
  ASSERT_EQ(GetLastError(), ERROR_INVALID_PARAMETER);
  /* A WSAEVENT is a HANDLE, as on Windows. */
  startup();
  WSAEVENT w = WSACreateEvent();
  HANDLE hw = w;
  ASSERT_EQ(SetEvent(hw), TRUE);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &w, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(CloseHandle(hw), TRUE);
  ASSERT_EQ(CloseHandle(hw), FALSE);
  ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
  ASSERT_EQ(WaitForSingleObjectEx(INVALID_HANDLE_VALUE, 0, FALSE), WAIT_FAILED);
  ASSERT_EQ(GetLastError(), ERROR_INVALID_HANDLE);
  SetLastError(1234);
  ASSERT_EQ(WSAGetLastError(), 1234); /* one last error */
  /* Alertable: a routine queued by an overlapped operation. */
  ASSERT_EQ(WaitForSingleObjectEx(manual, 10, TRUE), WAIT_TIMEOUT);
  CloseHandle(manual);
  CloseHandle(autoev);
  WSACleanup();
}

TEST(test_named_events_open_and_say_they_existed) {
  char name[64];
  snprintf(name, sizeof name, "Local\\wsevent-test-%d", (int)getpid());
  ASSERT(OpenEvent(EVENT_ALL_ACCESS, FALSE, name) == NULL);
  ASSERT_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
  HANDLE a = CreateEvent(NULL, TRUE, FALSE, name);
  ASSERT(a != NULL);
  ASSERT_EQ(GetLastError(), ERROR_SUCCESS);
  HANDLE b = CreateEvent(NULL, FALSE, TRUE, name);
  ASSERT(b != NULL);
  ASSERT_EQ(GetLastError(), ERROR_ALREADY_EXISTS);
  HANDLE c = OpenEvent(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, name + 6);
  ASSERT(c != NULL);
  ASSERT_EQ(SetEvent(c), TRUE);
  /* The existing one kept its own mode: manual, set for every handle. */
  ASSERT_EQ(WaitForSingleObject(a, 0), WAIT_OBJECT_0);
  ASSERT_EQ(WaitForSingleObject(b, 0), WAIT_OBJECT_0);
  ASSERT(CreateEvent(NULL, TRUE, FALSE, "bad/name") == NULL);
  ASSERT_EQ(GetLastError(), ERROR_INVALID_NAME);
  CloseHandle(a);
  CloseHandle(b);
  CloseHandle(c);
}

TEST(test_the_windows_names_winsock_code_uses_compile_and_mean_it) {
  /* Types, macros and constants of typical Winsock code, as written. */
  BYTE bytes[4];
  FillMemory(bytes, sizeof bytes, 7);
  ASSERT_EQ(bytes[3], 7);
  ZeroMemory(bytes, sizeof bytes);
  SecureZeroMemory(bytes, sizeof bytes);
  CopyMemory(bytes, "abc", 3);
  MoveMemory(bytes + 1, bytes, 2);
  ASSERT_EQ(memcmp(bytes, "aab", 3), 0);
  ASSERT_EQ(_countof(bytes), 4);
  ASSERT_EQ(ARRAYSIZE("abc"), 4);
  DWORD l = MAKELONG(1, 2);
  ASSERT_EQ(LOWORD(l), 1);
  ASSERT_EQ(HIWORD(l), 2);
  ASSERT_EQ(LOBYTE(MAKEWORD(3, 4)), 3);
  UINT u = 0;
  USHORT us = 0;
  LPVOID v = &u;
  PVOID pv = &us;
  LPCSTR s = "x";
  LPINT pi = NULL;
  LPBOOL pb = NULL;
  DWORD_PTR dp = (DWORD_PTR)v;
  SIZE_T sz = sizeof dp;
  ULONGLONG ull = GetTickCount64();
  (void)pv, (void)s, (void)pi, (void)pb, (void)sz, (void)ull;
  SOCKADDR_STORAGE ss;
  LPSOCKADDR sa = (LPSOCKADDR)&ss;
  PSOCKADDR_IN sin = (PSOCKADDR_IN)&ss;
  LPSOCKADDR_IN6 sin6 = (LPSOCKADDR_IN6)&ss;
  IN_ADDR ia = {0};
  IN6_ADDR ia6 = in6addr_any;
  TIMEVAL tv = {1, 0};
  LINGER lg = {1, 0};
  FD_SET fs;
  FD_ZERO(&fs);
  FD_SET(0, &fs);
  ASSERT(FD_ISSET(0, &fs));
  HOSTENT *he = NULL;
  ADDRINFOA *ai = NULL;
  PADDRINFOA pai = NULL;
  OVERLAPPED ov;
  LPOVERLAPPED pov = &ov;
  ZeroMemory(pov, sizeof *pov);
  (void)sa, (void)sin, (void)sin6, (void)ia, (void)ia6, (void)tv, (void)lg;
  (void)he, (void)ai, (void)pai;
  ASSERT(gai_strerrorA(EAI_NONAME) != NULL);
  DWORD waits = INFINITE + WAIT_OBJECT_0 + WAIT_TIMEOUT + WAIT_FAILED;
  long errs = ERROR_IO_PENDING + ERROR_OPERATION_ABORTED + ERROR_IO_INCOMPLETE +
              ERROR_SUCCESS + ERROR_NETNAME_DELETED + WSAEDISCON + WSAHOST_NOT_FOUND +
              WSATRY_AGAIN + WSANO_RECOVERY + WSANO_DATA + WSAECANCELLED +
              WSAEPROCLIM + WSASYSCALLFAILURE;
  ASSERT_EQ(ERROR_IO_PENDING, WSA_IO_PENDING);
  ASSERT_EQ(ERROR_OPERATION_ABORTED, WSA_OPERATION_ABORTED);
  ASSERT_EQ(WAIT_TIMEOUT, WSA_WAIT_TIMEOUT);
  ASSERT_EQ(INFINITE, WSA_INFINITE);
  (void)waits, (void)errs;
  DWORD t0 = GetTickCount();
  Sleep(10);
  ASSERT_GE(GetTickCount() - t0, 9);
}
