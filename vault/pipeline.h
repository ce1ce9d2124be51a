/*
 * pipeline.h - an ordered pool of worker threads.
 *
 * The caller submits jobs in order; workers run them in any order; the
 * caller collects them back in submission order.  Used to compress, seal and
 * open blob chunks on every core while one thread reads, hashes and writes.
 */
#ifndef EV_PIPELINE_H
#define EV_PIPELINE_H

#include <stddef.h>

typedef struct ev_pipe ev_pipe;

/* work(state, job) runs on a worker; each worker has its own state, made by
 * state_new() and freed by state_free(). */
typedef void (*ev_pipe_work_fn)(void *state, void *job);

/* capacity: the most jobs in flight at once. NULL when out of memory. */
ev_pipe *ev_pipe_new(int nworkers, size_t capacity, ev_pipe_work_fn work,
                     void *(*state_new)(void), void (*state_free)(void *));
void ev_pipe_free(ev_pipe *p);

/* Number of workers a pipe should have on this machine. */
int ev_pipe_default_workers(void);

/* Queues job; with needs_work 0 it is already done (a marker).  The caller
 * must not submit more than capacity jobs before collecting. */
void ev_pipe_submit(ev_pipe *p, void *job, int needs_work);
/* Jobs submitted and not yet collected. */
size_t ev_pipe_pending(const ev_pipe *p);
size_t ev_pipe_capacity(const ev_pipe *p);
/* Waits for the oldest uncollected job and returns it. */
void *ev_pipe_collect(ev_pipe *p);

#endif
