/* bench.h: timing helpers shared by the C benchmarks. */
#ifndef WSEVENT_BENCH_H
#define WSEVENT_BENCH_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static inline double bench_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int bench_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The median of n values (sorts them). */
static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static inline void bench_row(const char *what, double value, const char *unit,
                             const char *target, int met) {
  printf("| %-48s | %10.2f %-6s | %-22s | %-4s |\n", what, value, unit, target,
         met < 0 ? "" : met ? "met" : "MISS");
}

/* The raw futex contender: a word per direction, 0 -> 1 to signal.
 * private: FUTEX_PRIVATE_FLAG (threads of one process), or 0 (processes
 * sharing the word's memory). */
static inline void bench_fx_wait(_Atomic uint32_t *w, int private) {
  for (;;) {
    uint32_t one = 1;
    if (atomic_compare_exchange_strong(w, &one, 0))
      return;
    syscall(SYS_futex, w, FUTEX_WAIT | private, 0, NULL, NULL, 0);
  }
}

static inline void bench_fx_set(_Atomic uint32_t *w, int private) {
  atomic_store(w, 1);
  syscall(SYS_futex, w, FUTEX_WAKE | private, 1, NULL, NULL, 0);
}

#endif
