/*
 * test_named.c: events shared between processes by name.
 *
 * Every test runs in a process of its own (tap.h) and gives itself a fresh
 * namespace directory, so tests never see each other's names.  Other
 * processes are fork() children that open the names again (as unrelated
 * programs would) unless a test is about inheritance.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../tap.h"
#include "wsevent.h"

static char ns_dir[64];

static void fresh_namespace(void) {
  strcpy(ns_dir, "/tmp/wsevent-named-XXXXXX");
  ASSERT(mkdtemp(ns_dir) != NULL);
  setenv("WSEVENT_NAMED_DIR", ns_dir, 1);
}

/* Every handle closed, here and in the children: no object is left. */
static void end_namespace(void) {
  if (rmdir(ns_dir) != 0) {
    printf("# %s is not empty:\n", ns_dir);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "ls -la %s | sed 's/^/# /'", ns_dir);
    if (system(cmd) != 0)
      printf("# (ls failed)\n");
    ASSERT(!"objects left in the namespace");
  }
}

static wsevent_t named(const char *name, unsigned flags, int *existed) {
  wsevent_t ev = 0;
  int r = wsevent_create_named(&ev, name, flags, existed);
  ASSERT_EQ(r, WSEVENT_OK);
  return ev;
}

static wsevent_t open_named(const char *name) {
  return named(name, WSEVENT_OPEN_EXISTING, NULL);
}

static int wait_child(pid_t pid) {
  int status;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* Block until pid's only thread sleeps (in the wait it was about to
 * start), so that a test can act on a waiter that is really waiting. */
static void until_task_sleeps(const char *path);
static void until_sleeping(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  until_task_sleeps(path);
}

static void until_task_sleeps(const char *path) {
  char buf[512];
  for (int i = 0; i < 10000; i++) {
    int fd = open(path, O_RDONLY);
    ASSERT(fd >= 0);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    ASSERT(n > 0);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (p != NULL && p[1] == ' ' && p[2] == 'S')
      return;
    usleep(1000);
  }
  ASSERT(!"the child never went to sleep");
}

static long ops_scale(long normal) {
  const char *s = getenv("WSEVENT_STRESS_OPS");
  long ops = s ? atol(s) / 2 : normal;
  return ops < normal ? (ops < 500 ? 500 : ops) : normal;
}

TEST(test_names_are_checked) {
  fresh_namespace();
  wsevent_t ev;
  char long_name[WSEVENT_NAME_MAX + 2];
  memset(long_name, 'x', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  ASSERT_EQ(wsevent_create_named(&ev, "", 0, NULL), WSEVENT_ENAME);
  ASSERT_EQ(wsevent_create_named(&ev, "a/b", 0, NULL), WSEVENT_ENAME);
  ASSERT_EQ(wsevent_create_named(&ev, long_name, 0, NULL), WSEVENT_ENAME);
  long_name[WSEVENT_NAME_MAX] = '\0'; /* exactly the maximum */
  ASSERT_EQ(wsevent_create_named(&ev, long_name, 0, NULL), WSEVENT_OK);
  wsevent_close(ev);
  ASSERT_EQ(wsevent_create_named(NULL, "x", 0, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_create_named(&ev, NULL, 0, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_create_named(&ev, "x", 0x8000, NULL), WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_create_named(&ev, "absent", WSEVENT_OPEN_EXISTING, NULL),
            WSEVENT_ENOTFOUND);
  /* Names that are not file names are names too. */
  ev = named("..", 0, NULL);
  wsevent_close(ev);
  ev = named("Local\\with spaces\nand newline", 0, NULL);
  wsevent_close(ev);
  end_namespace();
}

TEST(test_a_second_create_opens_the_same_event) {
  fresh_namespace();
  int existed = -1;
  wsevent_t a = named("shared", WSEVENT_AUTO_RESET, &existed);
  ASSERT_EQ(existed, 0);
  /* The existing event keeps its own mode: as CreateEvent, the flags of
   * a create that opens are ignored. */
  wsevent_t b = named("shared", WSEVENT_INITIAL_SET, &existed);
  ASSERT_EQ(existed, 1);
  ASSERT_NE(a, b);
  unsigned flags;
  ASSERT_EQ(wsevent_get_flags(b, &flags), WSEVENT_OK);
  ASSERT_EQ(flags, WSEVENT_AUTO_RESET | WSEVENT_NAMED);
  ASSERT_EQ(wsevent_is_set(b), 0);
  ASSERT_EQ(wsevent_set(a), WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(b), 1);
  ASSERT_EQ(wsevent_wait(b, 0), WSEVENT_OK); /* auto-reset: taken */
  ASSERT_EQ(wsevent_is_set(a), 0);
  ASSERT_EQ(wsevent_wait(a, 0), WSEVENT_TIMEOUT);

  char buf[WSEVENT_NAME_MAX + 1];
  size_t len = 0;
  ASSERT_EQ(wsevent_get_name(a, buf, sizeof buf, &len), WSEVENT_OK);
  ASSERT_EQ(len, 6);
  ASSERT_EQ(strcmp(buf, "shared"), 0);
  ASSERT_EQ(wsevent_get_name(a, buf, 6, &len), WSEVENT_EINVAL);
  wsevent_t local;
  ASSERT_EQ(wsevent_create(&local, 0), WSEVENT_OK);
  ASSERT_EQ(wsevent_get_name(local, buf, sizeof buf, &len), WSEVENT_OK);
  ASSERT_EQ(len, 0);
  ASSERT_EQ(buf[0], '\0');
  wsevent_close(local);
  wsevent_close(a);
  wsevent_close(b);
  ASSERT_EQ(wsevent_get_name(a, buf, sizeof buf, &len), WSEVENT_EINVAL_HANDLE);
  ASSERT_EQ(wsevent_set(a), WSEVENT_EINVAL_HANDLE);
  end_namespace();
}

TEST(test_the_name_is_free_once_the_last_handle_is_closed) {
  fresh_namespace();
  int existed;
  wsevent_t a = named("life", WSEVENT_INITIAL_SET, &existed);
  wsevent_t b = open_named("life");
  wsevent_close(a);
  /* b still holds it, with its state. */
  wsevent_t c = open_named("life");
  ASSERT_EQ(wsevent_is_set(c), 1);
  wsevent_close(b);
  wsevent_close(c);
  ASSERT_EQ(wsevent_create_named(&a, "life", WSEVENT_OPEN_EXISTING, NULL),
            WSEVENT_ENOTFOUND);
  a = named("life", 0, &existed);
  ASSERT_EQ(existed, 0);
  ASSERT_EQ(wsevent_is_set(a), 0); /* a new event, not the old one */
  wsevent_close(a);
  end_namespace();
}

TEST(test_a_process_that_dies_without_closing_frees_the_name) {
  fresh_namespace();
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  for (int how = 0; how < 2; how++) {
    pid_t pid = fork();
    if (pid == 0) {
      wsevent_t ev;
      if (wsevent_create_named(&ev, "orphan", WSEVENT_INITIAL_SET, NULL))
        _exit(2);
      if (write(ready[1], "r", 1) != 1)
        _exit(3);
      if (how == 0)
        _exit(0); /* no close */
      pause();    /* killed */
    }
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    if (how == 1) {
      wsevent_t held = open_named("orphan"); /* the child holds it */
      wsevent_close(held);
      kill(pid, SIGKILL);
    }
    wait_child(pid);
    wsevent_t ev;
    ASSERT_EQ(wsevent_create_named(&ev, "orphan", WSEVENT_OPEN_EXISTING, NULL),
              WSEVENT_ENOTFOUND);
    int existed;
    ev = named("orphan", 0, &existed);
    ASSERT_EQ(existed, 0);
    ASSERT_EQ(wsevent_is_set(ev), 0);
    wsevent_close(ev);
  }
  end_namespace();
}

/* A child that opens "ping" and "pong" again, as another program would,
 * and answers each ping. */
static void ponger(long rounds) {
  wsevent_t pi, po;
  if (wsevent_create_named(&pi, "ping", WSEVENT_OPEN_EXISTING, NULL) ||
      wsevent_create_named(&po, "pong", WSEVENT_OPEN_EXISTING, NULL))
    _exit(2);
  for (long i = 0; i < rounds; i++) {
    if (wsevent_wait(pi, 10000) != WSEVENT_OK)
      _exit(3);
    wsevent_set(po);
  }
  _exit(0);
}

TEST(test_ping_pong_between_processes) {
  fresh_namespace();
  wsevent_t ping = named("ping", WSEVENT_AUTO_RESET, NULL);
  wsevent_t pong = named("pong", WSEVENT_AUTO_RESET, NULL);
  long rounds = ops_scale(20000);
  pid_t pid = fork();
  if (pid == 0)
    ponger(rounds);
  for (long i = 0; i < rounds; i++) {
    ASSERT_EQ(wsevent_set(ping), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(pong, 10000), WSEVENT_OK);
  }
  ASSERT_EQ(wait_child(pid), 0);
  wsevent_close(ping);
  wsevent_close(pong);
  end_namespace();
}

/* Where futex_waitv is refused (old kernels, seccomp filters), waits on
 * named events poll their words every 2 ms: slower, still exact. */
TEST(test_without_futex_waitv_waits_still_work) {
  fresh_namespace();
  setenv("WSEVENT_NAMED_NO_WAITV", "1", 1);
  wsevent_t ping = named("ping", WSEVENT_AUTO_RESET, NULL);
  wsevent_t pong = named("pong", WSEVENT_AUTO_RESET, NULL);
  wsevent_t local;
  ASSERT_EQ(wsevent_create(&local, WSEVENT_INITIAL_SET), WSEVENT_OK);
  pid_t pid = fork();
  if (pid == 0)
    ponger(200);
  wsevent_t both[2] = {local, pong};
  for (int i = 0; i < 200; i++) {
    ASSERT_EQ(wsevent_set(ping), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait_multiple(both, 2, WSEVENT_WAIT_ALL, 10000, NULL),
              WSEVENT_OK);
  }
  ASSERT_EQ(wait_child(pid), 0);
  /* A local set still wakes a waiter at once (its own futex word). */
  wsevent_t ev[2] = {pong, local};
  ASSERT_EQ(wsevent_reset(local), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(ev, 2, 0, 10, NULL), WSEVENT_TIMEOUT);
  wsevent_close(ping);
  wsevent_close(pong);
  wsevent_close(local);
  end_namespace();
}

static pid_t main_tid;

/* Queue a routine to the main thread once it sleeps in its wait. */
static void *queue_soon(void *arg) {
  wsevent_thread_t *target = arg;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)main_tid);
  until_task_sleeps(path);
  wsevent_queue_completion(*target, (wsevent_completion_fn)free, malloc(1));
  return NULL;
}

static wsevent_t closing;
static _Atomic int closing_result = 99;
static _Atomic pid_t closing_tid;
static void *wait_other(void *arg) {
  (void)arg;
  closing_tid = gettid();
  closing_result = wsevent_wait(closing, 10000);
  return NULL;
}

/* Timeouts and alertable waits hold for named events as for local ones. */
TEST(test_timeouts_and_alertable_waits_on_named_events) {
  fresh_namespace();
  wsevent_t ev = named("alert", WSEVENT_AUTO_RESET, NULL);
  wsevent_time_t t0 = wsevent_now();
  ASSERT_EQ(wsevent_wait(ev, 30), WSEVENT_TIMEOUT);
  ASSERT_GE(wsevent_now() - t0, 30 * 1000000LL); /* never early */
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_TIMEOUT);

  wsevent_thread_t self;
  ASSERT_EQ(wsevent_thread_self(&self), WSEVENT_OK);
  main_tid = gettid();
  pthread_t t;
  ASSERT_EQ(pthread_create(&t, NULL, queue_soon, &self), 0);
  ASSERT_EQ(wsevent_wait_multiple(&ev, 1, WSEVENT_ALERTABLE, 10000, NULL),
            WSEVENT_IO_COMPLETION);
  pthread_join(t, NULL);
  ASSERT_EQ(wsevent_is_set(ev), 0);

  /* Closing a handle wakes this process's waiters on it with ECLOSED;
   * the other handle, and the object, live on. */
  closing = open_named("alert");
  ASSERT_EQ(pthread_create(&t, NULL, wait_other, NULL), 0);
  while (closing_tid == 0)
    sched_yield();
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)closing_tid);
  until_task_sleeps(path); /* in its wait */
  wsevent_close(closing);
  pthread_join(t, NULL);
  ASSERT_EQ(closing_result, WSEVENT_ECLOSED);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_OK);
  wsevent_close(ev);
  end_namespace();
}

/* Each set of an auto-reset event releases exactly one waiter, whatever
 * process it is in: three consumers, one producer that sets once per
 * acknowledgement; the counts add up to the sets, exactly. */
TEST(test_auto_reset_releases_exactly_one_waiter_in_any_process) {
  fresh_namespace();
  wsevent_t item = named("item", WSEVENT_AUTO_RESET, NULL);
  wsevent_t ack = named("ack", WSEVENT_AUTO_RESET, NULL);
  wsevent_t stop = named("stop", 0, NULL);
  long sets = ops_scale(100000);
  _Atomic long *counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT(counts != MAP_FAILED);
  pid_t pids[3];
  for (int c = 0; c < 3; c++) {
    pids[c] = fork();
    if (pids[c] == 0) {
      wsevent_t ev[2];
      wsevent_t a;
      if (wsevent_create_named(&ev[0], "item", WSEVENT_OPEN_EXISTING, NULL) ||
          wsevent_create_named(&ev[1], "stop", WSEVENT_OPEN_EXISTING, NULL) ||
          wsevent_create_named(&a, "ack", WSEVENT_OPEN_EXISTING, NULL))
        _exit(2);
      for (;;) {
        size_t index;
        int r = wsevent_wait_multiple(ev, 2, 0, 20000, &index);
        if (r != WSEVENT_OK)
          _exit(3);
        if (index == 1)
          _exit(0);
        atomic_fetch_add(&counts[c], 1);
        wsevent_set(a);
      }
    }
  }
  for (long i = 0; i < sets; i++) {
    ASSERT_EQ(wsevent_set(item), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(ack, 20000), WSEVENT_OK);
  }
  ASSERT_EQ(wsevent_wait(ack, 0), WSEVENT_TIMEOUT); /* nobody took two */
  wsevent_set(stop);
  for (int c = 0; c < 3; c++)
    ASSERT_EQ(wait_child(pids[c]), 0);
  ASSERT_EQ(counts[0] + counts[1] + counts[2], sets);
  ASSERT_EQ(wsevent_is_set(item), 0);
  wsevent_close(item);
  wsevent_close(ack);
  wsevent_close(stop);
  end_namespace();
}

/* Wait-all over local and named events takes them in one step: it waits
 * for the last one, consumes the auto-reset ones together, and a wait-all
 * that times out takes nothing. */
TEST(test_wait_all_mixes_local_and_named_events) {
  fresh_namespace();
  wsevent_t ev[3];
  ASSERT_EQ(wsevent_create(&ev[0], WSEVENT_INITIAL_SET), WSEVENT_OK);
  ev[1] = named("a", WSEVENT_AUTO_RESET, NULL);
  ev[2] = named("b", WSEVENT_AUTO_RESET, NULL);

  ASSERT_EQ(wsevent_set(ev[1]), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(ev, 3, WSEVENT_WAIT_ALL, 20, NULL),
            WSEVENT_TIMEOUT);
  ASSERT_EQ(wsevent_is_set(ev[1]), 1); /* not taken alone */

  pid_t pid = fork();
  if (pid == 0) {
    wsevent_t b;
    if (wsevent_create_named(&b, "b", WSEVENT_OPEN_EXISTING, NULL))
      _exit(2);
    wsevent_set(b);
    _exit(0);
  }
  size_t index = 9;
  ASSERT_EQ(wsevent_wait_multiple(ev, 3, WSEVENT_WAIT_ALL, 10000, &index),
            WSEVENT_OK);
  ASSERT_EQ(index, 0);
  ASSERT_EQ(wait_child(pid), 0);
  ASSERT_EQ(wsevent_is_set(ev[0]), 1); /* manual-reset: kept */
  ASSERT_EQ(wsevent_is_set(ev[1]), 0);
  ASSERT_EQ(wsevent_is_set(ev[2]), 0);

  /* Two handles on one name are one object: a duplicate. */
  wsevent_t dup[2] = {ev[1], open_named("a")};
  ASSERT_EQ(wsevent_wait_multiple(dup, 2, WSEVENT_WAIT_ALL, 0, NULL),
            WSEVENT_EINVAL);
  ASSERT_EQ(wsevent_set(dup[1]), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_multiple(dup, 2, 0, 0, &index), WSEVENT_OK);
  ASSERT_EQ(index, 0);
  for (int i = 0; i < 3; i++)
    wsevent_close(ev[i]);
  wsevent_close(dup[1]);
  end_namespace();
}

/* The atomicity of wait-all across processes: two processes take pairs
 * with wait-all while a third takes single events; each pair is taken
 * whole, never half (the halves would be counted twice or lost). */
TEST(test_wait_all_is_atomic_across_processes) {
  fresh_namespace();
  wsevent_t a = named("a", WSEVENT_AUTO_RESET, NULL);
  wsevent_t b = named("b", WSEVENT_AUTO_RESET, NULL);
  wsevent_t done = named("done", WSEVENT_AUTO_RESET, NULL);
  long rounds = ops_scale(3000);
  pid_t pid = fork();
  if (pid == 0) {
    wsevent_t ev[2], d;
    if (wsevent_create_named(&ev[1], "a", WSEVENT_OPEN_EXISTING, NULL) ||
        wsevent_create_named(&ev[0], "b", WSEVENT_OPEN_EXISTING, NULL) ||
        wsevent_create_named(&d, "done", WSEVENT_OPEN_EXISTING, NULL))
      _exit(2);
    /* The other lock order on purpose: ids decide, not the list. */
    for (long i = 0; i < rounds; i++) {
      if (wsevent_wait_multiple(ev, 2, WSEVENT_WAIT_ALL, 20000, NULL))
        _exit(3);
      wsevent_set(d);
    }
    _exit(0);
  }
  wsevent_t ev[2] = {a, b};
  for (long i = 0; i < rounds; i++) {
    /* Alternately the child or we take the pair; nothing is left over. */
    wsevent_set(a);
    wsevent_set(b);
    if (i % 2 == 0) {
      ASSERT_EQ(wsevent_wait(done, 20000), WSEVENT_OK);
    } else {
      int r = wsevent_wait_multiple(ev, 2, WSEVENT_WAIT_ALL, 0, NULL);
      if (r == WSEVENT_TIMEOUT) { /* the child took this pair */
        ASSERT_EQ(wsevent_wait(done, 20000), WSEVENT_OK);
      } else {
        ASSERT_EQ(r, WSEVENT_OK);
        i--; /* ours: give the child its round again */
      }
    }
    ASSERT_EQ(wsevent_is_set(a), 0);
    ASSERT_EQ(wsevent_is_set(b), 0);
  }
  ASSERT_EQ(wait_child(pid), 0);
  wsevent_close(a);
  wsevent_close(b);
  wsevent_close(done);
  end_namespace();
}

/* A manual-reset event releases every waiter blocked when it is set, in
 * every process, even if a reset follows at once. */
TEST(test_a_set_and_reset_releases_waiters_in_other_processes) {
  fresh_namespace();
  wsevent_t ev = named("pulse", 0, NULL);
  pid_t pids[2];
  for (int i = 0; i < 2; i++) {
    pids[i] = fork();
    if (pids[i] == 0) {
      wsevent_t e;
      if (wsevent_create_named(&e, "pulse", WSEVENT_OPEN_EXISTING, NULL))
        _exit(2);
      _exit(wsevent_wait(e, 20000) == WSEVENT_OK ? 0 : 3);
    }
  }
  until_sleeping(pids[0]);
  until_sleeping(pids[1]);
  ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
  ASSERT_EQ(wsevent_reset(ev), WSEVENT_OK);
  ASSERT_EQ(wait_child(pids[0]), 0);
  ASSERT_EQ(wait_child(pids[1]), 0);
  wsevent_close(ev);
  end_namespace();
}

/* Killed while waiting: the others go on, and the signal the dead process
 * did not take is still there. */
TEST(test_a_process_killed_in_a_wait_loses_nothing) {
  fresh_namespace();
  wsevent_t ev = named("k", WSEVENT_AUTO_RESET, NULL);
  for (int round = 0; round < 5; round++) {
    pid_t pid = fork();
    if (pid == 0) {
      wsevent_t e;
      if (wsevent_create_named(&e, "k", WSEVENT_OPEN_EXISTING, NULL))
        _exit(2);
      wsevent_t two[2] = {e, e};
      wsevent_wait_multiple(two, 2, 0, WSEVENT_INFINITE, NULL);
      _exit(4); /* never: nobody sets it while it lives */
    }
    until_sleeping(pid);
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid), 128 + SIGKILL);
    ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(ev, 10000), WSEVENT_OK);
  }
  wsevent_close(ev);
  end_namespace();
}

/* Killed at any point of a loop of sets and resets (sometimes holding the
 * object's lock): the survivors neither block nor miss a signal. */
TEST(test_a_process_killed_while_setting_leaves_nobody_stuck) {
  fresh_namespace();
  wsevent_t ev = named("busy", 0, NULL);
  wsevent_t other = named("other", WSEVENT_AUTO_RESET, NULL);
  for (int round = 0; round < 20; round++) {
    int ready[2];
    ASSERT_EQ(pipe(ready), 0);
    pid_t pid = fork();
    if (pid == 0) {
      wsevent_t e, o;
      if (wsevent_create_named(&e, "busy", WSEVENT_OPEN_EXISTING, NULL) ||
          wsevent_create_named(&o, "other", WSEVENT_OPEN_EXISTING, NULL))
        _exit(2);
      if (write(ready[1], "r", 1) != 1)
        _exit(3);
      for (;;) {
        wsevent_set(e);
        wsevent_reset(e);
        wsevent_set(o);
        wsevent_wait(o, 0);
      }
    }
    char c;
    ASSERT_EQ(read(ready[0], &c, 1), 1);
    close(ready[0]);
    close(ready[1]);
    usleep(1000 + (useconds_t)(rand() % 5000));
    kill(pid, SIGKILL);
    ASSERT_EQ(wait_child(pid), 128 + SIGKILL);
    /* The objects work, and their locks are free. */
    ASSERT_EQ(wsevent_reset(ev), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(ev, 0), WSEVENT_TIMEOUT);
    ASSERT_EQ(wsevent_set(ev), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(ev, 1000), WSEVENT_OK);
    ASSERT_EQ(wsevent_reset(other), WSEVENT_OK);
    ASSERT_EQ(wsevent_set(other), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(other, 1000), WSEVENT_OK);
    ASSERT_EQ(wsevent_wait(other, 0), WSEVENT_TIMEOUT);
  }
  wsevent_close(ev);
  wsevent_close(other);
  end_namespace();
}

/* A descriptor of a named event follows sets and takes made in other
 * processes (the monitor thread mirrors them). */
TEST(test_the_descriptor_follows_other_processes) {
  fresh_namespace();
  wsevent_t ev = named("fd", WSEVENT_AUTO_RESET, NULL);
  int fd;
  ASSERT_EQ(wsevent_fd(ev, &fd), WSEVENT_OK);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  ASSERT_EQ(poll(&p, 1, 0), 0);
  pid_t pid = fork();
  if (pid == 0) {
    wsevent_t e;
    if (wsevent_create_named(&e, "fd", WSEVENT_OPEN_EXISTING, NULL))
      _exit(2);
    wsevent_set(e);
    _exit(0);
  }
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  ASSERT_EQ(wait_child(pid), 0);
  pid = fork();
  if (pid == 0) {
    wsevent_t e;
    if (wsevent_create_named(&e, "fd", WSEVENT_OPEN_EXISTING, NULL) ||
        wsevent_wait(e, 0) != WSEVENT_OK)
      _exit(2);
    _exit(0);
  }
  ASSERT_EQ(wait_child(pid), 0);
  /* Taken elsewhere: the descriptor goes quiet. */
  for (int i = 0; i < 10000 && poll(&p, 1, 0) == 1; i++)
    usleep(1000);
  ASSERT_EQ(poll(&p, 1, 0), 0);
  wsevent_close(ev);
  end_namespace();
}

/* An asynchronous wait (a completion port) on a named event completes
 * when another process sets it. */
TEST(test_an_asynchronous_wait_sees_other_processes) {
  fresh_namespace();
  wsevent_t ev = named("async", WSEVENT_AUTO_RESET, NULL);
  wsevent_port_t port;
  wsevent_async_t w;
  int pfd;
  ASSERT_EQ(wsevent_port_create(&port), WSEVENT_OK);
  ASSERT_EQ(wsevent_port_fd(port, &pfd), WSEVENT_OK);
  ASSERT_EQ(wsevent_wait_async(port, &ev, 1, 0, 42, &w), WSEVENT_OK);
  pid_t pid = fork();
  if (pid == 0) {
    wsevent_t e;
    if (wsevent_create_named(&e, "async", WSEVENT_OPEN_EXISTING, NULL))
      _exit(2);
    wsevent_set(e);
    _exit(0);
  }
  struct pollfd p = {.fd = pfd, .events = POLLIN};
  ASSERT_EQ(poll(&p, 1, 10000), 1);
  struct wsevent_packet pk;
  size_t taken;
  ASSERT_EQ(wsevent_port_take(port, &pk, 1, &taken), WSEVENT_OK);
  ASSERT_EQ(taken, 1);
  ASSERT_EQ(pk.key, 42);
  ASSERT_EQ(pk.result, WSEVENT_OK);
  ASSERT_EQ(wsevent_is_set(ev), 0); /* the wait took it */
  ASSERT_EQ(wait_child(pid), 0);
  wsevent_port_close(port);
  wsevent_close(ev);
  end_namespace();
}

/* A child of fork() holds what it inherits in its own right: the parent
 * closing at once does not take the name away from it. */
TEST(test_a_fork_child_keeps_inherited_events) {
  fresh_namespace();
  wsevent_t ev = named("inherit", 0, NULL);
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t pid = fork();
  if (pid == 0) {
    char c;
    if (read(go[0], &c, 1) != 1)
      _exit(2);
    wsevent_t again;
    if (wsevent_create_named(&again, "inherit", WSEVENT_OPEN_EXISTING, NULL))
      _exit(3);
    wsevent_set(ev); /* the inherited handle works */
    _exit(wsevent_is_set(again) == 1 ? 0 : 4);
  }
  wsevent_close(ev); /* at once */
  ASSERT_EQ(write(go[1], "g", 1), 1);
  ASSERT_EQ(wait_child(pid), 0);
  /* Both gone: the name is free. */
  ASSERT_EQ(wsevent_create_named(&ev, "inherit", WSEVENT_OPEN_EXISTING, NULL),
            WSEVENT_ENOTFOUND);
  end_namespace();
}

/* Closing one handle leaves the object to the other handles, here and in
 * other processes. */
TEST(test_closing_one_handle_leaves_the_others_working) {
  fresh_namespace();
  wsevent_t ev = named("close", 0, NULL);
  wsevent_t other = open_named("close");
  pid_t pid = fork();
  if (pid == 0) {
    wsevent_t e;
    if (wsevent_create_named(&e, "close", WSEVENT_OPEN_EXISTING, NULL))
      _exit(2);
    _exit(wsevent_wait(e, 20000) == WSEVENT_OK ? 0 : 3);
  }
  until_sleeping(pid);
  wsevent_close(ev);
  ASSERT_EQ(wsevent_set(other), WSEVENT_OK); /* still there */
  ASSERT_EQ(wait_child(pid), 0);
  wsevent_close(other);
  end_namespace();
}

