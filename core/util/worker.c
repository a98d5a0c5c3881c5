#include "util/worker.h"

#include <ev.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

typedef struct job {
    sb_work_fn work;
    sb_work_done_fn done;
    void *ud;
    struct job *next;
} job;

struct sb_workers {
    struct ev_loop *loop;
    pthread_t threads[16];
    unsigned n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job *todo_head, *todo_tail; /* waiting for a thread */
    job *done_head;             /* finished, waiting for the loop */
    size_t queued;
    bool stop;
    ev_async wake;
};

static void push(job **head, job **tail, job *j)
{
    j->next = NULL;
    if (*tail) (*tail)->next = j;
    else *head = j;
    *tail = j;
}

static void *run(void *arg)
{
    sb_workers *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && !w->todo_head) pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop) break;
        job *j = w->todo_head;
        w->todo_head = j->next;
        if (!w->todo_head) w->todo_tail = NULL;
        pthread_mutex_unlock(&w->mu);
        j->work(j->ud);
        pthread_mutex_lock(&w->mu);
        j->next = w->done_head;
        w->done_head = j;
        ev_async_send(w->loop, &w->wake);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Finished jobs come back in reverse; order between jobs is not promised. */
static void on_wake(struct ev_loop *loop, ev_async *a, int revents)
{
    (void)loop; (void)revents;
    sb_workers *w = a->data;
    pthread_mutex_lock(&w->mu);
    job *j = w->done_head;
    w->done_head = NULL;
    pthread_mutex_unlock(&w->mu);
    while (j) {
        job *next = j->next;
        w->queued--;
        j->done(j->ud, 0);
        free(j);
        j = next;
    }
}

sb_workers *sb_workers_new(struct ev_loop *loop, unsigned n)
{
    if (n == 0 || n > 16) return NULL;
    sb_workers *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->loop = loop;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    ev_async_init(&w->wake, on_wake);
    w->wake.data = w;
    ev_async_start(loop, &w->wake);
    for (; w->n < n; w->n++)
        if (pthread_create(&w->threads[w->n], NULL, run, w) != 0) break;
    if (w->n == 0) {
        sb_workers_free(w);
        return NULL;
    }
    return w;
}

void sb_workers_free(sb_workers *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->n; i++) pthread_join(w->threads[i], NULL);
    ev_async_stop(w->loop, &w->wake);
    /* Finished jobs report normally; never-started ones as cancelled. */
    on_wake(w->loop, &w->wake, 0);
    while (w->todo_head) {
        job *j = w->todo_head;
        w->todo_head = j->next;
        j->done(j->ud, 1);
        free(j);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

sb_status sb_workers_submit(sb_workers *w, sb_work_fn work, sb_work_done_fn done, void *ud)
{
    if (!w) return SB_ERR_STATE;
    if (!work || !done) return SB_ERR_INVALID;
    if (w->queued >= SB_WORKERS_MAX_QUEUE) return SB_ERR_FULL;
    job *j = malloc(sizeof *j);
    if (!j) return SB_ERR_NOMEM;
    j->work = work;
    j->done = done;
    j->ud = ud;
    pthread_mutex_lock(&w->mu);
    push(&w->todo_head, &w->todo_tail, j);
    w->queued++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return SB_OK;
}
