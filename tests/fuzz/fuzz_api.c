/*
 * fuzz_api.c: libFuzzer harness for the core API.
 *
 * Each input is a program: byte pairs (operation, slot) plus operands,
 * split in two halves that two threads run at once over a shared pool of
 * handles (live, closed, stale, or forged from the input).  Timeouts stay
 * within 0..2 ms so no input can hang.  Every result must be one of the
 * core's codes; ASan and UBSan catch the rest.  At the end of each input
 * every event is closed, so nothing accumulates across inputs.
 *
 *   make fuzz        (a short run; FUZZ_SECONDS=600 for a longer one)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsevent.h"

#define POOL 16

static _Atomic wsevent_t pool[POOL];
static _Atomic wsevent_timer_t timers[4];
static _Atomic long routines_run;

struct input {
  const uint8_t *p;
  size_t n;
};

static uint8_t take(struct input *in) {
  if (in->n == 0)
    return 0;
  in->n--;
  return *in->p++;
}

static uint64_t take64(struct input *in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = (v << 8) | take(in);
  return v;
}

static void check(int r) {
  if (r < WSEVENT_ENAME || r > WSEVENT_IO_PENDING ||
      strcmp(wsevent_err_name(r), "WSEVENT_UNKNOWN") == 0)
    __builtin_trap(); /* not a code of the enum */
}

/* A name from the input: short, from an alphabet with '/' and NUL in it,
 * so that a few names recur (opened again) and some are refused. */
static void take_name(struct input *in, char *name, size_t size) {
  static const char alphabet[] = "ab/\0.";
  size_t len = take(in) % 4;
  if (len >= size)
    len = size - 1;
  for (size_t i = 0; i < len; i++)
    name[i] = alphabet[take(in) % (sizeof alphabet - 1)];
  name[len] = '\0';
}

static void routine(void *ctx) {
  (void)ctx;
  atomic_fetch_add(&routines_run, 1);
}

static void run(struct input *in) {
  wsevent_thread_t self;
  check(wsevent_thread_self(&self));
  while (in->n > 0) {
    uint8_t op = take(in) % 18;
    unsigned slot = take(in) % POOL;
    wsevent_t h = atomic_load(&pool[slot]);
    wsevent_t list[70];
    size_t index;
    int fd;
    unsigned flags;
    switch (op) {
    case 0: { /* create, leaving the old handle stale */
      wsevent_t fresh;
      int r = wsevent_create(&fresh, take(in) & 7); /* 4 is not a flag */
      check(r);
      if (r == WSEVENT_OK)
        check(wsevent_close(atomic_exchange(&pool[slot], fresh)));
      break;
    }
    case 1: check(wsevent_close(h)); break;
    case 2: check(wsevent_set(h)); break;
    case 3: check(wsevent_reset(h)); break;
    case 4: check(wsevent_is_set(h)); break;
    case 5: check(wsevent_set_from_signal(h)); break;
    case 6: check(wsevent_wait(h, take(in) % 3)); break;
    case 7: { /* a list: pool entries, duplicates, forged values */
      size_t k = take(in) % 70;
      for (size_t i = 0; i < k; i++) {
        uint8_t b = take(in);
        list[i] = b < 200 ? atomic_load(&pool[b % POOL]) : (wsevent_t)take64(in);
      }
      flags = take(in) & 0x0F; /* 8 is not a flag */
      check(wsevent_wait_multiple(k ? list : NULL, k, flags, take(in) % 3, &index));
      break;
    }
    case 8: { /* forged */
      wsevent_t f = (wsevent_t)take64(in);
      check(wsevent_set(f));
      check(wsevent_wait(f, 0));
      check(wsevent_close(f));
      break;
    }
    case 9: check(wsevent_fd(h, &fd)); break;
    case 10: check(wsevent_queue_completion(self, routine, NULL)); break;
    case 11: check(wsevent_sleep(take(in) % 2, take(in) & 7)); break;
    case 12: check(wsevent_get_flags(h, &flags)); break;
    case 13: {
      wsevent_timer_t t;
      int r = wsevent_timer_start(h, take(in) % 3, take(in) % 3, &t);
      check(r);
      if (r == WSEVENT_OK) {
        wsevent_timer_t old = atomic_exchange(&timers[slot % 4], t);
        if (old)
          check(wsevent_timer_cancel(old));
      }
      break;
    }
    case 14: check(wsevent_timer_cancel(atomic_exchange(&timers[slot % 4], 0))); break;
    case 16: { /* a named event, created or opened, into the pool */
      char name[8];
      take_name(in, name, sizeof name);
      wsevent_t fresh;
      int existed;
      int r = wsevent_create_named(&fresh, name, (take(in) & 3) |
                                   (take(in) & 1 ? WSEVENT_OPEN_EXISTING : 0),
                                   &existed);
      check(r);
      if (r == WSEVENT_OK)
        check(wsevent_close(atomic_exchange(&pool[slot], fresh)));
      break;
    }
    case 17: {
      char buf[WSEVENT_NAME_MAX + 1];
      size_t len;
      check(wsevent_get_name(h, buf, take(in) % 2 ? sizeof buf : 1, &len));
      break;
    }
    default: check(wsevent_timer_cancel((wsevent_timer_t)take64(in))); break;
    }
  }
  /* Routines queued to this thread die with it; run them now. */
  check(wsevent_sleep(0, WSEVENT_ALERTABLE));
}

static void *second(void *arg) {
  run(arg);
  return NULL;
}

/* Names go to a directory of the fuzzer's own, empty at the end (every
 * input closes what it made). */
static char fuzz_dir[] = "/tmp/wsevent-fuzz-XXXXXX";
static void remove_dir(void) { rmdir(fuzz_dir); }

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  if (mkdtemp(fuzz_dir) != NULL) {
    setenv("WSEVENT_NAMED_DIR", fuzz_dir, 1);
    atexit(remove_dir);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct input a = {data, size / 2}, b = {data + size / 2, size - size / 2};
  pthread_t t;
  int threaded = pthread_create(&t, NULL, second, &b) == 0;
  run(&a);
  if (threaded)
    pthread_join(t, NULL);
  else
    run(&b);
  for (int i = 0; i < POOL; i++)
    check(wsevent_close(atomic_exchange(&pool[i], 0)));
  for (int i = 0; i < 4; i++) {
    wsevent_timer_t t4 = atomic_exchange(&timers[i], 0);
    if (t4)
      check(wsevent_timer_cancel(t4));
  }
  return 0;
}
