/*
 * echo_client.c: the load generator of the whole-program echo benchmarks
 * (bench_python.py, bench_lua.lua).
 *
 *   echo_client PORT CONNECTIONS SECONDS
 *
 * Opens CONNECTIONS to 127.0.0.1:PORT (TCP_NODELAY), keeps one 64-byte
 * message in flight on each, and prints the round trips per second it saw
 * over SECONDS.  A plain epoll loop in C: per message it costs a fraction
 * of what any of the servers it drives costs (they run an interpreter), so
 * the server is what is measured.  A client written in the servers' own
 * language costs as much as the cheapest of them, and then sets the pace
 * for all: it measured every server at the client's speed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"

enum { MSG = 64, MAXCONN = 1000 };

static void fail(const char *what) {
  perror(what);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS SECONDS\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]), conns = atoi(argv[2]);
  double seconds = atof(argv[3]);
  if (port <= 0 || port > 65535 || conns <= 0 || conns > MAXCONN || !(seconds > 0)) {
    fprintf(stderr, "%s: bad arguments\n", argv[0]);
    return 2;
  }
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  static int fds[MAXCONN];
  static long got[MAXCONN];
  char msg[MSG] = {0}, in[4096];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    fail("epoll_create1");
  for (int i = 0; i < conns; i++) {
    int one = 1;
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0)
      fail("connect");
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev) < 0)
      fail("epoll_ctl");
  }
  for (int i = 0; i < conns; i++)
    if (write(fds[i], msg, MSG) != MSG)
      fail("write");
  long trips = 0;
  double t0 = bench_now_ns(), end = t0 + seconds * 1e9, now = t0;
  while (now < end) {
    struct epoll_event evs[MAXCONN];
    int n = epoll_wait(ep, evs, MAXCONN, 1000);
    if (n < 0)
      fail("epoll_wait");
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      ssize_t r = read(fds[i], in, sizeof in);
      if (r <= 0) {
        fprintf(stderr, "%s: the server closed or failed\n", argv[0]);
        return 1;
      }
      for (got[i] += r; got[i] >= MSG; got[i] -= MSG) {
        trips++;
        if (write(fds[i], msg, MSG) != MSG)
          fail("write");
      }
    }
    now = bench_now_ns();
  }
  printf("%.0f\n", trips / ((now - t0) / 1e9));
  for (int i = 0; i < conns; i++)
    close(fds[i]);
  return 0;
}
