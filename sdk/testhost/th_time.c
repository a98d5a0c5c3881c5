/* Test host: the fake clock and timers. */
#include <stdlib.h>

#include "th_internal.h"

#define MAX_FIRES 1000000 /* per advance: ends a 0 ms repeat loop */

typedef struct timer {
    uint64_t id;
    int64_t due;
    uint64_t repeat;
    sb_timer_cb cb;
    void *ud;
    int dead; /* stopped; freed by the next sweep */
} timer;

/* Frees stopped timers. Only called while no timer pointer is held. */
static void sweep(sb_th *th)
{
    for (size_t i = 0; i < th->timers.n;) {
        timer *t = th->timers.v[i];
        if (t->dead) {
            free(t);
            sb_thi_remove(&th->timers, i);
        } else {
            i++;
        }
    }
}

static int64_t h_now_ms(sb_ctx *ctx)
{
    sb_th *th = sb_thi_enter(ctx, "now_ms");
    return th ? th->now : 0;
}

static uint64_t h_timer_start(sb_ctx *ctx, uint64_t after_ms, uint64_t repeat_ms,
                              sb_timer_cb cb, void *ud)
{
    sb_th *th = sb_thi_enter(ctx, "timer_start");
    if (!th || !cb || sb_thi_fault(th, "timer_start") != SB_OK) return 0;
    timer *t = sb_thi_alloc(sizeof *t);
    t->id = ++th->next_timer_id;
    t->due = th->now + (int64_t)after_ms;
    t->repeat = repeat_ms;
    t->cb = cb;
    t->ud = ud;
    sb_thi_push(&th->timers, t);
    return t->id;
}

static void h_timer_stop(sb_ctx *ctx, uint64_t id)
{
    sb_th *th = sb_thi_enter(ctx, "timer_stop");
    if (!th) return;
    for (size_t i = 0; i < th->timers.n; i++) {
        timer *t = th->timers.v[i];
        if (t->id == id) t->dead = 1;
    }
}

size_t sb_th_advance(sb_th *th, uint64_t ms)
{
    int64_t target = th->now + (int64_t)ms;
    size_t fired = 0;
    while (fired < MAX_FIRES) {
        sweep(th);
        timer *next = NULL;
        for (size_t i = 0; i < th->timers.n; i++) {
            timer *t = th->timers.v[i];
            /* ids grow with creation, so ties go to the older timer */
            if (t->due <= target &&
                (!next || t->due < next->due ||
                 (t->due == next->due && t->id < next->id)))
                next = t;
        }
        if (!next) break;
        if (next->due > th->now) th->now = next->due;
        uint64_t id = next->id;
        sb_timer_cb cb = next->cb;
        void *ud = next->ud;
        if (next->repeat) next->due += (int64_t)next->repeat;
        else next->dead = 1;
        cb(ud, id); /* may start or stop timers: `next` is not used after */
        fired++;
    }
    if (fired == MAX_FIRES)
        sb_thi_log(th, SB_LOG_ERROR, "testhost: advance: %d timers fired, "
                                     "stopping (0 ms repeat?)", MAX_FIRES);
    if (target > th->now) th->now = target;
    return fired;
}

size_t sb_th_timer_count(sb_th *th)
{
    sweep(th);
    return th->timers.n;
}

int64_t sb_th_now(const sb_th *th) { return th->now; }
void sb_th_set_now(sb_th *th, int64_t ms) { th->now = ms; }

void sb_thi_time_drop(sb_th *th)
{
    for (size_t i = 0; i < th->timers.n; i++) free(th->timers.v[i]);
    th->timers.n = 0;
}

void sb_thi_time_fill(sb_host *h)
{
    h->now_ms = h_now_ms;
    h->timer_start = h_timer_start;
    h->timer_stop = h_timer_stop;
}
