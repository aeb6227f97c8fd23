/*
 * tap.h: a small TAP test harness in the spirit of libuv's test/task.h.
 *
 * TEST(name) { ... } registers a test.  main() runs each one in a child
 * process with its own timeout, so a crash, a deadlock or a failed
 * assertion fails that test alone, and prints TAP for `prove`.
 * SKIP("why") ends a test as skipped (TAP's "# SKIP" directive).
 * `./test_x name` runs one test in-process (for gdb).
 * WSEVENT_TEST_TIMEOUT overrides the per-test timeout in seconds (slow
 * sanitizer or valgrind runs).
 */
#ifndef WSEVENT_TAP_H
#define WSEVENT_TAP_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef void (*tap_fn)(void);
static struct { const char *name; tap_fn fn; } tap_tests[256];
static int tap_count;
static int tap_skip_fd = -1; /* the child's end of the pipe for SKIP */
#define TAP_SKIPPED 77

static void tap_register(const char *name, tap_fn fn) {
  tap_tests[tap_count].name = name;
  tap_tests[tap_count].fn = fn;
  tap_count++;
}

#define TEST(name)                                                            \
  static void name(void);                                                     \
  __attribute__((constructor)) static void tap_reg_##name(void) {             \
    tap_register(#name, name);                                                \
  }                                                                           \
  static void name(void)

static void tap_fail_ll(const char *file, int line, const char *expr,
                        long long a, long long b) {
  printf("# %s:%d: assertion failed: %s (%lld vs %lld)\n", file, line, expr,
         a, b);
  fflush(stdout);
  _exit(1);
}

#define ASSERT_OP(a, op, b)                                                   \
  do {                                                                        \
    long long tap_a_ = (long long)(a), tap_b_ = (long long)(b);               \
    if (!(tap_a_ op tap_b_))                                                  \
      tap_fail_ll(__FILE__, __LINE__, #a " " #op " " #b, tap_a_, tap_b_);     \
  } while (0)
#define ASSERT_EQ(a, b) ASSERT_OP(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_OP(a, !=, b)
#define ASSERT_GE(a, b) ASSERT_OP(a, >=, b)
#define ASSERT_LE(a, b) ASSERT_OP(a, <=, b)
#define ASSERT_LT(a, b) ASSERT_OP(a, <, b)
#define ASSERT_GT(a, b) ASSERT_OP(a, >, b)
#define ASSERT(x) ASSERT_OP(!!(x), ==, 1)

/* End the running test as skipped, with a reason for the TAP line. */
#define SKIP(reason)                                                          \
  do {                                                                        \
    tap_skip(reason);                                                         \
    return;                                                                   \
  } while (0)

static inline void tap_skip(const char *reason) {
  fflush(stdout);
  if (tap_skip_fd < 0) { /* run in-process by name */
    printf("# SKIP %s\n", reason);
    return;
  }
  ssize_t n = write(tap_skip_fd, reason, strlen(reason));
  (void)n;
  _exit(TAP_SKIPPED);
}

static inline double tap_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Run test i in a child; 1 if it passed, 0 if not.  A skip's reason is
 * written into skip[] (empty otherwise). */
static int tap_run_one(int i, int timeout, char *skip, size_t skip_size) {
  int p[2];
  skip[0] = 0;
  if (pipe(p) != 0)
    return 0;
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    tap_skip_fd = p[1];
    alarm((unsigned)timeout);
    tap_tests[i].fn();
    fflush(stdout);
    _exit(0);
  }
  close(p[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == TAP_SKIPPED) {
    ssize_t n = read(p[0], skip, skip_size - 1);
    skip[n > 0 ? n : 0] = 0;
    close(p[0]);
    return 1;
  }
  close(p[0]);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return 1;
  if (WIFSIGNALED(status))
    printf("# %s: killed by signal %d%s\n", tap_tests[i].name,
           WTERMSIG(status),
           WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
  return 0;
}

int main(int argc, char **argv) {
  int timeout = 60, failed = 0;
  const char *t = getenv("WSEVENT_TEST_TIMEOUT");
  if (t != NULL && atoi(t) > 0)
    timeout = atoi(t);
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc > 1) {
    for (int i = 0; i < tap_count; i++)
      if (strcmp(tap_tests[i].name, argv[1]) == 0) {
        tap_tests[i].fn();
        printf("ok - %s\n", argv[1]);
        return 0;
      }
    printf("no test named %s\n", argv[1]);
    return 2;
  }
  printf("1..%d\n", tap_count);
  for (int i = 0; i < tap_count; i++) {
    char skip[256];
    int ok = tap_run_one(i, timeout, skip, sizeof skip);
    printf("%sok %d - %s%s%s\n", ok ? "" : "not ", i + 1, tap_tests[i].name,
           skip[0] ? " # SKIP " : "", skip);
    failed += !ok;
  }
  return failed ? 1 : 0;
}

#endif /* WSEVENT_TAP_H */
