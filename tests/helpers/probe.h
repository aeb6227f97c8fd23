/*
 * probe.h: a provider API that exercises bindings/wsevent.i's typemaps
 * (tests/python/test_provider.py, tests/lua/test_provider.lua): integers
 * of every width round trip, an optional event, and a completion given
 * before an argument that may fail to convert.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "wsevent_provider.h"

int probe_startup(const struct wsevent_upcalls *upcalls);

int8_t probe_i8(int8_t v);
uint8_t probe_u8(uint8_t v);
short probe_short(short v);
uint16_t probe_u16(uint16_t v);
uint32_t probe_u32(uint32_t v);
int64_t probe_i64(int64_t v);
uint64_t probe_u64(uint64_t v);
size_t probe_size(size_t v);

/* The handle it was given: 0 for None / nil. */
wsevent_t probe_event(wsevent_t event);

/* Keeps the completion when n > 0 (released at once from another
 * thread, as a provider that gives up later would) and returns n; n <= 0:
 * returns -1 without keeping it. */
int probe_keep(wsevent_completion_fn fn, wsevent_completion_fn release, void *context,
               int n);

#endif
