/*
 * winsock_echo.c: a Winsock event-select echo server, written for Windows
 * and compiled unchanged against wsevent's <winsock2.h>:
 *
 *     cc winsock_echo.c $(pkg-config --cflags --libs wsevent-winsock)
 *     x86_64-w64-mingw32-gcc winsock_echo.c -lws2_32     (the same file)
 *
 * Usage: winsock_echo [port [connections]]
 * Listens on 127.0.0.1:port (0: any free port), prints "listening on
 * PORT", echoes every byte back to its sender, and exits once
 * `connections` clients have come and gone (0: never).
 *
 * The classic shape: one event per socket, WSAWaitForMultipleEvents over
 * all of them, WSAEnumNetworkEvents for what happened.  Bytes the peer is
 * too slow to take wait in the connection's buffer until FD_WRITE says
 * there is room again, as Winsock re-enables FD_WRITE only after a send
 * that would block; a connection ends once its FIN was read and all was
 * echoed, or on an error.
 */
#include <winsock2.h>
#include <ws2tcpip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE 65536

struct conn {
  SOCKET s;
  WSAEVENT ev;
  char buf[BUF_SIZE]; /* received, not yet echoed */
  int len, sent;
};

static struct conn *conns[WSA_MAXIMUM_WAIT_EVENTS];
static WSAEVENT events[WSA_MAXIMUM_WAIT_EVENTS];
static int count; /* conns[0] is the listener */

static int add(SOCKET s, long mask) {
  struct conn *c;
  if (count == WSA_MAXIMUM_WAIT_EVENTS)
    return -1;
  c = calloc(1, sizeof *c);
  if (c == NULL)
    return -1;
  c->s = s;
  c->ev = WSACreateEvent();
  if (c->ev == WSA_INVALID_EVENT || WSAEventSelect(s, c->ev, mask) != 0) {
    fprintf(stderr, "select: %d\n", WSAGetLastError());
    if (c->ev != WSA_INVALID_EVENT)
      WSACloseEvent(c->ev);
    free(c);
    return -1;
  }
  conns[count] = c;
  events[count] = c->ev;
  count++;
  return 0;
}

static void drop(int i) {
  closesocket(conns[i]->s);
  WSACloseEvent(conns[i]->ev);
  free(conns[i]);
  count--;
  conns[i] = conns[count];
  events[i] = events[count];
}

/* Send what is buffered; 0 when done or blocked, -1 on error. */
static int flush(struct conn *c) {
  while (c->sent < c->len) {
    int n = send(c->s, c->buf + c->sent, c->len - c->sent, 0);
    if (n == SOCKET_ERROR)
      return WSAGetLastError() == WSAEWOULDBLOCK ? 0 : -1;
    c->sent += n;
  }
  c->len = c->sent = 0;
  return 0;
}

/* Read while there is room and data, echoing as it goes: -1 on error, 1
 * once the peer's FIN was read and everything echoed, else 0 (it goes on
 * at the next FD_READ or FD_WRITE). */
static int echo(struct conn *c) {
  for (;;) {
    int n;
    if (flush(c) != 0)
      return -1;
    if (c->len != 0)
      return 0; /* the peer is slow: FD_WRITE will resume */
    n = recv(c->s, c->buf, BUF_SIZE, 0);
    if (n == 0)
      return 1;
    if (n == SOCKET_ERROR)
      return WSAGetLastError() == WSAEWOULDBLOCK ? 0 : -1;
    c->len = n;
  }
}

int main(int argc, char **argv) {
  WSADATA wsa;
  struct sockaddr_in addr;
  int addrlen = sizeof addr;
  int port = argc > 1 ? atoi(argv[1]) : 0;
  int wanted = argc > 2 ? atoi(argv[2]) : 0, served = 0;
  SOCKET l;

  if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
    return 1;
  l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((u_short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (l == INVALID_SOCKET || bind(l, (struct sockaddr *)&addr, sizeof addr) != 0 ||
      listen(l, SOMAXCONN) != 0 ||
      getsockname(l, (struct sockaddr *)&addr, &addrlen) != 0 ||
      add(l, FD_ACCEPT | FD_CLOSE) != 0) {
    fprintf(stderr, "listen: %d\n", WSAGetLastError());
    return 1;
  }
  printf("listening on %d\n", ntohs(addr.sin_port));
  fflush(stdout);

  while (wanted == 0 || served < wanted) {
    WSANETWORKEVENTS ne;
    DWORD r = WSAWaitForMultipleEvents((DWORD)count, events, FALSE, WSA_INFINITE, FALSE);
    int i;
    if (r == WSA_WAIT_FAILED) {
      fprintf(stderr, "wait: %d\n", WSAGetLastError());
      return 1;
    }
    /* Look at every signaled event from the first, as Windows' samples
     * do, so that a busy socket cannot starve the ones after it. */
    for (i = (int)(r - WSA_WAIT_EVENT_0); i < count; i++) {
      struct conn *c = conns[i];
      if (WSAEnumNetworkEvents(c->s, c->ev, &ne) != 0) {
        fprintf(stderr, "enum: %d\n", WSAGetLastError());
        return 1;
      }
      if (ne.lNetworkEvents & FD_ACCEPT) {
        SOCKET s = accept(c->s, NULL, NULL);
        if (s != INVALID_SOCKET) {
          /* It has the listener's selection; give it its own event. */
          if (add(s, FD_READ | FD_WRITE | FD_CLOSE) != 0)
            closesocket(s);
        }
        continue;
      }
      /* FD_CLOSE too: a close is reported once the data before it was
       * read, but echoing it back may still wait for FD_WRITE. */
      if ((ne.lNetworkEvents & (FD_READ | FD_WRITE | FD_CLOSE)) && echo(c) != 0) {
        drop(i);
        i--;
        served++;
      }
    }
  }
  while (count > 0)
    drop(count - 1);
  WSACleanup();
  return 0;
}
