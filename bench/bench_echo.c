/*
 * bench_echo.c: a loopback echo server written with overlapped I/O (the
 * Winsock way: a receive pending per connection, completion routines that
 * echo and receive again, one thread in an alertable wait) against the
 * same server as a plain non-blocking epoll loop.  64-byte messages over
 * TCP; one connection (round-trip time) and 100 connections (messages per
 * second).  Rounds interleave the two servers; ratios are medians of the
 * per-round ratios.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "wsevent.h"

enum { MSG = 64, ROUNDS = 9, MAXCONN = 100 };

static int listener(struct sockaddr_in *a) {
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  *a = (struct sockaddr_in){.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof *a;
  if (bind(l, (struct sockaddr *)a, sizeof *a) || listen(l, 256) ||
      getsockname(l, (struct sockaddr *)a, &len))
    abort();
  return l;
}

static void nodelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ---- the overlapped server ---- */

/* The servers vouch for their sockets (WSEVENT_OV_SAME_SOCKET): they close
 * them only through the library, as a Winsock program with closesocket. */
static void close_socket(int fd) {
  wsevent_socket_closing(fd);
  close(fd);
}

struct conn {
  wsevent_overlapped_t rov, sov;
  int fd;
  char buf[MSG * 4];
};

static atomic_bool stop;

static void on_sent(int status, size_t bytes, wsevent_overlapped_t *ov, int flags);

static void receive(struct conn *c);

static void on_received(int status, size_t bytes, wsevent_overlapped_t *ov,
                        int flags) {
  (void)flags;
  struct conn *c = ov->context;
  if (status != WSEVENT_OK || bytes == 0) {
    close_socket(c->fd);
    free(c);
    return;
  }
  /* Echo what came, then receive again when the send is done. */
  wsevent_buf_t b = {bytes, c->buf};
  c->sov = (wsevent_overlapped_t){.context = c, .options = WSEVENT_OV_SAME_SOCKET};
  if (wsevent_send_overlapped(c->fd, &b, 1, 0, &c->sov, on_sent) < 0) {
    close_socket(c->fd);
    free(c);
  }
}

static void on_sent(int status, size_t bytes, wsevent_overlapped_t *ov, int flags) {
  (void)bytes, (void)flags;
  struct conn *c = ov->context;
  if (status != WSEVENT_OK) {
    close_socket(c->fd);
    free(c);
    return;
  }
  receive(c);
}

static void receive(struct conn *c) {
  wsevent_buf_t b = {sizeof c->buf, c->buf};
  c->rov = (wsevent_overlapped_t){.context = c, .options = WSEVENT_OV_SAME_SOCKET};
  if (wsevent_recv_overlapped(c->fd, &b, 1, 0, &c->rov, on_received) < 0) {
    close_socket(c->fd);
    free(c);
  }
}

static int srv_listener, srv_conns;

static void *overlapped_server(void *arg) {
  (void)arg;
  for (int i = 0; i < srv_conns; i++) {
    struct conn *c = calloc(1, sizeof *c);
    c->fd = accept4(srv_listener, NULL, NULL, SOCK_CLOEXEC);
    nodelay(c->fd);
    receive(c);
  }
  /* The routines do the work, in this thread's alertable waits. */
  while (!atomic_load(&stop))
    wsevent_sleep(50, WSEVENT_ALERTABLE);
  /* Pending receives end with their sockets (the client closes them). */
  while (wsevent_sleep(10, WSEVENT_ALERTABLE) == WSEVENT_IO_COMPLETION)
    ;
  return NULL;
}

/* The same server with events instead of routines (WSARecv with hEvent,
 * WSAWaitForMultipleEvents): at most 64 connections. */
static void *overlapped_event_server(void *arg) {
  (void)arg;
  struct conn *cs[WSEVENT_MAXIMUM_WAIT_OBJECTS];
  wsevent_t evs[WSEVENT_MAXIMUM_WAIT_OBJECTS];
  int n = srv_conns, open = n;
  for (int i = 0; i < n; i++) {
    cs[i] = calloc(1, sizeof *cs[i]);
    cs[i]->fd = accept4(srv_listener, NULL, NULL, SOCK_CLOEXEC);
    nodelay(cs[i]->fd);
    wsevent_create(&evs[i], WSEVENT_AUTO_RESET);
  }
  for (int i = 0; i < n; i++) {
    wsevent_buf_t b = {sizeof cs[i]->buf, cs[i]->buf};
    cs[i]->rov = (wsevent_overlapped_t){.event = evs[i],
                                        .options = WSEVENT_OV_SAME_SOCKET};
    wsevent_recv_overlapped(cs[i]->fd, &b, 1, 0, &cs[i]->rov, NULL);
  }
  while (open > 0) {
    size_t i;
    if (wsevent_wait_multiple(evs, (size_t)n, 0, WSEVENT_INFINITE, &i) != WSEVENT_OK)
      abort();
    struct conn *c = cs[i];
    if (c->fd < 0)
      continue;
    if (c->rov.status != WSEVENT_OK || c->rov.bytes == 0) {
      close_socket(c->fd);
      c->fd = -1;
      open--;
      continue;
    }
    /* Echo (64 bytes always fit: the send completes at once), receive
     * again. */
    wsevent_buf_t out = {c->rov.bytes, c->buf};
    c->sov = (wsevent_overlapped_t){.options = WSEVENT_OV_SAME_SOCKET};
    if (wsevent_send_overlapped(c->fd, &out, 1, 0, &c->sov, NULL) != WSEVENT_OK)
      abort();
    wsevent_buf_t b = {sizeof c->buf, c->buf};
    c->rov = (wsevent_overlapped_t){.event = evs[i], .options = WSEVENT_OV_SAME_SOCKET};
    int r = wsevent_recv_overlapped(c->fd, &b, 1, 0, &c->rov, NULL);
    if (r != WSEVENT_OK && r != WSEVENT_IO_PENDING)
      abort();
  }
  for (int i = 0; i < n; i++) {
    wsevent_close(evs[i]);
    free(cs[i]);
  }
  return NULL;
}

/* ---- the epoll server ---- */

static void *epoll_server(void *arg) {
  (void)arg;
  int ep = epoll_create1(EPOLL_CLOEXEC), open = srv_conns;
  for (int i = 0; i < srv_conns; i++) {
    int fd = accept4(srv_listener, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    nodelay(fd);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  struct epoll_event evs[128];
  char buf[MSG * 4];
  while (open > 0) {
    int n = epoll_wait(ep, evs, 128, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0) {
        if (write(fd, buf, (size_t)got) != got)
          abort();
      } else if (got == 0 || errno != EAGAIN) {
        close(fd);
        open--;
      }
    }
  }
  close(ep);
  return NULL;
}

/* ---- the same loop on io_uring, to choose the engine by the numbers ---- */

#ifdef HAVE_LIBURING
#include <liburing.h>

static int uring_ok = -1; /* unknown, refused (0), works (1) */

enum { U_RECV = 0, U_SEND = 1 };

static void *uring_server(void *arg) {
  (void)arg;
  struct io_uring ring;
  static char bufs[MAXCONN][MSG * 4];
  int fds[MAXCONN], open = srv_conns;
  if (io_uring_queue_init(256, &ring, 0) < 0)
    abort(); /* checked in main before running */
  for (int i = 0; i < srv_conns; i++) {
    fds[i] = accept4(srv_listener, NULL, NULL, SOCK_CLOEXEC);
    nodelay(fds[i]);
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
    io_uring_prep_recv(sqe, fds[i], bufs[i], sizeof bufs[i], 0);
    io_uring_sqe_set_data64(sqe, (uint64_t)i << 1 | U_RECV);
  }
  io_uring_submit(&ring);
  while (open > 0) {
    struct io_uring_cqe *cqe;
    if (io_uring_wait_cqe(&ring, &cqe) < 0)
      abort();
    unsigned head, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      uint64_t d = io_uring_cqe_get_data64(cqe);
      int i = (int)(d >> 1);
      n++;
      if (cqe->res <= 0) { /* the client closed (or reset) */
        close(fds[i]);
        open--;
        continue;
      }
      struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
      if ((d & 1) == U_RECV) { /* echo what came */
        io_uring_prep_send(sqe, fds[i], bufs[i], (size_t)cqe->res, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(sqe, (uint64_t)i << 1 | U_SEND);
      } else { /* sent: receive again */
        io_uring_prep_recv(sqe, fds[i], bufs[i], sizeof bufs[i], 0);
        io_uring_sqe_set_data64(sqe, (uint64_t)i << 1 | U_RECV);
      }
    }
    io_uring_cq_advance(&ring, n);
    io_uring_submit(&ring);
  }
  io_uring_queue_exit(&ring);
  return NULL;
}

static bool uring_works(void) {
  if (uring_ok < 0) {
    struct io_uring ring;
    uring_ok = io_uring_queue_init(8, &ring, 0) == 0;
    if (uring_ok)
      io_uring_queue_exit(&ring);
  }
  return uring_ok;
}
#endif

/* ---- the client: conns connections, `messages` round trips in all ---- */

static double run(void *(*server)(void *), int conns, long messages) {
  if (conns > MAXCONN)
    abort();
  struct sockaddr_in a;
  int fds[MAXCONN];
  pthread_t t;
  srv_listener = listener(&a);
  srv_conns = conns;
  atomic_store(&stop, false);
  pthread_create(&t, NULL, server, NULL);
  for (int i = 0; i < conns; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fds[i], (struct sockaddr *)&a, sizeof a))
      abort();
    nodelay(fds[i]);
  }
  char msg[MSG] = {0}, in[MSG];
  int ep = epoll_create1(EPOLL_CLOEXEC);
  long got[MAXCONN] = {0};
  for (int i = 0; i < conns; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  double t0 = bench_now_ns();
  long done = 0, sent = 0;
  for (int i = 0; i < conns && sent < messages; i++, sent++)
    if (write(fds[i], msg, MSG) != MSG)
      abort();
  while (done < messages) {
    if (conns == 1) { /* one connection: a blocking round trip */
      size_t have = 0;
      while (have < MSG) {
        ssize_t n = read(fds[0], in + have, MSG - have);
        if (n <= 0)
          abort();
        have += (size_t)n;
      }
      done++;
      if (sent < messages && write(fds[0], msg, MSG) == MSG)
        sent++;
      continue;
    }
    struct epoll_event evs[MAXCONN];
    int n = epoll_wait(ep, evs, MAXCONN, -1);
    for (int k = 0; k < n; k++) {
      int i = (int)evs[k].data.u32;
      ssize_t r = read(fds[i], in, sizeof in);
      if (r <= 0)
        abort();
      got[i] += r;
      while (got[i] >= MSG) {
        got[i] -= MSG;
        done++;
        if (sent < messages) {
          if (write(fds[i], msg, MSG) != MSG)
            abort();
          sent++;
        }
      }
    }
  }
  double elapsed = bench_now_ns() - t0;
  atomic_store(&stop, true);
  for (int i = 0; i < conns; i++)
    close(fds[i]);
  close(ep);
  pthread_join(t, NULL);
  close(srv_listener);
  return elapsed / (double)messages; /* ns per message */
}

int main(void) {
  struct {
    const char *what;
    void *(*server)(void *);
    int conns;
    long messages;
  } loads[] = {{"1 connection, events", overlapped_event_server, 1, 4000},
               {"1 connection, routines", overlapped_server, 1, 4000},
               {"50 connections, events", overlapped_event_server, 50, 30000},
               {"100 connections, routines", overlapped_server, 100, 40000}};
  printf("wsevent overlapped echo benchmark: %d interleaved rounds, %d-byte "
         "messages over loopback TCP, ns per message\n\n",
         ROUNDS, MSG);
  printf("| %-48s | %17s | %-22s | %-4s |\n", "measure", "value", "target", "");
  printf("|%s|%s|%s|%s|\n", "--------------------------------------------------",
         "-------------------", "------------------------", "------");
#ifdef HAVE_LIBURING
  /* The engine: io_uring against the epoll loop the reactor is. */
  if (!uring_works()) {
    printf("| %-48s | %17s | %-22s | %-4s |\n",
           "io_uring echo loop", "refused here", "", "");
  } else {
    const int conns[] = {1, 100};
    const long msgs[] = {4000, 40000};
    for (int k = 0; k < 2; k++) {
      double ur[ROUNDS], ep[ROUNDS], ratio[ROUNDS];
      for (int r = 0; r < ROUNDS; r++) {
        ur[r] = run(uring_server, conns[k], msgs[k]);
        ep[r] = run(epoll_server, conns[k], msgs[k]);
        ratio[r] = ur[r] / ep[r];
      }
      char what[96];
      snprintf(what, sizeof what, "echo, %d connection%s, io_uring loop / epoll loop",
               conns[k], conns[k] > 1 ? "s" : "");
      bench_row(what, bench_median(ratio, ROUNDS), "x", "", -1);
    }
  }
#else
  printf("| %-48s | %17s | %-22s | %-4s |\n", "io_uring echo loop",
         "not built", "(no liburing)", "");
#endif
  for (size_t k = 0; k < sizeof loads / sizeof loads[0]; k++) {
    double ov[ROUNDS], ep[ROUNDS], ratio[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
      ov[r] = run(loads[k].server, loads[k].conns, loads[k].messages);
      ep[r] = run(epoll_server, loads[k].conns, loads[k].messages);
      ratio[r] = ov[r] / ep[r];
    }
    char what[96];
    snprintf(what, sizeof what, "echo, %s (ns)", loads[k].what);
    bench_row(what, bench_median(ov, ROUNDS), "ns", "", -1);
    snprintf(what, sizeof what, "  epoll loop, same load (ns)");
    bench_row(what, bench_median(ep, ROUNDS), "ns", "", -1);
    snprintf(what, sizeof what, "echo, %s / epoll", loads[k].what);
    double m = bench_median(ratio, ROUNDS);
    bench_row(what, m, "x", "<= 1.2x", m <= 1.2);
  }
  return 0;
}
