/*
 * fork.c: one-time set-up, and what a forked child keeps.
 *
 * Only the thread that called fork() exists in the child.  Holding the
 * table mutexes and the dispatcher lock across fork() means the child
 * inherits consistent lists; it then forgets every waiter (their threads
 * are gone), closes the event descriptors (the parent still shares those
 * open file descriptions: writing one would wake the parent's pollers) and
 * closes the ids of the threads that did not survive, and forgets every
 * wait source (the providers' threads are gone) and every completion port
 * (their descriptors are the parent's).  Events keep their
 * state and handles, so the child can go on using them; it asks for new
 * descriptors with wsevent_fd().  Named events stay shared with the
 * parent, and the child holds them in its own right (named.c).
 */
#include <unistd.h>

#include "internal.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void prepare(void) {
  pthread_mutex_lock(&wse_events.mutex);
  pthread_mutex_lock(&wse_threads.mutex);
  pthread_mutex_lock(&wse_sources.mutex);
  pthread_mutex_lock(&wse_ports.mutex);
  pthread_mutex_lock(&wse_asyncs.mutex);
  wse_lock();
  wse_named_prepare_fork();
}

static void parent(void) {
  wse_named_parent_fork();
  wse_unlock();
  pthread_mutex_unlock(&wse_asyncs.mutex);
  pthread_mutex_unlock(&wse_ports.mutex);
  pthread_mutex_unlock(&wse_sources.mutex);
  pthread_mutex_unlock(&wse_threads.mutex);
  pthread_mutex_unlock(&wse_events.mutex);
}

static void child(void) {
  wse_named_child_fork();
  wse_table_each(&wse_events, wse_event_after_fork);
  wse_table_each(&wse_threads, wse_thread_after_fork);
  wse_table_each(&wse_sources, wse_source_after_fork);
  wse_table_each(&wse_ports, wse_port_after_fork);
  wse_table_each(&wse_asyncs, wse_async_after_fork);
  wse_lock_after_fork();
  wse_table_after_fork(&wse_asyncs);
  wse_table_after_fork(&wse_ports);
  wse_table_after_fork(&wse_sources);
  wse_table_after_fork(&wse_threads);
  wse_table_after_fork(&wse_events);
}

static void init(void) {
  wse_completion_init();
  pthread_atfork(prepare, parent, child);
}

void wse_init_once(void) { pthread_once(&once, init); }
