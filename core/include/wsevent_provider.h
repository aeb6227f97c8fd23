/*
 * wsevent_provider.h: the upcall table that service providers use.
 *
 * A provider (a library with its own threads that completes operations and
 * signals events) never links libwsevent: it receives this table from the
 * host that loaded it, as WSPStartup receives the WPU* upcalls.  The table
 * reaches it from:
 *   - C:      wsevent_upcalls(), when the program links libwsevent;
 *   - Python: the capsule wsevent._wsevent._C_API (WSEVENT_CAPSULE_NAME);
 *   - Lua:    the light userdata wsevent._upcalls.
 * So the provider and the script share one core and one handle space.
 *
 * The table is versioned like sqlite3_io_methods: iVersion first, slots
 * only ever appended, each marked with the version that added it.  A
 * provider checks iVersion >= the version of every slot it calls.
 *
 * Every slot may be called from any thread.  xSetFromSignal and xIsSet are
 * also safe in a POSIX signal handler; see wsevent.h for each call.
 */
#ifndef WSEVENT_PROVIDER_H
#define WSEVENT_PROVIDER_H

#include "wsevent.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WSEVENT_UPCALLS_VERSION 1
#define WSEVENT_CAPSULE_NAME "wsevent._wsevent._C_API"
#define WSEVENT_LUA_UPCALLS_FIELD "_upcalls"

struct wsevent_upcalls {
  int iVersion;
  /* Version 1 */
  int (*xCreate)(wsevent_t *event, unsigned flags);
  int (*xClose)(wsevent_t event);
  int (*xSet)(wsevent_t event);
  int (*xSetFromSignal)(wsevent_t event);
  int (*xReset)(wsevent_t event);
  int (*xIsSet)(wsevent_t event);
  int (*xWaitMultiple)(const wsevent_t *events, size_t count, unsigned flags,
                       uint32_t timeout_ms, size_t *index);
  int (*xFd)(wsevent_t event, int *fd);
  int (*xThreadSelf)(wsevent_thread_t *thread);
  int (*xQueueCompletion)(wsevent_thread_t thread, wsevent_completion_fn fn,
                          void *context);
  void *(*xThreadData)(void);
  const char *(*xStrerror)(int code);
  const char *(*xErrName)(int code);
  int (*xGetFlags)(wsevent_t event, unsigned *flags);
};

/* This process's table (for programs that link libwsevent). */
WSEVENT_EXTERN const struct wsevent_upcalls *wsevent_upcalls(void);

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_PROVIDER_H */
