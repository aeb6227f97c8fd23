/*
 * test_overlapped.c: Winsock overlapped I/O, written as Windows code and
 * compiled unchanged against wsevent's <winsock2.h>.  Every expected value
 * is what Windows documents, and what Wine 8 printed for the same scenario
 * (x86_64-w64-mingw32-gcc, ws2_32).
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <string.h>

#include "../tap.h"

static SOCKET l, c, s;
static struct sockaddr_in addr;

/* A listener, a client and the accepted end, all made with WSASocket. */
static void setup(void) {
  WSADATA wsa;
  ASSERT_EQ(WSAStartup(MAKEWORD(2, 2), &wsa), 0);
  l = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
  ASSERT(l != INVALID_SOCKET);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof addr;
  ASSERT_EQ(bind(l, (struct sockaddr *)&addr, sizeof addr), 0);
  ASSERT_EQ(listen(l, 5), 0);
  ASSERT_EQ(getsockname(l, (struct sockaddr *)&addr, &len), 0);
  c = WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, WSA_FLAG_OVERLAPPED);
  ASSERT_EQ(connect(c, (struct sockaddr *)&addr, sizeof addr), 0);
  s = accept(l, NULL, NULL);
  ASSERT(s != INVALID_SOCKET);
}

static WSAOVERLAPPED with_event(void) {
  WSAOVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  ov.hEvent = WSACreateEvent();
  return ov;
}

TEST(test_wsarecv_pends_then_completes_through_its_event) {
  setup();
  char b1[4], b2[16];
  WSABUF bufs[2] = {{4, b1}, {16, b2}};
  WSAOVERLAPPED ov = with_event();
  DWORD got = 99, flags = 0, t = 99, f = 99;
  /* WSARecv: "WSA_IO_PENDING: An overlapped operation was successfully
   * initiated and completion will be indicated at a later time." */
  ASSERT_EQ(WSARecv(s, bufs, 2, &got, &flags, &ov, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSA_IO_PENDING);
  ASSERT(!HasOverlappedIoCompleted(&ov));
  /* WSAGetOverlappedResult: "WSA_IO_INCOMPLETE: The fWait parameter is
   * FALSE and the I/O operation has not yet completed." */
  ASSERT_EQ(WSAGetOverlappedResult(s, &ov, &t, FALSE, &f), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_IO_INCOMPLETE);
  ASSERT_EQ(send(c, "hello world", 11, 0), 11);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(WSAGetOverlappedResult(s, &ov, &t, FALSE, &f), TRUE);
  ASSERT_EQ(t, 11);
  ASSERT_EQ(f, 0);
  ASSERT(HasOverlappedIoCompleted(&ov));
  ASSERT_EQ(memcmp(b1, "hell", 4), 0);
  ASSERT_EQ(memcmp(b2, "o world", 7), 0);
}

TEST(test_operations_done_at_once_return_zero_and_still_signal) {
  setup();
  WSAOVERLAPPED os = with_event(), ov = with_event();
  WSABUF sb = {3, "abc"};
  DWORD sent = 0, got = 0, flags = 0;
  ASSERT_EQ(WSASend(s, &sb, 1, &sent, 0, &os, NULL), 0);
  ASSERT_EQ(sent, 3);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &os.hEvent, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);
  char buf[8];
  WSABUF rb = {sizeof buf, buf};
  ASSERT_EQ(recv(c, buf, 3, MSG_WAITALL), 3);
  ASSERT_EQ(send(c, "xy", 2, 0), 2);
  fd_set r;
  FD_ZERO(&r);
  FD_SET(s, &r);
  ASSERT_EQ(select(s + 1, &r, NULL, NULL, NULL), 1);
  ASSERT_EQ(WSARecv(s, &rb, 1, &got, &flags, &ov, NULL), 0);
  ASSERT_EQ(got, 2);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 0, FALSE), WSA_WAIT_EVENT_0);
}

static DWORD r_err = 77, r_bytes = 77, r_flags = 77;
static int r_calls;
static LPWSAOVERLAPPED r_ov;

static void CALLBACK routine(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
  r_err = err;
  r_bytes = bytes;
  r_flags = flags;
  r_ov = ov;
  r_calls++;
}

TEST(test_a_completion_routine_runs_in_an_alertable_wait_of_the_thread) {
  setup();
  char buf[16];
  WSABUF rb = {sizeof buf, buf};
  WSAOVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  DWORD got, flags = 0;
  ASSERT_EQ(WSARecv(s, &rb, 1, &got, &flags, &ov, routine), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSA_IO_PENDING);
  ASSERT_EQ(send(c, "12345", 5, 0), 5);
  DWORD t, f;
  ASSERT_EQ(WSAGetOverlappedResult(s, &ov, &t, TRUE, &f), TRUE);
  ASSERT_EQ(r_calls, 0); /* only in an alertable wait */
  ASSERT_EQ(SleepEx(5000, TRUE), WAIT_IO_COMPLETION);
  ASSERT_EQ(r_calls, 1);
  ASSERT_EQ(r_err, 0);
  ASSERT_EQ(r_bytes, 5);
  ASSERT_EQ(r_flags, 0);
  ASSERT(r_ov == &ov);
  /* And through WSAWaitForMultipleEvents(..., fAlertable TRUE). */
  WSAEVENT never = WSACreateEvent();
  ASSERT_EQ(WSARecv(s, &rb, 1, &got, &flags, &ov, routine), SOCKET_ERROR);
  ASSERT_EQ(send(c, "6", 1, 0), 1);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &never, FALSE, 5000, TRUE), WSA_WAIT_IO_COMPLETION);
  ASSERT_EQ(r_calls, 2);
  ASSERT_EQ(r_bytes, 1);
}

TEST(test_cancelioex_and_closesocket_abort_pending_operations) {
  setup();
  char buf[16];
  WSABUF rb = {sizeof buf, buf};
  WSAOVERLAPPED ov = with_event();
  DWORD got, flags = 0, t = 99, f;
  ASSERT_EQ(WSARecv(s, &rb, 1, &got, &flags, &ov, NULL), SOCKET_ERROR);
  ASSERT_EQ(CancelIoEx((HANDLE)(intptr_t)s, &ov), TRUE);
  /* The operation completes with ERROR_OPERATION_ABORTED. */
  ASSERT_EQ(WSAGetOverlappedResult(s, &ov, &t, TRUE, &f), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSA_OPERATION_ABORTED);
  ASSERT_EQ(t, 0);
  /* CancelIoEx: "If this function cannot find a request to cancel, the
   * return value is 0, and GetLastError returns ERROR_NOT_FOUND." */
  ASSERT_EQ(CancelIoEx((HANDLE)(intptr_t)s, &ov), FALSE);
  ASSERT_EQ(WSAGetLastError(), ERROR_NOT_FOUND);
  /* closesocket: "Any pending overlapped send and receive operations ...
   * are also canceled." */
  WSAResetEvent(ov.hEvent);
  ASSERT_EQ(WSARecv(s, &rb, 1, &got, &flags, &ov, NULL), SOCKET_ERROR);
  ASSERT_EQ(closesocket(s), 0);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
  ASSERT(HasOverlappedIoCompleted(&ov));
}

TEST(test_end_of_stream_completes_with_zero_bytes) {
  setup();
  char buf[16];
  WSABUF rb = {sizeof buf, buf};
  WSAOVERLAPPED ov = with_event();
  DWORD got, flags = 0, t = 99, f;
  ASSERT_EQ(WSARecv(s, &rb, 1, &got, &flags, &ov, NULL), SOCKET_ERROR);
  ASSERT_EQ(shutdown(c, SD_SEND), 0);
  ASSERT_EQ(WSAGetOverlappedResult(s, &ov, &t, TRUE, &f), TRUE);
  ASSERT_EQ(t, 0);
}

TEST(test_a_truncated_datagram_fails_with_wsaemsgsize_buffer_filled) {
  setup();
  SOCKET u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in ua, from;
  memset(&ua, 0, sizeof ua);
  ua.sin_family = AF_INET;
  ua.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof ua, fromlen = sizeof from;
  ASSERT_EQ(bind(u1, (struct sockaddr *)&ua, sizeof ua), 0);
  ASSERT_EQ(getsockname(u1, (struct sockaddr *)&ua, &len), 0);
  char small[4];
  WSABUF rb = {4, small}, dg = {10, "datagram!!"};
  WSAOVERLAPPED ov = with_event();
  DWORD got, flags = 0, sent, t, f;
  ASSERT_EQ(WSARecvFrom(u1, &rb, 1, &got, &flags, (struct sockaddr *)&from, &fromlen,
                        &ov, NULL),
            SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSA_IO_PENDING);
  ASSERT_EQ(WSASendTo(u2, &dg, 1, &sent, 0, (struct sockaddr *)&ua, sizeof ua, NULL, NULL), 0);
  ASSERT_EQ(sent, 10);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 5000, FALSE), WSA_WAIT_EVENT_0);
  ASSERT_EQ(WSAGetOverlappedResult(u1, &ov, &t, FALSE, &f), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSAEMSGSIZE);
  ASSERT_EQ(t, 4);
  ASSERT_EQ(fromlen, sizeof from);
  ASSERT_EQ(memcmp(small, "data", 4), 0);
}

TEST(test_wrong_arguments_follow_windows_order) {
  setup();
  DWORD got, flags = 0, t, f;
  WSAOVERLAPPED ov = with_event();
  char buf[4];
  WSABUF rb = {4, buf};
  /* A bad socket first, even with NULL pointers. */
  ASSERT_EQ(WSARecv(-1, NULL, 1, NULL, NULL, NULL, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(WSAGetOverlappedResult(-1, NULL, NULL, FALSE, NULL), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSAENOTSOCK);
  ASSERT_EQ(WSARecv(s, NULL, 1, &got, &flags, &ov, NULL), SOCKET_ERROR);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  ASSERT_EQ(WSAGetOverlappedResult(s, &ov, NULL, FALSE, &f), FALSE);
  ASSERT_EQ(WSAGetLastError(), WSAEFAULT);
  ASSERT(WSASocket(AF_INET, SOCK_STREAM, 0, NULL, 0, 0x4000) == INVALID_SOCKET);
  ASSERT_EQ(WSAGetLastError(), WSAEINVAL);
  /* A send on a socket that never connected fails at once. */
  SOCKET n = socket(AF_INET, SOCK_STREAM, 0);
  WSABUF sb = {1, "x"};
  ASSERT_EQ(WSASend(n, &sb, 1, &got, 0, &ov, NULL), SOCKET_ERROR);
  ASSERT(WSAGetLastError() == WSAENOTCONN || WSAGetLastError() == WSAECONNRESET);
  ASSERT_EQ(WSAWaitForMultipleEvents(1, &ov.hEvent, FALSE, 0, FALSE), WSA_WAIT_TIMEOUT);
  (void)rb;
  (void)t;
}
