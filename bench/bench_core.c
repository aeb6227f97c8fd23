/*
 * bench_core.c: wsevent against what a C programmer would use instead.
 *
 * Cross-thread wake latency on these shared virtual machines swings by an
 * order of magnitude between runs, so the contenders are interleaved round
 * by round (A B C D, A B C D, ...) and each table row reports the median of
 * the per-round ratios, not the ratio of two medians.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "wsevent.h"

#define ROUNDS 15
#define TRIPS 2000

/* ---- one-way wake latency by ping-pong -------------------------------- */

struct pingpong {
  const char *name;
  void (*setup)(void);
  void (*ping)(void); /* main thread: signal the peer, wait for the answer */
  void *(*pong)(void *); /* peer thread: wait, answer, TRIPS times */
  void (*teardown)(void);
};

/* wsevent: two auto-reset events (or a list of N, the last one set). */
static wsevent_t ws_a, ws_b;
static wsevent_t *ws_list;
static size_t ws_list_n;
static void ws_setup(void) {
  wsevent_create(&ws_a, WSEVENT_AUTO_RESET);
  wsevent_create(&ws_b, WSEVENT_AUTO_RESET);
}
static void ws_ping(void) {
  wsevent_set(ws_a);
  wsevent_wait(ws_b, WSEVENT_INFINITE);
}
static void *ws_pong(void *p) {
  (void)p;
  for (int i = 0; i < TRIPS; i++) {
    wsevent_wait(ws_a, WSEVENT_INFINITE);
    wsevent_set(ws_b);
  }
  return NULL;
}
static void ws_teardown(void) {
  wsevent_close(ws_a);
  wsevent_close(ws_b);
}

/* wait-any over N events, the last of which is signaled. */
static void wany_setup(void) {
  ws_setup();
  ws_list = malloc(ws_list_n * sizeof *ws_list);
  for (size_t i = 0; i + 1 < ws_list_n; i++)
    wsevent_create(&ws_list[i], WSEVENT_AUTO_RESET);
  ws_list[ws_list_n - 1] = ws_a;
}
static void *wany_pong(void *p) {
  (void)p;
  for (int i = 0; i < TRIPS; i++) {
    wsevent_wait_multiple(ws_list, ws_list_n, 0, WSEVENT_INFINITE, NULL);
    wsevent_set(ws_b);
  }
  return NULL;
}
static void wany_teardown(void) {
  for (size_t i = 0; i + 1 < ws_list_n; i++)
    wsevent_close(ws_list[i]);
  free(ws_list);
  ws_teardown();
}

/* raw futex: a word per direction, 0 -> 1 to signal. */
static _Atomic uint32_t fx_a, fx_b;
static void fx_wait(_Atomic uint32_t *w) { bench_fx_wait(w, FUTEX_PRIVATE_FLAG); }
static void fx_set(_Atomic uint32_t *w) { bench_fx_set(w, FUTEX_PRIVATE_FLAG); }
static void fx_setup(void) { fx_a = fx_b = 0; }
static void fx_ping(void) { fx_set(&fx_a); fx_wait(&fx_b); }
static void *fx_pong(void *p) {
  (void)p;
  for (int i = 0; i < TRIPS; i++) { fx_wait(&fx_a); fx_set(&fx_b); }
  return NULL;
}
static void nothing(void) {}

/* eventfd: blocking read and write. */
static int efd_a, efd_b;
static void efd_setup(void) { efd_a = eventfd(0, 0); efd_b = eventfd(0, 0); }
static void efd_sig(int fd) { uint64_t v = 1; if (write(fd, &v, 8) != 8) abort(); }
static void efd_wait(int fd) { uint64_t v; if (read(fd, &v, 8) != 8) abort(); }
static void efd_ping(void) { efd_sig(efd_a); efd_wait(efd_b); }
static void *efd_pong(void *p) {
  (void)p;
  for (int i = 0; i < TRIPS; i++) { efd_wait(efd_a); efd_sig(efd_b); }
  return NULL;
}
static void efd_teardown(void) { close(efd_a); close(efd_b); }

/* pthread mutex + condition variable, a flag per direction. */
static pthread_mutex_t cv_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_ca = PTHREAD_COND_INITIALIZER, cv_cb = PTHREAD_COND_INITIALIZER;
static int cv_fa, cv_fb;
static void cv_sig(pthread_cond_t *c, int *f) {
  pthread_mutex_lock(&cv_m); *f = 1; pthread_cond_signal(c); pthread_mutex_unlock(&cv_m);
}
static void cv_wait(pthread_cond_t *c, int *f) {
  pthread_mutex_lock(&cv_m);
  while (!*f) pthread_cond_wait(c, &cv_m);
  *f = 0;
  pthread_mutex_unlock(&cv_m);
}
static void cv_setup(void) { cv_fa = cv_fb = 0; }
static void cv_ping(void) { cv_sig(&cv_ca, &cv_fa); cv_wait(&cv_cb, &cv_fb); }
static void *cv_pong(void *p) {
  (void)p;
  for (int i = 0; i < TRIPS; i++) { cv_wait(&cv_ca, &cv_fa); cv_sig(&cv_cb, &cv_fb); }
  return NULL;
}

/* One round of one contender: ns per one-way wake. */
static double run(const struct pingpong *c) {
  pthread_t t;
  c->setup();
  pthread_create(&t, NULL, c->pong, NULL);
  double t0 = bench_now_ns();
  for (int i = 0; i < TRIPS; i++)
    c->ping();
  double t1 = bench_now_ns();
  pthread_join(t, NULL);
  c->teardown();
  return (t1 - t0) / TRIPS / 2;
}

/* ---- readiness to wake: event-select against raw epoll ----------------- */

static int rd_in[2], rd_out[2]; /* main -> peer, peer -> main */
static wsevent_t rd_ev;

static void rd_pipes(void) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, rd_in);
  socketpair(AF_UNIX, SOCK_STREAM, 0, rd_out);
}
static void rd_close(void) {
  close(rd_in[0]); close(rd_in[1]); close(rd_out[0]); close(rd_out[1]);
}
static void rd_ping(void) {
  char c = 'p';
  if (write(rd_in[1], &c, 1) != 1 || read(rd_out[0], &c, 1) != 1)
    abort();
}
static void *epoll_pong(void *p) {
  (void)p;
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN}, out;
  epoll_ctl(ep, EPOLL_CTL_ADD, rd_in[0], &ev);
  for (int i = 0; i < TRIPS; i++) {
    char c;
    epoll_wait(ep, &out, 1, -1);
    if (read(rd_in[0], &c, 1) != 1 || write(rd_out[1], &c, 1) != 1)
      abort();
  }
  close(ep);
  return NULL;
}
static void *select_pong(void *p) {
  (void)p;
  struct wsevent_network_events ne;
  for (int i = 0; i < TRIPS; i++) {
    char c;
    /* As on Windows, an FD_READ may find nothing left (EWOULDBLOCK):
     * it was recorded again while the previous byte was still unread. */
    do {
      wsevent_wait(rd_ev, WSEVENT_INFINITE);
      wsevent_enum_network_events(rd_in[0], rd_ev, &ne);
    } while (read(rd_in[0], &c, 1) != 1);
    if (write(rd_out[1], &c, 1) != 1)
      abort();
  }
  return NULL;
}
/* The same loop with Winsock's recv (wsevent_recv): re-enabled by the
 * call, as on Windows. */
static void *select_recv_pong(void *p) {
  (void)p;
  struct wsevent_network_events ne;
  for (int i = 0; i < TRIPS; i++) {
    char c[64]; /* a buffer with room: the recv takes all there is */
    do {
      wsevent_wait(rd_ev, WSEVENT_INFINITE);
      wsevent_enum_network_events(rd_in[0], rd_ev, &ne);
    } while (wsevent_recv(rd_in[0], c, sizeof c, 0) != 1);
    if (write(rd_out[1], c, 1) != 1)
      abort();
  }
  return NULL;
}
/* Overlapped receives: each byte completes a WSARecv-like operation,
 * whose (auto-reset) event the thread waits on. */
static void ovl_setup(void) {
  rd_pipes();
  wsevent_create(&rd_ev, WSEVENT_AUTO_RESET);
}
static void ovl_teardown(void) {
  rd_close();
  wsevent_close(rd_ev);
}
static void *ovl_pong(void *p) {
  (void)p;
  char c[64];
  wsevent_buf_t b = {sizeof c, c};
  for (int i = 0; i < TRIPS; i++) {
    wsevent_overlapped_t ov = {.event = rd_ev};
    int r = wsevent_recv_overlapped(rd_in[0], &b, 1, 0, &ov, NULL);
    /* Done at once or later, the event is set: take it. */
    if ((r != WSEVENT_OK && r != WSEVENT_IO_PENDING) ||
        wsevent_wait(rd_ev, WSEVENT_INFINITE) != WSEVENT_OK || ov.bytes != 1 ||
        write(rd_out[1], c, 1) != 1)
      abort();
  }
  return NULL;
}

/* Idle sockets selected on the same event as the active one. */
enum { IDLE = 1000 };
static int idle_sp[IDLE][2];
static int idle_n;
static void sel_setup_idle(void);
static void sel_teardown_idle(void);
static void sel_setup(void) {
  rd_pipes();
  wsevent_create(&rd_ev, 0);
  wsevent_event_select(rd_in[0], rd_ev, WSEVENT_FD_READ);
}
static void sel_teardown(void) {
  wsevent_event_select(rd_in[0], rd_ev, 0);
  rd_close();
  wsevent_close(rd_ev);
}

static void sel_setup_idle(void) {
  sel_setup();
  for (idle_n = 0; idle_n < IDLE; idle_n++) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, idle_sp[idle_n]) != 0)
      break;
    wsevent_event_select(idle_sp[idle_n][0], rd_ev, WSEVENT_FD_READ);
  }
}
static void sel_teardown_idle(void) {
  for (int i = 0; i < idle_n; i++) {
    wsevent_event_select(idle_sp[i][0], rd_ev, 0);
    close(idle_sp[i][0]);
    close(idle_sp[i][1]);
  }
  sel_teardown();
}

/* The Winsock shape with many sockets: an event per socket, the active
 * one among MANY - 1 idle ones, a wait on all the events
 * (WSAWaitForMultipleEvents). */
enum { MANY = 50 };
static wsevent_t many_ev[MANY];
static int many_sp[MANY][2];
static void sel_setup_many(void) {
  sel_setup();
  many_ev[MANY - 1] = rd_ev; /* the active one last: every one is polled */
  for (int i = 0; i < MANY - 1; i++) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, many_sp[i]) != 0 ||
        wsevent_create(&many_ev[i], 0) != WSEVENT_OK ||
        wsevent_event_select(many_sp[i][0], many_ev[i], WSEVENT_FD_READ) != WSEVENT_OK)
      abort();
  }
}
static void sel_teardown_many(void) {
  for (int i = 0; i < MANY - 1; i++) {
    wsevent_close(many_ev[i]);
    close(many_sp[i][0]);
    close(many_sp[i][1]);
  }
  sel_teardown();
}
static void *select_many_pong(void *p) {
  (void)p;
  struct wsevent_network_events ne;
  for (int i = 0; i < TRIPS; i++) {
    char c[64];
    size_t index;
    do {
      wsevent_wait_multiple(many_ev, MANY, 0, WSEVENT_INFINITE, &index);
      wsevent_enum_network_events(rd_in[0], rd_ev, &ne);
    } while (wsevent_recv(rd_in[0], c, sizeof c, 0) != 1);
    if (write(rd_out[1], c, 1) != 1)
      abort();
  }
  return NULL;
}

/* User-space bytes per selected socket: RSS growth over many selects. */
static long rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = 0;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
      break;
  if (f)
    fclose(f);
  return kb;
}

/* ---- uncontended call cost ------------------------------------------- */

static double per_call(int (*fn)(wsevent_t), wsevent_t ev, long n) {
  double t0 = bench_now_ns();
  for (long i = 0; i < n; i++)
    fn(ev);
  return (bench_now_ns() - t0) / n;
}

int main(void) {
  const struct pingpong contenders[] = {
      {"raw futex", fx_setup, fx_ping, fx_pong, nothing},
      {"wsevent (auto-reset)", ws_setup, ws_ping, ws_pong, ws_teardown},
      {"eventfd", efd_setup, efd_ping, efd_pong, efd_teardown},
      {"pthread mutex + condvar", cv_setup, cv_ping, cv_pong, nothing},
  };
  enum { NC = sizeof contenders / sizeof contenders[0] };
  double lat[NC][ROUNDS], ratio[NC][ROUNDS];

  for (int r = 0; r < ROUNDS; r++)
    for (int c = 0; c < NC; c++)
      lat[c][r] = run(&contenders[c]);
  for (int r = 0; r < ROUNDS; r++)
    for (int c = 0; c < NC; c++)
      ratio[c][r] = lat[c][r] / lat[0][r];

  printf("wsevent core benchmark: %d interleaved rounds of %d round trips\n\n",
         ROUNDS, TRIPS);
  printf("| %-48s | %17s | %-22s | %-4s |\n", "measure", "value", "target", "");
  printf("|%s|%s|%s|%s|\n", "--------------------------------------------------",
         "-------------------", "------------------------", "------");
  double med_ratio[NC];
  for (int c = 0; c < NC; c++) {
    char what[96];
    double l[ROUNDS];
    memcpy(l, lat[c], sizeof l);
    snprintf(what, sizeof what, "one-way wake, %s (median ns)", contenders[c].name);
    bench_row(what, bench_median(l, ROUNDS), "ns", "", -1);
    med_ratio[c] = bench_median(ratio[c], ROUNDS);
  }
  for (int c = 1; c < NC; c++) {
    char what[96];
    snprintf(what, sizeof what, "one-way wake, %s / raw futex", contenders[c].name);
    bench_row(what, med_ratio[c], "x", c == 1 ? "<= 1.15x" : "",
              c == 1 ? med_ratio[c] <= 1.15 : -1);
  }

  /* Uncontended calls: nobody waits, no descriptor. */
  wsevent_t ev;
  wsevent_create(&ev, 0);
  long n = 20000000;
  double set_ns[5], reset_ns[5], is_set_ns[5];
  for (int r = 0; r < 5; r++) {
    set_ns[r] = per_call(wsevent_set, ev, n);
    reset_ns[r] = per_call(wsevent_reset, ev, n);
    is_set_ns[r] = per_call(wsevent_is_set, ev, n);
  }
  double s = bench_median(set_ns, 5);
  bench_row("uncontended wsevent_set (already set)", s, "ns", "< 10 ns", s < 10);
  /* A set that really changes the state: alternate with reset. */
  double alt[5];
  for (int r = 0; r < 5; r++) {
    double t0 = bench_now_ns();
    for (long i = 0; i < n / 2; i++) {
      wsevent_set(ev);
      wsevent_reset(ev);
    }
    alt[r] = (bench_now_ns() - t0) / n;
  }
  double a = bench_median(alt, 5);
  bench_row("uncontended set+reset pair, per call", a, "ns", "< 10 ns", a < 10);
  /* The floor for any call that changes shared state: one locked
   * compare-and-swap, alternating like set and reset. */
  _Atomic uint64_t word = 0;
  double cas[5];
  for (int r = 0; r < 5; r++) {
    double t0 = bench_now_ns();
    for (long i = 0; i < n; i++) {
      uint64_t expected = atomic_load_explicit(&word, memory_order_relaxed);
      atomic_compare_exchange_strong(&word, &expected, expected ^ 1);
    }
    cas[r] = (bench_now_ns() - t0) / n;
  }
  bench_row("  reference: one bare compare-and-swap", bench_median(cas, 5), "ns", "", -1);
  bench_row("uncontended wsevent_reset (already reset)", bench_median(reset_ns, 5), "ns", "", -1);
  bench_row("uncontended wsevent_is_set", bench_median(is_set_ns, 5), "ns", "", -1);
  wsevent_close(ev);

  /* Readiness to wake: a byte arrives, a thread wakes and answers. */
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < 2 * IDLE + 64 && lim.rlim_max >= 2 * IDLE + 64) {
    lim.rlim_cur = 2 * IDLE + 64;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  const struct pingpong rd[] = {
      {"raw epoll", rd_pipes, rd_ping, epoll_pong, rd_close},
      {"event-select, read()", sel_setup, rd_ping, select_pong, sel_teardown},
      {"event-select, wsevent_recv", sel_setup, rd_ping, select_recv_pong,
       sel_teardown},
      {"event-select, +1,000 idle sockets", sel_setup_idle, rd_ping,
       select_recv_pong, sel_teardown_idle},
      {"event-select, 50 events, 49 idle", sel_setup_many, rd_ping,
       select_many_pong, sel_teardown_many},
      {"overlapped receive", ovl_setup, rd_ping, ovl_pong, ovl_teardown},
  };
  enum { NRD = sizeof rd / sizeof rd[0] };
  double rl[NRD][ROUNDS], rr[NRD][ROUNDS];
  for (int r = 0; r < ROUNDS; r++)
    for (int c = 0; c < NRD; c++)
      rl[c][r] = run(&rd[c]);
  for (int r = 0; r < ROUNDS; r++)
    for (int c = 0; c < NRD; c++)
      rr[c][r] = rl[c][r] / rl[0][r];
  for (int c = 0; c < NRD; c++) {
    char what[96];
    snprintf(what, sizeof what, "readiness to wake, %s (median ns)", rd[c].name);
    bench_row(what, bench_median(rl[c], ROUNDS), "ns", "", -1);
  }
  for (int c = 1; c < NRD; c++) {
    char what[96];
    snprintf(what, sizeof what, "readiness to wake, %s / epoll", rd[c].name);
    double m = bench_median(rr[c], ROUNDS);
    bench_row(what, m, "x", "<= 1.5x", m <= 1.5);
  }

  {
    enum { NS = 4000 };
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < 2 * NS + 64 && lim.rlim_max >= 2 * NS + 64) {
      lim.rlim_cur = 2 * NS + 64;
      setrlimit(RLIMIT_NOFILE, &lim);
    }
    static int sp[NS][2];
    wsevent_t e;
    wsevent_create(&e, 0);
    int made = 0;
    while (made < NS && socketpair(AF_UNIX, SOCK_STREAM, 0, sp[made]) == 0)
      made++;
    long before = rss_kb();
    for (int i = 0; i < made; i++)
      wsevent_event_select(sp[i][0], e, WSEVENT_FD_READ);
    long after = rss_kb();
    double per = made ? (after - before) * 1024.0 / made : 0;
    bench_row("memory per selected socket (user space, RSS)", per, "bytes", "", -1);
    for (int i = 0; i < made; i++) {
      wsevent_event_select(sp[i][0], e, 0);
      close(sp[i][0]);
      close(sp[i][1]);
    }
    wsevent_close(e);
  }

  /* Wait-any over 1, 64 and 1,000 events, interleaved. */
  const size_t sizes[] = {1, 64, 1000};
  double wl[3][ROUNDS], wr[3][ROUNDS];
  for (int r = 0; r < ROUNDS; r++)
    for (int k = 0; k < 3; k++) {
      ws_list_n = sizes[k];
      struct pingpong c = {"", wany_setup, ws_ping, wany_pong, wany_teardown};
      wl[k][r] = run(&c);
    }
  for (int r = 0; r < ROUNDS; r++)
    for (int k = 0; k < 3; k++)
      wr[k][r] = wl[k][r] / wl[0][r];
  for (int k = 0; k < 3; k++) {
    char what[96];
    snprintf(what, sizeof what, "wait-any wake, %zu events, last one set", sizes[k]);
    bench_row(what, bench_median(wl[k], ROUNDS), "ns", "", -1);
  }
  for (int k = 1; k < 3; k++) {
    char what[96];
    snprintf(what, sizeof what, "wait-any wake, %zu events / 1 event", sizes[k]);
    double wm = bench_median(wr[k], ROUNDS);
    bench_row(what, wm, "x", k == 2 ? "<= 2x" : "", k == 2 ? wm <= 2.0 : -1);
  }
  return 0;
}
