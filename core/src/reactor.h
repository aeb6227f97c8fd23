/* reactor.h: what reactor.c, select.c and timer.c share.  Private. */
#ifndef WSEVENT_REACTOR_H
#define WSEVENT_REACTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"
#include "wsevent_provider.h"

enum wse_ticket_kind { WSE_TICKET_SOCKET = 1, WSE_TICKET_TIMER = 2 };

/* Guards the reactor, every selection and every timer. */
WSE_HIDDEN extern pthread_mutex_t wse_reactor_mutex;
/* The table the reactor signals through (set by wse_reactor_start). */
WSE_HIDDEN extern const struct wsevent_upcalls *wse_reactor_up;

/* Under the mutex: start the thread if needed. */
WSE_HIDDEN int wse_reactor_start(void);
/* Under the mutex: set an event once the mutex is released, which must
 * then be done with wse_reactor_unlock(). */
WSE_HIDDEN void wse_reactor_set(wsevent_t event);
WSE_HIDDEN void wse_reactor_unlock(void);
/* Under the mutex: register / unregister a descriptor. */
WSE_HIDDEN int wse_reactor_add(int fd, uint32_t events, uint64_t ticket,
                               bool writes);
WSE_HIDDEN void wse_reactor_del(int fd, bool writes);
/* Under the mutex: handle the write edges queued so far. */
WSE_HIDDEN void wse_reactor_take_write_edges(void);
WSE_HIDDEN uint64_t wse_ticket(enum wse_ticket_kind kind, uint32_t slot,
                               uint32_t gen);
WSE_HIDDEN int wse_errno_code(int err);

/* Called by the reactor thread under the mutex. */
WSE_HIDDEN void wse_select_ready(uint32_t fd, uint32_t gen, uint32_t events,
                                 bool write_edge);
WSE_HIDDEN void wse_timer_ready(uint32_t slot, uint32_t gen);
/* Fork child: drop everything without touching the parent's state. */
WSE_HIDDEN void wse_select_forget(void);
WSE_HIDDEN void wse_timer_forget(void);

#endif
