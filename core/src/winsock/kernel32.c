/*
 * kernel32.c: the kernel32 calls Winsock event programs make, on events.
 *
 * A HANDLE is an event's wsevent handle (what WSACreateEvent returns too,
 * as on Windows, where a WSAEVENT is an event HANDLE).  The last error is
 * Winsock's (GetLastError is WSAGetLastError), with Win32's codes.  These
 * calls need no WSAStartup.
 */
#include <errno.h>
#include <string.h>

#include "internal.h"

static wsevent_t handle_of(HANDLE h) { return (wsevent_t)(uintptr_t)h; }

DWORD GetLastError(void) { return (DWORD)WSAGetLastError(); }

void SetLastError(DWORD code) { WSASetLastError((int)code); }

int wse_ws_event_error(int code) {
  switch (code) {
  case WSEVENT_ENOMEM:
  case WSEVENT_ELIMIT:
  case WSEVENT_ENFILE:
    return ERROR_NOT_ENOUGH_MEMORY;
  case WSEVENT_EINVAL:
    return ERROR_INVALID_PARAMETER;
  case WSEVENT_ENAME:
    return ERROR_INVALID_NAME;
  case WSEVENT_ENOTFOUND:
    return ERROR_FILE_NOT_FOUND;
  default:
    return ERROR_INVALID_HANDLE;
  }
}

/* Win32's kernel namespaces; here every name is the user's. */
static const char *bare_name(const char *name) {
  if (strncmp(name, "Local\\", 6) == 0)
    return name + 6;
  if (strncmp(name, "Global\\", 7) == 0)
    return name + 7;
  return name;
}

static HANDLE open_event(const char *name, unsigned flags) {
  wsevent_t ev;
  int existed = 0, saved = errno;
  int r = name != NULL ? wsevent_create_named(&ev, bare_name(name), flags, &existed)
                       : wsevent_create(&ev, flags);
  if (r != WSEVENT_OK) {
    wse_ws_fail(wse_ws_event_error(r));
    return NULL;
  }
  /* CreateEvent says whether the name existed: ERROR_ALREADY_EXISTS, or
   * 0 (the existing event keeps its own reset mode and state).  errno as
   * it was, first: the last error is recorded with the errno it leaves. */
  errno = saved;
  SetLastError(existed ? ERROR_ALREADY_EXISTS : ERROR_SUCCESS);
  return (HANDLE)(uintptr_t)ev;
}

HANDLE CreateEventA(LPSECURITY_ATTRIBUTES attributes, BOOL manual_reset,
                    BOOL initial_state, LPCSTR name) {
  (void)attributes; /* no inheritance or ACL here: only the user sees it */
  return open_event(name, (manual_reset ? 0 : WSEVENT_AUTO_RESET) |
                              (initial_state ? WSEVENT_INITIAL_SET : 0));
}

HANDLE OpenEventA(DWORD access, BOOL inherit, LPCSTR name) {
  (void)access, (void)inherit;
  if (name == NULL) {
    wse_ws_fail(ERROR_INVALID_PARAMETER);
    return NULL;
  }
  HANDLE h = open_event(name, WSEVENT_OPEN_EXISTING);
  if (h != NULL)
    SetLastError(ERROR_SUCCESS); /* (an open, never "already exists") */
  return h;
}

static BOOL event_call(int (*fn)(wsevent_t), HANDLE h) {
  int saved = errno;
  int r = fn(handle_of(h));
  if (r != WSEVENT_OK) {
    wse_ws_fail(wse_ws_event_error(r));
    return FALSE;
  }
  errno = saved;
  return TRUE;
}

BOOL SetEvent(HANDLE h) { return event_call(wsevent_set, h); }
BOOL ResetEvent(HANDLE h) { return event_call(wsevent_reset, h); }
BOOL CloseHandle(HANDLE h) { return event_call(wsevent_close, h); }

DWORD WaitForMultipleObjectsEx(DWORD count, const HANDLE *handles, BOOL wait_all,
                               DWORD ms, BOOL alertable) {
  wsevent_t events[MAXIMUM_WAIT_OBJECTS];
  size_t index = 0;
  int saved = errno;
  if (count == 0 || count > MAXIMUM_WAIT_OBJECTS || handles == NULL) {
    wse_ws_fail(ERROR_INVALID_PARAMETER);
    return WAIT_FAILED;
  }
  for (DWORD i = 0; i < count; i++)
    events[i] = handle_of(handles[i]);
  int r = wsevent_wait_multiple(events, count,
                                (wait_all ? WSEVENT_WAIT_ALL : 0) |
                                    (alertable ? WSEVENT_ALERTABLE : 0),
                                ms, &index);
  if (r < 0)
    wse_ws_fail(wse_ws_event_error(r));
  else
    errno = saved; /* a timeout is no error either */
  return wsevent_win32_result(r, index);
}

DWORD WaitForMultipleObjects(DWORD count, const HANDLE *handles, BOOL wait_all,
                             DWORD ms) {
  return WaitForMultipleObjectsEx(count, handles, wait_all, ms, FALSE);
}

DWORD WaitForSingleObjectEx(HANDLE h, DWORD ms, BOOL alertable) {
  return WaitForMultipleObjectsEx(1, &h, FALSE, ms, alertable);
}

DWORD WaitForSingleObject(HANDLE h, DWORD ms) {
  return WaitForMultipleObjectsEx(1, &h, FALSE, ms, FALSE);
}

void Sleep(DWORD ms) { SleepEx(ms, FALSE); }

ULONGLONG GetTickCount64(void) { return (ULONGLONG)(wsevent_now() / 1000000); }

DWORD GetTickCount(void) { return (DWORD)GetTickCount64(); }
