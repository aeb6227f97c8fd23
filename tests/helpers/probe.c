/* probe.c: see probe.h. */
#include "probe.h"

#include <pthread.h>

static const struct wsevent_upcalls *up;

int probe_startup(const struct wsevent_upcalls *upcalls) {
  up = upcalls;
  return upcalls != NULL && upcalls->iVersion >= 2 ? 0 : -1;
}

int8_t probe_i8(int8_t v) { return v; }
uint8_t probe_u8(uint8_t v) { return v; }
short probe_short(short v) { return v; }
uint16_t probe_u16(uint16_t v) { return v; }
uint32_t probe_u32(uint32_t v) { return v; }
int64_t probe_i64(int64_t v) { return v; }
uint64_t probe_u64(uint64_t v) { return v; }
size_t probe_size(size_t v) { return v; }

wsevent_t probe_event(wsevent_t event) { return event; }

struct kept {
  wsevent_completion_fn release;
  void *context;
};

static void *release_later(void *p) {
  struct kept *k = p;
  k->release(k->context);
  return NULL;
}

int probe_keep(wsevent_completion_fn fn, wsevent_completion_fn release, void *context,
               int n) {
  (void)fn;
  if (n <= 0)
    return -1;
  if (context != NULL) {
    struct kept k = {release, context};
    pthread_t t;
    if (pthread_create(&t, NULL, release_later, &k) != 0)
      release(context);
    else
      pthread_join(t, NULL);
  }
  return n;
}
