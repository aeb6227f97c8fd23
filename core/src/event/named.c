/*
 * named.c: events shared between processes by name, as Win32's
 * CreateEvent/OpenEvent with a name.
 *
 * An object is a one-page file in a directory of the user's own
 * (/dev/shm/wsevent-<uid>, /tmp/wsevent-<uid> on a system without
 * /dev/shm, or $WSEVENT_NAMED_DIR), mapped shared by every
 * handle to it.  Its state is one 32-bit word (WSE_NW_*): SIGNALED;
 * WAITERS, which a thread sets before it sleeps on the word, so that a
 * change wakes it (and only then costs a system call); and a count of the
 * sets that signaled it, by which a waiter tells that a manual-reset event
 * was set while it waited, even if a reset followed at once.
 *
 * Setting is one compare-and-swap (signals only go up, so it needs no
 * lock and is async-signal-safe).  Taking an auto-reset signal and
 * resetting happen under the object's robust, process-shared mutex, which
 * a wait-all holds on all its named events at once (in the order of their
 * ids) while it tests and takes them: one step, as on Windows.  A process
 * that dies holding a mutex leaves it to the next locker, which finds the
 * word consistent (every change is one atomic store) and wakes every
 * sleeper, in case the dead one changed the word without waking anybody.
 * For the same reason sleepers look again every SLICE_NS: a process killed
 * between its change and its wake-up delays the others, never strands
 * them.
 *
 * Lifetime: every process holding the object holds a shared flock on it.
 * The last handle to close takes the lock exclusive (which succeeds only
 * if nobody else holds it) and unlinks the name.  A process that dies
 * holding it drops its lock with it; an opener that then gets the
 * exclusive lock finds the object unheld: stale, it unlinks it and creates
 * a new one.  Creation initialises an unnamed file and links it under the
 * name only when ready, so nobody ever sees a half-made object.
 *
 * A thread blocked in a wait on named events sleeps on their words and its
 * own futex word at once (futex_waitv, Linux 5.16).  What cannot sleep on
 * a futex (descriptors handed out for the event, waits that poll
 * descriptors, asynchronous waits) is served by one monitor thread per
 * process, started on first need, which sleeps on the words of the named
 * events that need it and dispatches them when they change.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
struct futex_waitv {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t __reserved;
};
#endif
#define WAITV_MAX 128

#define SH_MAGIC 0x57534556u /* "WSEV" */
#define SH_VERSION 1u
#define SH_SIZE 4096
#define SLICE_NS 100000000LL   /* sleepers look again this often */
#define FALLBACK_NS 2000000LL  /* without futex_waitv: poll this often */

/* The shared page.  Never changes layout without SH_VERSION. */
struct wse_shared {
  uint32_t magic, version;
  uint32_t manual;
  _Atomic uint32_t word;
  uint64_t id; /* the lock order of wait-all across processes */
  pthread_mutex_t lock;
};

struct wse_named {
  struct wse_shared *sh;
  int fd;       /* holds the shared flock: one open file description */
  int fork_fd;  /* between fork's prepare and its parent/child halves */
  struct wse_event *ev;
  struct wse_named *prev, *next; /* in `all`, under the dispatcher lock */
  uint32_t need;                 /* reasons for the monitor to watch */
  size_t len;
  char file[]; /* "e." + name */
};

static struct wse_named *all; /* every bound object of this process */
static pthread_mutex_t dir_mutex = PTHREAD_MUTEX_INITIALIZER;
static int dir_fd = -1;
static _Atomic bool no_waitv;

/* ---- the monitor's state (under the dispatcher lock) ---- */
static bool mon_running;
static _Atomic uint32_t mon_ctl; /* bumped to make it look again */

/* ---- futex helpers ---- */

static void wake_shared(_Atomic uint32_t *word) {
  syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static struct timespec ts_of(wsevent_time_t t) {
  struct timespec ts = {(time_t)(t / 1000000000LL), (long)(t % 1000000000LL)};
  return ts;
}

/* 0 when woken, else ETIMEDOUT, EINTR, EAGAIN (a word moved) or ENOSYS. */
static int waitv(struct futex_waitv *fv, unsigned n, wsevent_time_t deadline) {
  struct timespec ts = ts_of(deadline);
  if (!atomic_load_explicit(&no_waitv, memory_order_relaxed)) {
    long r = syscall(SYS_futex_waitv, fv, n, 0, &ts, CLOCK_MONOTONIC);
    if (r >= 0)
      return 0;
    if (errno != ENOSYS && errno != EPERM)
      return errno;
    /* Refused (an old kernel, a seccomp filter): poll instead. */
    atomic_store(&no_waitv, true);
  }
  /* Sleep on the first word only, a short while at a time. */
  wsevent_time_t now = wsevent_now();
  wsevent_time_t until = now + FALLBACK_NS < deadline ? now + FALLBACK_NS
                                                      : deadline;
  int op = (fv[0].flags & FUTEX_PRIVATE_FLAG) ? FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG
                                               : FUTEX_WAIT_BITSET;
  ts = ts_of(until);
  long r = syscall(SYS_futex, (void *)(uintptr_t)fv[0].uaddr, op,
                   (uint32_t)fv[0].val, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
  if (r == 0)
    return 0;
  if (errno == ETIMEDOUT && until < deadline)
    return EAGAIN; /* look again */
  return errno;
}

/* ---- the word ---- */

_Atomic uint32_t *wse_named_word(struct wse_named *n) { return &n->sh->word; }

const char *wse_named_name(struct wse_named *n, size_t *length) {
  *length = n->len;
  return n->file + 2;
}

void wse_named_set(struct wse_named *n) {
  _Atomic uint32_t *word = &n->sh->word;
  uint32_t v = atomic_load(word), nv;
  do {
    if (v & WSE_NW_SIGNALED)
      return;
    nv = ((v | WSE_NW_SIGNALED) & ~WSE_NW_WAITERS) + WSE_NW_SEQ;
  } while (!atomic_compare_exchange_weak(word, &v, nv));
  if (v & WSE_NW_WAITERS)
    wake_shared(word);
}

/* Clear SIGNALED (the object's lock held); true if it was set. */
static bool clear_locked(struct wse_shared *sh) {
  uint32_t v = atomic_load(&sh->word);
  do {
    if (!(v & WSE_NW_SIGNALED))
      return false;
  } while (!atomic_compare_exchange_weak(
      &sh->word, &v, v & ~(WSE_NW_SIGNALED | WSE_NW_WAITERS)));
  if (v & WSE_NW_WAITERS)
    wake_shared(&sh->word); /* the monitors of other processes mirror it */
  return true;
}

static void lock_sh(struct wse_shared *sh) {
  int r = pthread_mutex_lock(&sh->lock);
  if (r == EOWNERDEAD) {
    /* Its holder died: every change it made is whole, but it may not
     * have woken those who sleep on the word. */
    pthread_mutex_consistent(&sh->lock);
    atomic_fetch_and(&sh->word, ~WSE_NW_WAITERS);
    wake_shared(&sh->word);
  }
}

static void unlock_sh(struct wse_shared *sh) { pthread_mutex_unlock(&sh->lock); }

void wse_named_reset(struct wse_named *n) {
  lock_sh(n->sh);
  clear_locked(n->sh);
  unlock_sh(n->sh);
}

bool wse_named_take(struct wse_named *n) {
  lock_sh(n->sh);
  bool was = clear_locked(n->sh);
  unlock_sh(n->sh);
  return was;
}

bool wse_named_taken_locked(struct wse_named *n) { return clear_locked(n->sh); }

/* ---- wait-all: the objects' locks in id order ---- */

static int cmp_id(const void *a, const void *b) {
  uint64_t x = (*(struct wse_named *const *)a)->sh->id;
  uint64_t y = (*(struct wse_named *const *)b)->sh->id;
  return (x > y) - (x < y);
}

/* The named objects of w, sorted by id, in *out (stack or malloc'd). */
static size_t sorted(const struct wse_waiter *w, struct wse_named **stack,
                     size_t cap, struct wse_named ***out) {
  struct wse_named **v = stack;
  if (w->n_named > cap) {
    v = malloc(w->n_named * sizeof *v);
    if (v == NULL)
      return 0;
  }
  size_t k = 0;
  for (size_t i = 0; i < w->count && k < w->n_named; i++)
    if (w->entries[i].named)
      v[k++] = w->entries[i].event->named;
  qsort(v, k, sizeof *v, cmp_id);
  *out = v;
  return k;
}

void wse_named_lock_all(struct wse_waiter *w) {
  struct wse_named *stack[16], **v;
  size_t k = sorted(w, stack, 16, &v);
  if (k == 0 && w->n_named > 0) {
    /* No memory for the order: lock one by one, smallest id next. */
    uint64_t last = 0;
    bool first = true;
    for (size_t done = 0; done < w->n_named; done++) {
      struct wse_named *best = NULL;
      for (size_t i = 0; i < w->count; i++) {
        struct wse_named *n = w->entries[i].named ? w->entries[i].event->named : NULL;
        if (n != NULL && (first || n->sh->id > last) &&
            (best == NULL || n->sh->id < best->sh->id))
          best = n;
      }
      if (best == NULL)
        break;
      lock_sh(best->sh);
      last = best->sh->id;
      first = false;
    }
    return;
  }
  for (size_t i = 0; i < k; i++)
    lock_sh(v[i]->sh);
  if (v != stack)
    free(v);
}

void wse_named_unlock_all(struct wse_waiter *w) {
  for (size_t i = 0; i < w->count; i++)
    if (w->entries[i].named)
      unlock_sh(w->entries[i].event->named->sh);
}

int wse_named_check_all(const struct wse_waiter *w) {
  if (w->n_named < 2)
    return WSEVENT_OK;
  struct wse_named *stack[16], **v;
  size_t k = sorted(w, stack, 16, &v);
  if (k == 0)
    return WSEVENT_ENOMEM;
  int r = WSEVENT_OK;
  for (size_t i = 1; i < k; i++)
    if (v[i]->sh->id == v[i - 1]->sh->id)
      r = WSEVENT_EINVAL;
  if (v != stack)
    free(v);
  return r;
}

/* ---- sleeping ---- */

/* Put WAITERS in the word if it still reads `seen`; false if it moved. */
static bool announce(_Atomic uint32_t *word, uint32_t seen, uint32_t *expect) {
  if (seen & WSE_NW_WAITERS) {
    if (atomic_load(word) != seen)
      return false;
  } else if (!atomic_compare_exchange_strong(word, &seen,
                                             seen | WSE_NW_WAITERS)) {
    return false;
  }
  *expect = seen | WSE_NW_WAITERS;
  return true;
}

int wse_named_sleep(struct wse_waiter *w, wsevent_time_t deadline) {
  struct futex_waitv fv[WAITV_MAX];
  unsigned n = 0;
  fv[n++] = (struct futex_waitv){.val = WSE_W_ASLEEP,
                                 .uaddr = (uintptr_t)&w->futex,
                                 .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG};
  bool all_in = true;
  for (size_t i = 0; i < w->count; i++) {
    struct wse_entry *e = &w->entries[i];
    if (!e->named || !e->ref)
      continue;
    if (n == WAITV_MAX) {
      all_in = false; /* the rest are looked at every slice */
      break;
    }
    uint32_t expect;
    _Atomic uint32_t *word = wse_named_word(e->event->named);
    if (!announce(word, e->seen, &expect))
      return EAGAIN;
    fv[n++] = (struct futex_waitv){.val = expect, .uaddr = (uintptr_t)word,
                                   .flags = FUTEX_32};
  }
  wsevent_time_t now = wsevent_now();
  wsevent_time_t slice = now + (all_in ? SLICE_NS : FALLBACK_NS * 5);
  wsevent_time_t until = slice < deadline ? slice : deadline;
  int err = waitv(fv, n, until);
  if (err == ETIMEDOUT && until < deadline)
    return EAGAIN;
  return err;
}

/* ---- the monitor ---- */

struct watched {
  struct wse_event *ev;
  uint32_t gen;
  uint32_t expect;
};

/* The monitor's list, kept here rather than on its stack: a fork child
 * inherits it without the thread. */
static struct watched *items;
static size_t cap;

static void *monitor_main(void *arg) {
  (void)arg;
  for (;;) {
    uint32_t ctl = atomic_load(&mon_ctl);
    size_t k = 0;
    bool ok = true;
    wse_lock();
    for (struct wse_named *n = all; n != NULL; n = n->next) {
      if (n->need == 0)
        continue;
      if (k == cap) {
        size_t ncap = cap ? cap * 2 : 16;
        struct watched *grown = realloc(items, ncap * sizeof *grown);
        if (grown == NULL) {
          ok = false; /* look at the rest next time round */
          break;
        }
        items = grown;
        cap = ncap;
      }
      struct wse_event *ev = n->ev;
      uint32_t gen = wse_gen_of(atomic_load(&ev->slot.state));
      if (!wse_slot_ref(&ev->slot, gen))
        continue;
      /* Read before dispatching: a change from here on is seen when we
       * announce ourselves below. */
      items[k].expect = atomic_load(&n->sh->word);
      items[k].ev = ev;
      items[k].gen = gen;
      k++;
      wse_dispatch(ev);
    }
    wse_unlock();

    struct futex_waitv fv[WAITV_MAX];
    unsigned nv = 0;
    fv[nv++] = (struct futex_waitv){.val = ctl, .uaddr = (uintptr_t)&mon_ctl,
                                    .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG};
    bool moved = false, all_in = ok;
    for (size_t i = 0; i < k && !moved; i++) {
      if (nv == WAITV_MAX) {
        all_in = false;
        break;
      }
      uint32_t expect;
      _Atomic uint32_t *word = wse_named_word(items[i].ev->named);
      if (!announce(word, items[i].expect, &expect)) {
        moved = true;
        break;
      }
      fv[nv++] = (struct futex_waitv){.val = expect, .uaddr = (uintptr_t)word,
                                      .flags = FUTEX_32};
    }
    if (!moved) {
      wsevent_time_t until = wsevent_now() + (all_in ? SLICE_NS : FALLBACK_NS * 5);
      waitv(fv, nv, until);
    }
    for (size_t i = 0; i < k; i++)
      wse_slot_unref(&wse_events, &items[i].ev->slot);
  }
  return NULL;
}

static void monitor_kick(void) {
  if (!mon_running) {
    pthread_t t;
    pthread_attr_t attr;
    sigset_t all_signals, old;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    /* Signals are for the program's own threads. */
    sigfillset(&all_signals);
    pthread_sigmask(SIG_SETMASK, &all_signals, &old);
    mon_running = pthread_create(&t, &attr, monitor_main, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
  }
  atomic_fetch_add(&mon_ctl, 1);
  syscall(SYS_futex, &mon_ctl, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
}

void wse_named_monitor(struct wse_event *ev, int delta) {
  struct wse_named *n = ev->named;
  if (n == NULL)
    return;
  n->need += (uint32_t)delta;
  if (delta > 0 && n->need == 1)
    monitor_kick();
}

/* ---- the namespace ---- */

static int sys_code(int e) {
  errno = e;
  return (e == EMFILE || e == ENFILE) ? WSEVENT_ENFILE
         : e == ENOMEM                ? WSEVENT_ENOMEM
                                      : WSEVENT_ESYS;
}

static bool same_file(int fd, int dfd, const char *file);

/* Remove the objects nobody holds any more (their last holders died
 * without closing, or exited with _exit): the names were free already,
 * this frees the pages.  Once per process, when it first uses a name. */
static void sweep(int dfd) {
  int fd = dup(dfd);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (d == NULL) {
    if (fd >= 0)
      close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if ((de->d_name[0] != 'e' && de->d_name[0] != 't') || de->d_name[1] != '.')
      continue;
    int f = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (f < 0)
      continue;
    /* Exclusive only if nobody holds it (creators hold theirs before
     * they link them). */
    if (flock(f, LOCK_EX | LOCK_NB) == 0 && same_file(f, dfd, de->d_name))
      unlinkat(dfd, de->d_name, 0);
    close(f);
  }
  closedir(d);
}

/* The directory of the user's names, opened once. */
static int namespace_dir(void) {
  pthread_mutex_lock(&dir_mutex);
  if (dir_fd < 0) {
    char path[PATH_MAX];
    const char *env = getenv("WSEVENT_NAMED_DIR");
    if (env != NULL && env[0] != '\0')
      snprintf(path, sizeof path, "%s", env);
    else /* /dev/shm is memory; a system without it gets /tmp */
      snprintf(path, sizeof path, "%s/wsevent-%lu",
               access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp",
               (unsigned long)getuid());
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
      goto out;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      goto out;
    struct stat st;
    /* Another user's directory, or one others may write to, could hand us
     * objects they control. */
    if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 022)) {
      close(fd);
      errno = EACCES;
      goto out;
    }
    dir_fd = fd;
    sweep(fd);
    /* For tests: behave as where futex_waitv is refused. */
    if (getenv("WSEVENT_NAMED_NO_WAITV") != NULL)
      atomic_store(&no_waitv, true);
  }
out:;
  int fd = dir_fd;
  pthread_mutex_unlock(&dir_mutex);
  return fd;
}

static bool same_file(int fd, int dfd, const char *file) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && fstatat(dfd, file, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
         a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int init_page(int fd, bool manual, bool initial, struct wse_shared **out) {
  if (ftruncate(fd, SH_SIZE) < 0)
    return sys_code(errno);
  struct wse_shared *sh = mmap(NULL, SH_SIZE, PROT_READ | PROT_WRITE,
                               MAP_SHARED, fd, 0);
  if (sh == MAP_FAILED)
    return sys_code(errno);
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  int r = pthread_mutex_init(&sh->lock, &a);
  pthread_mutexattr_destroy(&a);
  if (r != 0) {
    munmap(sh, SH_SIZE);
    return sys_code(r);
  }
  uint64_t id = 0;
  if (getrandom(&id, sizeof id, GRND_NONBLOCK) != (ssize_t)sizeof id) {
    struct stat st;
    fstat(fd, &st);
    id = ((uint64_t)st.st_ino << 24) ^ (uint64_t)wsevent_now() ^ (uint64_t)getpid();
  }
  sh->id = id;
  sh->manual = manual;
  atomic_store(&sh->word, initial ? WSE_NW_SIGNALED : 0);
  sh->version = SH_VERSION;
  sh->magic = SH_MAGIC;
  *out = sh;
  return WSEVENT_OK;
}

/* Make the object under `file`; WSEVENT_TIMEOUT if somebody linked one
 * first (the caller opens that one). */
static int create_file(int dfd, const char *file, unsigned flags,
                       struct wse_shared **sh, int *out_fd) {
  char tmp[64] = "";
  static _Atomic unsigned counter;
  int fd = openat(dfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0) {
    /* No O_TMPFILE here: a temporary name, never opened by others. */
    snprintf(tmp, sizeof tmp, "t.%ld.%u", (long)getpid(),
             atomic_fetch_add(&counter, 1));
    fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC | O_NOFOLLOW,
                0600);
    if (fd < 0)
      return sys_code(errno);
  }
  int r = WSEVENT_OK;
  if (flock(fd, LOCK_SH) < 0)
    r = sys_code(errno);
  if (r == WSEVENT_OK)
    r = init_page(fd, !(flags & WSEVENT_AUTO_RESET),
                  (flags & WSEVENT_INITIAL_SET) != 0, sh);
  if (r == WSEVENT_OK) {
    int l;
    if (tmp[0] != '\0') {
      l = linkat(dfd, tmp, dfd, file, 0);
    } else {
      char proc[64];
      snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
      l = linkat(AT_FDCWD, proc, dfd, file, AT_SYMLINK_FOLLOW);
    }
    if (l < 0) {
      r = errno == EEXIST ? WSEVENT_TIMEOUT : sys_code(errno);
      munmap(*sh, SH_SIZE);
    }
  }
  if (tmp[0] != '\0')
    unlinkat(dfd, tmp, 0);
  if (r != WSEVENT_OK) {
    int e = errno;
    close(fd);
    errno = e;
    return r;
  }
  *out_fd = fd;
  return WSEVENT_OK;
}

/* Open the object under `file`: WSEVENT_OK, WSEVENT_ENOTFOUND (no such
 * name, or a stale one, now removed), WSEVENT_TIMEOUT (it went while we
 * looked: try again), or an error. */
static int open_file(int dfd, const char *file, struct wse_shared **out,
                     int *out_fd) {
  int fd = openat(dfd, file, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return errno == ENOENT ? WSEVENT_ENOTFOUND : sys_code(errno);
  int r = WSEVENT_OK;
  if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
    /* Nobody holds it: its last holder died without closing. */
    if (same_file(fd, dfd, file))
      unlinkat(dfd, file, 0);
    r = WSEVENT_TIMEOUT;
  } else if (errno != EWOULDBLOCK || flock(fd, LOCK_SH) < 0) {
    r = sys_code(errno);
  } else if (!same_file(fd, dfd, file)) {
    r = WSEVENT_TIMEOUT; /* its last holder closed it meanwhile */
  } else {
    struct stat st;
    struct wse_shared *sh = MAP_FAILED;
    errno = EPROTO; /* not one of ours, if not a page */
    if (fstat(fd, &st) == 0 && st.st_size == SH_SIZE)
      sh = mmap(NULL, SH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (sh == MAP_FAILED) {
      r = sys_code(errno);
    } else if (sh->magic != SH_MAGIC || sh->version != SH_VERSION) {
      munmap(sh, SH_SIZE);
      r = sys_code(EPROTO); /* another version of wsevent made it */
    } else {
      *out = sh;
      *out_fd = fd;
      return WSEVENT_OK;
    }
  }
  int e = errno;
  close(fd);
  errno = e;
  return r;
}

int wse_named_open(const char *name, unsigned flags, bool *existed,
                   bool *manual, struct wse_named **out) {
  size_t len = strnlen(name, WSEVENT_NAME_MAX + 1);
  if (len == 0 || len > WSEVENT_NAME_MAX || memchr(name, '/', len) != NULL)
    return WSEVENT_ENAME;
  int dfd = namespace_dir();
  if (dfd < 0)
    return sys_code(errno);
  struct wse_named *n = malloc(sizeof *n + len + 3);
  if (n == NULL)
    return WSEVENT_ENOMEM;
  memcpy(n->file, "e.", 2);
  memcpy(n->file + 2, name, len + 1);
  n->len = len;
  n->fork_fd = -1;
  n->need = 0;
  n->ev = NULL;
  n->prev = n->next = NULL;
  int r = WSEVENT_TIMEOUT;
  /* Each turn either opens, creates, or saw the name change under it
   * (another process created, closed or cleaned it up): bounded only by
   * other processes' churn. */
  for (int tries = 0; r == WSEVENT_TIMEOUT && tries < 1000; tries++) {
    r = open_file(dfd, n->file, &n->sh, &n->fd);
    if (r == WSEVENT_OK) {
      *existed = true;
    } else if (r == WSEVENT_ENOTFOUND && !(flags & WSEVENT_OPEN_EXISTING)) {
      r = create_file(dfd, n->file, flags, &n->sh, &n->fd);
      *existed = false;
    } else if (r == WSEVENT_TIMEOUT && (flags & WSEVENT_OPEN_EXISTING)) {
      r = WSEVENT_ENOTFOUND; /* stale, or gone while we looked */
    }
  }
  if (r != WSEVENT_OK) {
    free(n);
    return r == WSEVENT_TIMEOUT ? sys_code(EAGAIN) : r;
  }
  *manual = n->sh->manual != 0;
  *out = n;
  return WSEVENT_OK;
}

void wse_named_bind(struct wse_named *n, struct wse_event *ev) {
  wse_lock();
  n->ev = ev;
  n->next = all;
  if (all != NULL)
    all->prev = n;
  all = n;
  wse_unlock();
}

int wse_named_detach(struct wse_named *n) {
  int fd = n->fd;
  n->fd = -1; /* fork no longer hands it on */
  return fd;
}

void wse_named_drop(struct wse_named *n, int fd) {
  /* Exclusive only if no other handle, here or elsewhere, holds it. */
  int dfd = namespace_dir();
  if (dfd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0 && same_file(fd, dfd, n->file))
    unlinkat(dfd, n->file, 0);
  close(fd);
}

void wse_named_release(struct wse_named *n) {
  wse_lock();
  if (n->prev)
    n->prev->next = n->next;
  else if (all == n)
    all = n->next;
  if (n->next)
    n->next->prev = n->prev;
  int fd = n->fd; /* still held if the event was never closed (fork) */
  wse_unlock();
  munmap(n->sh, SH_SIZE);
  if (fd >= 0)
    wse_named_drop(n, fd);
  free(n);
}

/* ---- fork ----
 *
 * A child holds the objects it inherits, and must keep holding them even
 * if the parent closes its handles the moment fork() returns.  flock locks
 * belong to open file descriptions, which fork shares: so before the fork
 * each object is opened once more and locked, the child keeps that
 * description and the parent closes it. */

void wse_named_prepare_fork(void) {
  for (struct wse_named *n = all; n != NULL; n = n->next) {
    if (n->fd < 0)
      continue; /* closed: only a waiter's reference keeps the page */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", n->fd);
    n->fork_fd = open(proc, O_RDWR | O_CLOEXEC);
    if (n->fork_fd >= 0 && flock(n->fork_fd, LOCK_SH | LOCK_NB) < 0) {
      close(n->fork_fd);
      n->fork_fd = -1;
    }
  }
}

void wse_named_parent_fork(void) {
  for (struct wse_named *n = all; n != NULL; n = n->next)
    if (n->fork_fd >= 0) {
      close(n->fork_fd);
      n->fork_fd = -1;
    }
}

void wse_named_child_fork(void) {
  mon_running = false;
  atomic_store(&mon_ctl, 0);
  pthread_mutex_init(&dir_mutex, NULL);
  for (struct wse_named *n = all; n != NULL; n = n->next) {
    n->need = 0;
    if (n->fork_fd >= 0) {
      dup3(n->fork_fd, n->fd, O_CLOEXEC);
      close(n->fork_fd);
      n->fork_fd = -1;
    }
  }
}
