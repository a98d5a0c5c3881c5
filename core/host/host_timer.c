/* Plugin timers (ev_timer per timer, listed per instance so stop() can
 * cancel them all) and post(): the one host function any thread may call. */
#include <stdlib.h>

#include "host/host_internal.h"
#include "util/log.h"

struct sb_post {
    sb_ctx *ctx;
    sb_post_cb cb;
    void *ud;
    struct sb_post *next;
};

static void timer_unlink_free(sb_timer_rec *t)
{
    sb_timer_rec **pp = &t->inst->timers;
    while (*pp && *pp != t) pp = &(*pp)->next;
    if (*pp) *pp = t->next;
    ev_timer_stop(t->inst->host->d.loop, &t->w);
    free(t);
}

static void timer_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop; (void)revents;
    sb_timer_rec *t = (sb_timer_rec *)w;
    /* A callback may stop its own timer: mark, and free after it returns. */
    t->firing = true;
    SB_PLUGIN_CALL(t->inst, "timer", t->cb(t->ud, t->id));
    t->firing = false;
    if (t->cancelled || t->w.repeat == 0.) timer_unlink_free(t);
}

uint64_t sb_h_timer_start(sb_ctx *ctx, uint64_t after_ms, uint64_t repeat_ms,
                          sb_timer_cb cb, void *ud)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in || !cb || in->state == SB_INST_STOPPED || in->state == SB_INST_FAILED) return 0;
    sb_timer_rec *t = calloc(1, sizeof *t);
    if (!t) return 0;
    t->id = ++in->host->next_timer_id;
    t->cb = cb;
    t->ud = ud;
    t->inst = in;
    ev_timer_init(&t->w, timer_fire, (double)after_ms / 1000.0, (double)repeat_ms / 1000.0);
    ev_timer_start(in->host->d.loop, &t->w);
    t->next = in->timers;
    in->timers = t;
    return t->id;
}

void sb_h_timer_stop(sb_ctx *ctx, uint64_t id)
{
    sb_inst *in = sb_ctx_inst(ctx);
    if (!in) return;
    for (sb_timer_rec *t = in->timers; t; t = t->next) {
        if (t->id != id) continue;
        if (t->firing) {
            t->cancelled = true;
            ev_timer_stop(in->host->d.loop, &t->w);
        } else {
            timer_unlink_free(t);
        }
        return;
    }
}

void sb_timers_release(sb_inst *in)
{
    while (in->timers) {
        sb_timer_rec *t = in->timers;
        in->timers = t->next;
        ev_timer_stop(in->host->d.loop, &t->w);
        free(t);
    }
}

/* ---- post() -------------------------------------------------------------- */

static void post_drain(struct ev_loop *loop, ev_async *w, int revents)
{
    (void)loop; (void)revents;
    sb_plugins *p = w->data;
    pthread_mutex_lock(&p->post_mu);
    struct sb_post *q = p->post_head;
    p->post_head = p->post_tail = NULL;
    pthread_mutex_unlock(&p->post_mu);
    while (q) {
        struct sb_post *next = q->next;
        sb_inst *in = sb_ctx_inst(q->ctx);
        /* A stopped instance gets no more callbacks (plugin.h contract). */
        if (in && atomic_load(&q->ctx->accepting_posts)) SB_PLUGIN_CALL(in, "post", q->cb(q->ud));
        free(q);
        q = next;
    }
}

sb_status sb_h_post(sb_ctx *ctx, sb_post_cb cb, void *ud)
{
    /* Any thread: only the ctx, which is never freed, is read here. */
    if (!ctx || !cb) return SB_ERR_HANDLE;
    if (!atomic_load(&ctx->accepting_posts)) return SB_ERR_STATE;
    struct sb_post *e = malloc(sizeof *e);
    if (!e) return SB_ERR_NOMEM;
    e->ctx = ctx;
    e->cb = cb;
    e->ud = ud;
    e->next = NULL;
    sb_plugins *p = ctx->host;
    pthread_mutex_lock(&p->post_mu);
    if (p->post_tail) p->post_tail->next = e;
    else p->post_head = e;
    p->post_tail = e;
    pthread_mutex_unlock(&p->post_mu);
    ev_async_send(p->d.loop, &p->post_async);
    return SB_OK;
}

void sb_post_init(sb_plugins *p)
{
    pthread_mutex_init(&p->post_mu, NULL);
    ev_async_init(&p->post_async, post_drain);
    p->post_async.data = p;
    ev_async_start(p->d.loop, &p->post_async);
}

void sb_post_fini(sb_plugins *p)
{
    ev_async_stop(p->d.loop, &p->post_async);
    while (p->post_head) {
        struct sb_post *e = p->post_head;
        p->post_head = e->next;
        free(e);
    }
    pthread_mutex_destroy(&p->post_mu);
}
