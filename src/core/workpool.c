/* SPDX-License-Identifier: AGPL-3.0-or-later */
/*
 * Work pool: a mutex, a condition variable and a singly linked FIFO. Jobs are few and slow
 * (password hashes), so nothing cleverer is needed; the queue bound turns a flood of sign-in
 * attempts into quick 503s instead of unbounded memory and latency.
 */
#include "core/workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/alloc.h"

struct job {
    struct job *next;
    workpool_fn *fn;
    void *arg;
};

struct workpool {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    struct job *head, *tail;
    size_t queued, queue_max;
    bool stopping;
    unsigned nthreads;
    pthread_t *threads;
};

static void *worker(void *arg)
{
    struct workpool *p = arg;

    for (;;) {
        struct job *j;

        pthread_mutex_lock(&p->mu);
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cond, &p->mu);
        j = p->head;
        if (!j) {
            pthread_mutex_unlock(&p->mu);
            return NULL; /* stopping and drained */
        }
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        j->fn(j->arg);
        free(j);
    }
}

struct workpool *workpool_new(unsigned threads, size_t queue_max)
{
    struct workpool *p = xcalloc(1, sizeof(*p));

    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    p->queue_max = queue_max ? queue_max : 1;
    p->threads = xcalloc(threads ? threads : 1, sizeof(*p->threads));
    for (unsigned i = 0; i < (threads ? threads : 1); i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            workpool_free(p);
            return NULL;
        }
        p->nthreads++;
    }
    return p;
}

int workpool_submit(struct workpool *p, workpool_fn *fn, void *arg)
{
    struct job *j;
    int err = 0;

    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        err = -ESHUTDOWN;
        goto out;
    }
    if (p->queued >= p->queue_max) {
        err = -ENOBUFS;
        goto out;
    }
    j = xcalloc(1, sizeof(*j));
    j->fn = fn;
    j->arg = arg;
    if (p->tail) {
        p->tail->next = j;
    } else {
        p->head = j;
    }
    p->tail = j;
    p->queued++;
    pthread_cond_signal(&p->cond);
out:
    pthread_mutex_unlock(&p->mu);
    return err;
}

void workpool_free(struct workpool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stopping = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}
