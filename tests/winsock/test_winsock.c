/*
 * test_winsock.c: Winsock-style code, compiled unchanged against
 * <winsock2.h> (wsevent's) and linked with -lwsevent.  Every expected
 * value is what Windows documents for the call (the comment names it).
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <pthread.h>
#include <string.h>

#include "../tap.h"

static void startup(void) {
  WSADATA wsa;
  ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
  ASSERT_EQ(wsa.wVersion, MAKEWORD(2, 2));
}

TEST(test_calls_before_wsastartup_fail_with_wsanotinitialised) {
  /* WSACreateEvent: "WSANOTINITIALISED: A successful WSAStartup call must
   * occur before using this function." */
  ASSERT(WSACreateEvent() == WSA_INVALID_EVENT);
  ASSERT_EQ(WSAGetLastError(), WSANOTINITIALISED);
  ASSERT_EQ(WSACleanup(), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSANOTINITIALISED);
}

TEST(test_wsastartup_versions_and_cleanup) {
  WSADATA wsa;
  ASSERT_EQ(WSAStartup(MAKEWORD(1, 0), &wsa), WSAVERNOTSUPPORTED);
  ASSERT_EQ(WSAStartup(MAKEWORD(1, 1), &wsa), 0);
  ASSERT_EQ(wsa.wVersion, MAKEWORD(1, 1));
  ASSERT_EQ(wsa.wHighVersion, MAKEWORD(2, 2));
  ASSERT_EQ(WSAStartup(MAKEWORD(3, 0), &wsa), 0); /* served as 2.2 */
  ASSERT_EQ(wsa.wVersion, MAKEWORD(2, 2));
  ASSERT_EQ(WSACleanup(), 0);
  ASSERT_EQ(WSACleanup(), 0);
  ASSERT_EQ(WSACleanup(), SOCKET_ERROR); /* one more than the startups */
}

TEST(test_event_lifecycle_as_wsacreateevent_documents) {
  startup();
  WSAEVENT ev = WSACreateEvent();
  ASSERT(ev != WSA_INVALID_EVENT);
  /* "The WSACreateEvent function creates a manual-reset event object with
   * an initial state of nonsignaled." */
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_TIMEOUT);
  ASSERT_EQ(WSASetEvent(ev), TRUE);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(WSAResetEvent(ev), TRUE);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 10, FALSE), WSA_WAIT_TIMEOUT);
  ASSERT_EQ(WSACloseEvent(ev), TRUE);
  WSACleanup();
}

TEST(test_invalid_handles_give_false_and_wsa_invalid_handle) {
  startup();
  WSAEVENT ev = WSACreateEvent();
  WSACloseEvent(ev);
  WSASetLastError(0);
  ASSERT_EQ(WSASetEvent(ev), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  ASSERT_EQ(WSAResetEvent(ev), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  ASSERT_EQ(WSACloseEvent(ev), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  ASSERT_EQ(WSACloseEvent(WSA_INVALID_EVENT), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 0, FALSE), WSA_WAIT_FAILED);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  WSACleanup();
}

TEST(test_wait_parameters_outside_the_documented_range) {
  startup();
  WSAEVENT evs[WSA_MAXIMUM_WAIT_EVENTS + 1];
  for (int i = 0; i <= WSA_MAXIMUM_WAIT_EVENTS; i++)
    evs[i] = WSACreateEvent();
  /* "WSA_INVALID_PARAMETER: The cEvents parameter does not contain a
   * valid handle count." (0, or more than WSA_MAXIMUM_WAIT_EVENTS) */
  ASSERT_EQ(WSAWaitForMultipleEvents(0, evs, FALSE, 0, FALSE), WSA_WAIT_FAILED);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_PARAMETER);
  ASSERT_EQ(WSAWaitForMultipleEvents(WSA_MAXIMUM_WAIT_EVENTS + 1, evs, FALSE, 0, FALSE),
            WSA_WAIT_FAILED);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_PARAMETER);
  ASSERT_EQ(WSAWaitForMultipleEvents(WSA_MAXIMUM_WAIT_EVENTS, evs, FALSE, 0, FALSE),
            WSA_WAIT_TIMEOUT);
  WSASetEvent(evs[63]);
  WSASetEvent(evs[40]);
  ASSERT_EQ(WSAWaitForMultipleEvents(WSA_MAXIMUM_WAIT_EVENTS, evs, FALSE, WSA_INFINITE, FALSE),
            WSA_WAIT_EVENT_0 + 40); /* the lowest index */
  ASSERT_EQ(WSAWaitForMultipleEvents(WSA_MAXIMUM_WAIT_EVENTS, evs, TRUE, 0, FALSE),
            WSA_WAIT_TIMEOUT);
  for (int i = 0; i <= WSA_MAXIMUM_WAIT_EVENTS; i++)
    WSACloseEvent(evs[i]);
  WSACleanup();
}

static void *set_later(void *p) {
  usleep(30000);
  WSASetEvent((WSAEVENT)p);
  return NULL;
}

TEST(test_wait_all_and_wait_across_threads) {
  startup();
  WSAEVENT evs[2] = {WSACreateEvent(), WSACreateEvent()};
  pthread_t t;
  WSASetEvent(evs[0]);
  pthread_create(&t, NULL, set_later, evs[1]);
  ASSERT_EQ(WSAWaitForMultipleEvents(2, evs, TRUE, 5000, FALSE), WSA_WAIT_EVENT_0);
  pthread_join(t, NULL);
  WSACloseEvent(evs[0]);
  WSACloseEvent(evs[1]);
  WSACleanup();
}

static void *last_error_of_new_thread(void *p) {
  (void)p;
  return (void *)(intptr_t)WSAGetLastError();
}

TEST(test_last_error_is_per_thread) {
  startup();
  WSASetLastError(12345);
  pthread_t t;
  pthread_create(&t, NULL, last_error_of_new_thread, NULL);
  void *other;
  pthread_join(t, &other);
  ASSERT_EQ((long)(intptr_t)other, 0);
  ASSERT_EQ(WSAGetLastError(), 12345);
  WSACleanup();
}

TEST(test_last_error_also_reports_failed_socket_calls) {
  startup();
  char c;
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  WSAEVENT ev = WSACreateEvent();
  ASSERT_EQ(WSAEventSelect(s, ev, FD_READ), 0); /* now non-blocking */
  ASSERT_EQ(recv(s, &c, 1, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTCONN);
  ASSERT_EQ(WSASetEvent(WSA_INVALID_EVENT), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_INVALID_HANDLE);
  closesocket(s);
  WSACloseEvent(ev);
  WSACleanup();
}

/* ---- event-select over loopback TCP ---- */

static SOCKET tcp_listener(struct sockaddr_in *addr) {
  SOCKET l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  socklen_t len = sizeof *addr;
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr->sin_addr);
  ASSERT_NE(bind(l, (struct sockaddr *)addr, sizeof *addr), SOCKET_ERROR);
  ASSERT_NE(listen(l, 8), SOCKET_ERROR);
  getsockname(l, (struct sockaddr *)addr, &len);
  return l;
}

static long wait_and_enum(SOCKET s, WSAEVENT ev, WSANETWORKEVENTS *ne) {
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(WSAEnumNetworkEvents(s, ev, ne), 0);
  return ne->lNetworkEvents;
}

TEST(test_event_select_accept_connect_read_close) {
  startup();
  struct sockaddr_in addr;
  WSANETWORKEVENTS ne;
  SOCKET l = tcp_listener(&addr);
  WSAEVENT lev = WSACreateEvent(), cev = WSACreateEvent(), sev = WSACreateEvent();
  ASSERT_EQ(WSAEventSelect(l, lev, FD_ACCEPT), 0);

  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_NE(c, INVALID_SOCKET);
  ASSERT_EQ(WSAEventSelect(c, cev, FD_CONNECT | FD_READ | FD_CLOSE), 0);
  int r = connect(c, (struct sockaddr *)&addr, sizeof addr);
  /* The Windows idiom: a non-blocking connect "fails" with WSAEWOULDBLOCK. */
  ASSERT(r == 0 || WSAGetLastError() == WSAEWOULDBLOCK);

  ASSERT_EQ(wait_and_enum(l, lev, &ne) & FD_ACCEPT, FD_ACCEPT);
  ASSERT_EQ(ne.iErrorCode[FD_ACCEPT_BIT], 0);
  SOCKET s = accept(l, NULL, NULL);
  ASSERT_NE(s, INVALID_SOCKET);
  ASSERT_EQ(wait_and_enum(c, cev, &ne) & FD_CONNECT, FD_CONNECT);
  ASSERT_EQ(ne.iErrorCode[FD_CONNECT_BIT], 0);

  ASSERT_EQ(WSAEventSelect(s, sev, FD_READ | FD_WRITE | FD_CLOSE), 0);
  ASSERT_EQ(wait_and_enum(s, sev, &ne), FD_WRITE); /* after accept */
  ASSERT_EQ(send(c, "ping", 4, 0), 4);
  ASSERT_EQ(wait_and_enum(s, sev, &ne) & FD_READ, FD_READ);
  char buf[16];
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), 4);

  closesocket(c); /* graceful */
  long seen = 0;
  for (int i = 0; i < 5 && !(seen & FD_CLOSE); i++) {
    seen |= wait_and_enum(s, sev, &ne);
    if (ne.lNetworkEvents & FD_CLOSE)
      ASSERT_EQ(ne.iErrorCode[FD_CLOSE_BIT], 0);
  }
  ASSERT_EQ(seen & FD_CLOSE, FD_CLOSE);
  closesocket(s);
  closesocket(l);
  WSACloseEvent(lev); WSACloseEvent(cev); WSACloseEvent(sev);
  WSACleanup();
}

TEST(test_refused_connect_reports_wsaeconnrefused) {
  startup();
  struct sockaddr_in addr;
  WSANETWORKEVENTS ne;
  SOCKET l = tcp_listener(&addr);
  closesocket(l);
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  WSAEVENT ev = WSACreateEvent();
  ASSERT_EQ(WSAEventSelect(c, ev, FD_CONNECT), 0);
  connect(c, (struct sockaddr *)&addr, sizeof addr);
  ASSERT_EQ(wait_and_enum(c, ev, &ne), FD_CONNECT);
  ASSERT_EQ(ne.iErrorCode[FD_CONNECT_BIT], WSAECONNREFUSED);
  closesocket(c);
  WSACloseEvent(ev);
  WSACleanup();
}

TEST(test_event_select_error_paths) {
  startup();
  WSAEVENT ev = WSACreateEvent();
  WSANETWORKEVENTS ne;
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  /* "WSAENOTSOCK: The descriptor is not a socket." */
  ASSERT_EQ(WSAEventSelect(p[0], ev, FD_READ), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(WSAEnumNetworkEvents(p[0], ev, &ne), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  /* "WSAEINVAL: Indicates that one of the specified parameters was
   * invalid" (here a bad event; and the QOS bits Linux lacks). */
  ASSERT_EQ(WSAEventSelect(s, (WSAEVENT)(uintptr_t)12345, FD_READ), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  ASSERT_EQ(WSAEventSelect(s, ev, FD_QOS), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  /* "WSAEFAULT: The lpNetworkEvents parameter is not a valid part of the
   * user address space." */
  ASSERT_EQ(WSAEnumNetworkEvents(s, ev, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  /* Cancelling with a null event and mask 0 is allowed. */
  ASSERT_EQ(WSAEventSelect(s, WSA_INVALID_EVENT, 0), 0);
  closesocket(s);
  WSACloseEvent(ev);
  WSACleanup();
}

/* ---- what Winsock programs around event-select use ---- */

TEST(test_success_and_timeouts_leave_the_last_error_alone) {
  startup();
  WSAEVENT ev = WSACreateEvent();
  WSASetLastError(WSAEWOULDBLOCK);
  ASSERT_EQ(WSASetEvent(ev), TRUE);
  ASSERT_EQ(WSAResetEvent(ev), TRUE);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 10, FALSE), WSA_WAIT_TIMEOUT);
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(WSAEventSelect(s, ev, FD_READ), 0);
  WSANETWORKEVENTS ne;
  ASSERT_EQ(WSAEnumNetworkEvents(s, ev, &ne), 0);
  WSAEVENT other = WSACreateEvent();
  ASSERT_EQ(WSACloseEvent(other), TRUE);
  ASSERT_EQ(closesocket(s), 0);
  ASSERT_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
  WSACloseEvent(ev);
  WSACleanup();
}

TEST(test_a_bad_socket_is_wsaenotsock_before_a_null_pointer) {
  startup();
  u_long arg = 0;
  ASSERT_EQ(WSAEnumNetworkEvents(INVALID_SOCKET, WSA_INVALID_EVENT, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(ioctlsocket(INVALID_SOCKET, FIONBIO, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(WSAEventSelect(1000000, WSA_INVALID_EVENT, FD_QOS), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(closesocket(INVALID_SOCKET), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(ioctlsocket(s, FIONBIO, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  ASSERT_EQ(ioctlsocket(s, 0x12345678, &arg), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  closesocket(s);
  WSACleanup();
}

TEST(test_ioctlsocket_fionbio_and_fionread) {
  startup();
  struct sockaddr_in addr;
  SOCKET l = tcp_listener(&addr);
  u_long arg = 1;
  ASSERT_EQ(ioctlsocket(l, FIONREAD, &arg), 0); /* a listener: 0 */
  ASSERT_EQ(arg, 0);
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(connect(c, (struct sockaddr *)&addr, sizeof addr), 0);
  SOCKET s = accept(l, NULL, NULL);
  ASSERT_NE(s, INVALID_SOCKET);
  arg = 1;
  ASSERT_EQ(ioctlsocket(s, FIONBIO, &arg), 0);
  char buf[16];
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEWOULDBLOCK);
  ASSERT_EQ(send(c, "hello", 5, 0), 5);
  WSAEVENT ev = WSACreateEvent();
  ASSERT_EQ(WSAEventSelect(s, ev, FD_READ), 0);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ev, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(ioctlsocket(s, FIONREAD, &arg), 0);
  ASSERT_EQ(arg, 5);
  /* "WSAEINVAL ... FIONBIO ... while WSAEventSelect is in force". */
  arg = 0;
  ASSERT_EQ(ioctlsocket(s, FIONBIO, &arg), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  ASSERT_EQ(WSAEventSelect(s, WSA_INVALID_EVENT, 0), 0); /* cancelled */
  ASSERT_EQ(ioctlsocket(s, FIONBIO, &arg), 0);          /* blocking again */
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), 5);
  ASSERT_EQ(shutdown(c, SD_SEND), 0);
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), 0); /* blocks until the FIN */
  closesocket(c); closesocket(s); closesocket(l);
  WSACloseEvent(ev);
  WSACleanup();
}

TEST(test_recv_and_accept_reenable_exactly_as_windows) {
  startup();
  struct sockaddr_in addr;
  WSANETWORKEVENTS ne;
  SOCKET l = tcp_listener(&addr);
  WSAEVENT lev = WSACreateEvent();
  ASSERT_EQ(WSAEventSelect(l, lev, FD_ACCEPT | FD_READ | FD_CLOSE), 0);
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  ASSERT_EQ(connect(c, (struct sockaddr *)&addr, sizeof addr), 0);
  ASSERT_EQ(wait_and_enum(l, lev, &ne), FD_ACCEPT);
  /* "The socket returned by accept has the same properties as the
   * listening socket ... any WSAEventSelect events": same event, mask. */
  struct sockaddr_in peer;
  int len = sizeof peer;
  SOCKET s = accept(l, (struct sockaddr *)&peer, &len);
  ASSERT_NE(s, INVALID_SOCKET);
  ASSERT_EQ(len, (int)sizeof peer);
  ASSERT_EQ(send(c, "0123456789", 10, 0), 10);
  ASSERT_EQ(wait_and_enum(s, lev, &ne), FD_READ);
  /* Not re-enabled until a recv: a wait finds nothing new. */
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &lev, FALSE, 50, FALSE), WSA_WAIT_TIMEOUT);
  char buf[16];
  ASSERT_EQ(recv(s, buf, 4, 0), 4); /* data remains: recorded again */
  ASSERT_EQ(wait_and_enum(s, lev, &ne), FD_READ);
  ASSERT_EQ(recv(s, buf, sizeof buf, 0), 6);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &lev, FALSE, 50, FALSE), WSA_WAIT_TIMEOUT);
  /* closesocket cancels the selection: nothing more is recorded. */
  ASSERT_EQ(closesocket(c), 0);
  ASSERT_EQ(wait_and_enum(s, lev, &ne), FD_CLOSE);
  ASSERT_EQ(closesocket(s), 0);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &lev, FALSE, 50, FALSE), WSA_WAIT_TIMEOUT);
  closesocket(l);
  WSACloseEvent(lev);
  WSACleanup();
}
