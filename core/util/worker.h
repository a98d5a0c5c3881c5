/* A small pool of worker threads for work that must not run on the loop
 * (password hashing, large file reads). Jobs run in a worker; their `done`
 * runs back on the loop thread.
 *
 * Thread: sb_worker_* are called on the loop thread; `work` runs on a
 * worker thread and must touch only what its ud owns. */
#ifndef SB_WORKER_H
#define SB_WORKER_H

#include <stddef.h>
#include <switchboard/plugin.h>

struct ev_loop;
typedef struct sb_workers sb_workers;

/* n threads (1..16). NULL on failure. */
sb_workers *sb_workers_new(struct ev_loop *loop, unsigned n);
/* Waits for running jobs, runs no further `work`, calls every pending
 * `done` with cancelled = 1, joins the threads and frees. */
void sb_workers_free(sb_workers *w);

typedef void (*sb_work_fn)(void *ud);
typedef void (*sb_work_done_fn)(void *ud, int cancelled);
/* Queues a job (SB_ERR_STATE when w is NULL: the pool is gone); SB_ERR_FULL past `max_queue` waiting jobs (a bound, so a
 * flood of logins cannot grow memory without limit). done always runs
 * exactly once unless this returns an error. */
sb_status sb_workers_submit(sb_workers *w, sb_work_fn work, sb_work_done_fn done, void *ud);
#define SB_WORKERS_MAX_QUEUE 1024
#endif
