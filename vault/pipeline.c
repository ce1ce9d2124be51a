/*
 * pipeline.c - the ordered worker pool (see pipeline.h).
 *
 * Owns: threads, a ring of job pointers, one mutex and two condition
 * variables.  Never: touches the jobs' contents.
 */
#include "pipeline.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

struct worker {
    struct ev_pipe *p;
    void *state;
};

struct ev_pipe {
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a job was queued, or stop */
    pthread_cond_t done_cv; /* a job finished */
    void **jobs;
    unsigned char *done;
    size_t cap;
    uint64_t head;      /* oldest not collected */
    uint64_t next_work; /* next job a worker takes */
    uint64_t tail;      /* next slot to fill */
    int stop;
    ev_pipe_work_fn work;
    void *(*state_new)(void);
    void (*state_free)(void *);
    pthread_t *threads;
    struct worker *workers; /* their states, made before they start */
    int nworkers, nthreads;
};

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    ev_pipe *p = w->p;
    void *state = w->state;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        uint64_t i;
        void *job;
        while (!p->stop &&
               (p->next_work == p->tail || p->done[p->next_work % p->cap])) {
            if (p->next_work != p->tail) {
                p->next_work++; /* skip markers */
                continue;
            }
            pthread_cond_wait(&p->work_cv, &p->mu);
        }
        if (p->stop) {
            break;
        }
        i = p->next_work++;
        job = p->jobs[i % p->cap];
        pthread_mutex_unlock(&p->mu);
        p->work(state, job);
        pthread_mutex_lock(&p->mu);
        p->done[i % p->cap] = 1;
        pthread_cond_broadcast(&p->done_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int
ev_pipe_default_workers(void)
{
    static long cached;
    long n = cached != 0 ? cached : (cached = sysconf(_SC_NPROCESSORS_ONLN));

    if (n < 1) {
        n = 1;
    }
    return n > 4 ? 4 : (int)n;
}

ev_pipe *
ev_pipe_new(int nworkers, size_t capacity, ev_pipe_work_fn work,
            void *(*state_new)(void), void (*state_free)(void *))
{
    ev_pipe *p = calloc(1, sizeof *p);

    if (p == NULL) {
        return NULL;
    }
    p->cap = capacity;
    p->work = work;
    p->state_new = state_new;
    p->state_free = state_free;
    p->jobs = calloc(capacity, sizeof *p->jobs);
    p->done = calloc(capacity, 1);
    p->threads = calloc((size_t)nworkers, sizeof *p->threads);
    p->workers = calloc((size_t)nworkers, sizeof *p->workers);
    p->nworkers = nworkers;
    if (p->jobs == NULL || p->done == NULL || p->threads == NULL ||
        p->workers == NULL) {
        goto fail;
    }
    /* Every worker's state before any thread starts: a worker without
     * one (out of memory) would have nothing to work with. */
    for (int i = 0; i < nworkers; i++) {
        p->workers[i].p = p;
        if (state_new != NULL &&
            (p->workers[i].state = state_new()) == NULL) {
            goto fail;
        }
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    for (int i = 0; i < nworkers; i++) {
        if (pthread_create(&p->threads[i], NULL, worker_main,
                           &p->workers[i]) != 0) {
            break;
        }
        p->nthreads++;
    }
    if (p->nthreads == 0) {
        ev_pipe_free(p);
        return NULL;
    }
    return p;
fail:
    for (int i = 0; p->workers != NULL && i < nworkers; i++) {
        if (p->workers[i].state != NULL) {
            state_free(p->workers[i].state);
        }
    }
    free(p->jobs);
    free(p->done);
    free(p->threads);
    free(p->workers);
    free(p);
    return NULL;
}

void
ev_pipe_free(ev_pipe *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) {
        pthread_join(p->threads[i], NULL);
    }
    /* states of workers that never started too */
    for (int i = 0; p->state_free != NULL && i < p->nworkers; i++) {
        p->state_free(p->workers[i].state);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    free(p->jobs);
    free(p->done);
    free(p->threads);
    free(p->workers);
    free(p);
}

void
ev_pipe_submit(ev_pipe *p, void *job, int needs_work)
{
    pthread_mutex_lock(&p->mu);
    p->jobs[p->tail % p->cap] = job;
    p->done[p->tail % p->cap] = needs_work ? 0 : 1;
    p->tail++;
    if (needs_work) {
        pthread_cond_signal(&p->work_cv);
    }
    pthread_mutex_unlock(&p->mu);
}

size_t
ev_pipe_pending(const ev_pipe *p)
{
    return (size_t)(p->tail - p->head);
}

size_t
ev_pipe_capacity(const ev_pipe *p)
{
    return p->cap;
}

void *
ev_pipe_collect(ev_pipe *p)
{
    void *job;

    pthread_mutex_lock(&p->mu);
    while (!p->done[p->head % p->cap]) {
        pthread_cond_wait(&p->done_cv, &p->mu);
    }
    job = p->jobs[p->head % p->cap];
    p->done[p->head % p->cap] = 0;
    p->head++;
    /* Markers never pass through a worker: skip those already collected,
     * so that next_work always points into [head, tail]. */
    if (p->next_work < p->head) {
        p->next_work = p->head;
    }
    pthread_mutex_unlock(&p->mu);
    return job;
}

