/*
 * internal.h: what the files of the Winsock layer share.
 *
 * Every call keeps Windows' rule for the last error: a call that fails
 * sets it, one that succeeds leaves it (and errno) as they were.
 */
#ifndef WSEVENT_WINSOCK_INTERNAL_H
#define WSEVENT_WINSOCK_INTERNAL_H

#include <stdbool.h>

#define WSEVENT_WINSOCK_NO_MACROS /* these files call the C library's */
#define WSEVENT_WINSOCK_INTERNAL
#include "wsevent.h"
#include "wsevent/winsock2.h"

#define WSE_WS_HIDDEN __attribute__((visibility("hidden")))

/* A failure of ours: the Winsock (or Win32) code, and a matching errno. */
WSE_WS_HIDDEN void wse_ws_fail(int code);
/* A failed system call on s (err its errno): its Winsock error as
 * Windows reports it for a socket call, recorded as the last error, and
 * errno left at err. */
WSE_WS_HIDDEN void wse_ws_fail_errno(SOCKET s, int err);
/* The Win32 (and WSA_*) last error for a core code of an event call. */
WSE_WS_HIDDEN int wse_ws_event_error(int code);
/* The Winsock code for a Linux errno. */
WSE_WS_HIDDEN int wse_ws_from_errno(int err);
/* WSAStartup has been called (else WSANOTINITIALISED is recorded). */
WSE_WS_HIDDEN bool wse_ws_started(void);
/* Forget what is known of descriptor s (a new socket got its number, or
 * closesocket closed it). */
WSE_WS_HIDDEN void wse_ws_forget(SOCKET s);

#endif /* WSEVENT_WINSOCK_INTERNAL_H */
