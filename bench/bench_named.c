/*
 * bench_named.c: a wake-up across processes, named events against a raw
 * shared futex (what one would write by hand over shared memory).
 *
 * Two ping-pong pairs, each a parent and a fork() child that opened the
 * names again: named auto-reset events (set / wait), and two futex words
 * in a shared mapping (store, FUTEX_WAKE / FUTEX_WAIT).  They run
 * interleaved, round by round, and the ratio reported is the median of
 * the per-round ratios: cross-process wake latency here swings with the
 * virtual CPUs' idle states much more than the contenders differ.
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "wsevent.h"

#define ROUNDS 15
#define TRIPS 2000

/* ---- the raw futex pair ---- */

struct raw {
  _Atomic uint32_t a, b; /* 1: signaled */
  _Atomic int stop;
};

static void fx_wait(_Atomic uint32_t *w) { bench_fx_wait(w, 0); }
static void fx_set(_Atomic uint32_t *w) { bench_fx_set(w, 0); }

/* ---- the named pair ---- */

static char ping_name[64], pong_name[64], stop_name[64];

static wsevent_t open_or_die(const char *name, unsigned flags) {
  wsevent_t ev;
  int r = wsevent_create_named(&ev, name, flags, NULL);
  if (r != WSEVENT_OK) {
    fprintf(stderr, "bench_named: %s: %s\n", name, wsevent_strerror(r));
    exit(1);
  }
  return ev;
}

static void named_child(void) {
  wsevent_t ev[2] = {open_or_die(ping_name, WSEVENT_OPEN_EXISTING),
                     open_or_die(stop_name, WSEVENT_OPEN_EXISTING)};
  wsevent_t pong = open_or_die(pong_name, WSEVENT_OPEN_EXISTING);
  for (;;) {
    size_t index;
    if (wsevent_wait_multiple(ev, 2, 0, WSEVENT_INFINITE, &index) != WSEVENT_OK ||
        index == 1)
      _exit(0);
    wsevent_set(pong);
  }
}

static void raw_child(struct raw *r) {
  for (;;) {
    fx_wait(&r->a);
    if (atomic_load(&r->stop))
      _exit(0);
    fx_set(&r->b);
  }
}

int main(void) {
  snprintf(ping_name, sizeof ping_name, "bench-ping-%d", (int)getpid());
  snprintf(pong_name, sizeof pong_name, "bench-pong-%d", (int)getpid());
  snprintf(stop_name, sizeof stop_name, "bench-stop-%d", (int)getpid());
  wsevent_t ping = open_or_die(ping_name, WSEVENT_AUTO_RESET);
  wsevent_t pong = open_or_die(pong_name, WSEVENT_AUTO_RESET);
  wsevent_t stop = open_or_die(stop_name, 0);
  struct raw *raw = mmap(NULL, sizeof *raw, PROT_READ | PROT_WRITE,
                         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return 1;
  memset(raw, 0, sizeof *raw);

  pid_t named_pid = fork();
  if (named_pid == 0)
    named_child();
  pid_t raw_pid = fork();
  if (raw_pid == 0)
    raw_child(raw);

  double named_ns[ROUNDS], raw_ns[ROUNDS], ratio[ROUNDS];
  for (int round = -1; round < ROUNDS; round++) { /* round -1 warms up */
    double t0 = bench_now_ns();
    for (int i = 0; i < TRIPS; i++) {
      wsevent_set(ping);
      if (wsevent_wait(pong, 10000) != WSEVENT_OK)
        return 1;
    }
    double t1 = bench_now_ns();
    for (int i = 0; i < TRIPS; i++) {
      fx_set(&raw->a);
      fx_wait(&raw->b);
    }
    double t2 = bench_now_ns();
    if (round < 0)
      continue;
    named_ns[round] = (t1 - t0) / TRIPS / 2;
    raw_ns[round] = (t2 - t1) / TRIPS / 2;
    ratio[round] = named_ns[round] / raw_ns[round];
  }
  wsevent_set(stop);
  atomic_store(&raw->stop, 1);
  fx_set(&raw->a);
  waitpid(named_pid, NULL, 0);
  waitpid(raw_pid, NULL, 0);
  wsevent_close(ping);
  wsevent_close(pong);
  wsevent_close(stop);

  printf("| %-48s | %17s | %-22s | %-4s |\n", "cross-process (named events)",
         "value", "target", "");
  printf("|---|---|---|---|\n");
  double r = bench_median(ratio, ROUNDS);
  bench_row("one-way wake, named event (median ns)", bench_median(named_ns, ROUNDS),
            "ns", "", -1);
  bench_row("one-way wake, raw shared futex (median ns)", bench_median(raw_ns, ROUNDS),
            "ns", "", -1);
  bench_row("named event / raw futex (median of rounds)", r, "x", "<= 1.2x", r <= 1.2);
  return 0;
}
