/*
 * windows.h: what a Winsock program takes from <windows.h> here.
 *
 * Winsock samples start with it.  Here it is winsock2.h (which has the
 * Windows types and macros, and kernel32's event calls: CreateEvent,
 * WaitForSingleObject, Sleep, GetLastError...), plus the memory calls the
 * samples use: GlobalAlloc, LocalAlloc and HeapAlloc over malloc.  Memory
 * is never moveable: GlobalLock gives the block itself.
 */
#ifndef WSEVENT_WINDOWS_H
#define WSEVENT_WINDOWS_H

#include <malloc.h> /* malloc_usable_size */
#include <stdlib.h>
#include <string.h>

#include "winsock2.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef HANDLE HGLOBAL, HLOCAL;

#define GMEM_FIXED 0x0000
#define GMEM_MOVEABLE 0x0002
#define GMEM_ZEROINIT 0x0040
#define GPTR (GMEM_FIXED | GMEM_ZEROINIT)
#define GHND (GMEM_MOVEABLE | GMEM_ZEROINIT)
#define LMEM_FIXED 0x0000
#define LMEM_MOVEABLE 0x0002
#define LMEM_ZEROINIT 0x0040
#define LPTR (LMEM_FIXED | LMEM_ZEROINIT)
#define LHND (LMEM_MOVEABLE | LMEM_ZEROINIT)
#define HEAP_ZERO_MEMORY 0x00000008

/* NULL with ERROR_NOT_ENOUGH_MEMORY when there is none, as Windows. */
static inline PVOID wsevent_mem_alloc(SIZE_T bytes, BOOL zero) {
  void *p = zero ? calloc(1, bytes ? bytes : 1) : malloc(bytes ? bytes : 1);
  if (p == NULL)
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
  return p;
}

static inline HGLOBAL GlobalAlloc(UINT flags, SIZE_T bytes) {
  return wsevent_mem_alloc(bytes, (flags & GMEM_ZEROINIT) != 0);
}
static inline HGLOBAL GlobalFree(HGLOBAL mem) {
  free(mem);
  return NULL;
}
static inline LPVOID GlobalLock(HGLOBAL mem) { return mem; }
static inline BOOL GlobalUnlock(HGLOBAL mem) {
  (void)mem;
  return FALSE; /* "the memory object is unlocked" */
}
static inline HLOCAL LocalAlloc(UINT flags, SIZE_T bytes) {
  return wsevent_mem_alloc(bytes, (flags & LMEM_ZEROINIT) != 0);
}
static inline HLOCAL LocalFree(HLOCAL mem) {
  free(mem);
  return NULL;
}

/* One heap, the C library's. */
static inline HANDLE GetProcessHeap(void) { return (HANDLE)&wsevent_mem_alloc; }
static inline LPVOID HeapAlloc(HANDLE heap, DWORD flags, SIZE_T bytes) {
  (void)heap;
  return wsevent_mem_alloc(bytes, (flags & HEAP_ZERO_MEMORY) != 0);
}
static inline LPVOID HeapReAlloc(HANDLE heap, DWORD flags, LPVOID mem, SIZE_T bytes) {
  (void)heap;
  size_t old = malloc_usable_size(mem);
  char *p = (char *)realloc(mem, bytes ? bytes : 1);
  if (p == NULL)
    SetLastError(ERROR_NOT_ENOUGH_MEMORY);
  else if ((flags & HEAP_ZERO_MEMORY) && bytes > old)
    memset(p + old, 0, bytes - old); /* the growth, zeroed */
  return p;
}
static inline BOOL HeapFree(HANDLE heap, DWORD flags, LPVOID mem) {
  (void)heap, (void)flags;
  free(mem);
  return TRUE;
}

#ifdef __cplusplus
}
#endif

#endif /* WSEVENT_WINDOWS_H */
