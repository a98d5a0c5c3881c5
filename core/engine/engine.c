#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static const char *const k_tables[TB_COUNT] = {
    [TB_CLIENTS] = "clients",
    [TB_IDENTITIES] = "identities",
    [TB_CONVERSATIONS] = "conversations",
    [TB_MESSAGES] = "messages",
    [TB_CLIENT_MSGS] = "client_msgs",
    [TB_MSG_INDEX] = "msg_index",
    [TB_MSG_EXT] = "msg_ext",
    [TB_OUTBOX] = "outbox",
    [TB_OUTBOX_DUE] = "outbox_due",
    [TB_OUTBOX_PENDING] = "outbox_pending",
    [TB_OPERATORS] = "operators",
    [TB_OP_LOGINS] = "op_logins",
    [TB_GROUPS] = "groups",
    [TB_GROUP_STATS] = "group_stats",
    [TB_TEMPLATES] = "templates",
    [TB_CONV_IDX] = "conv_idx",
    [TB_CLIENT_SEARCH] = "client_search",
    [TB_AUDIT] = "audit",
    [TB_AUDIT_CLIENT] = "audit_client",
};

enum { DEDUP_EXPIRE_BATCH = 1024 };
#define DAY_MS (24LL * 3600 * 1000)

const char *const *sb_engine_table_names(size_t *n)
{
    *n = TB_COUNT;
    return k_tables;
}

int64_t sb_eng_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double sb_eng_random(sb_engine *e)
{
    /* xorshift64*: jitter only needs to spread retries, not secrecy */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return (double)((e->rng * UINT64_C(2685821657736338717)) >> 11) / 9007199254740992.0;
}

/* ---- commit callbacks -------------------------------------------------
 * Every callback the engine registers with the store is on one list, so
 * that sb_engine_free can detach them: they still run (an inbound `done`
 * must), but see a NULL engine. */

static void on_commit(void *ud, sb_status st)
{
    sb_eng_later *l = ud;
    if (l->e) {
        l->prev->next = l->next;
        l->next->prev = l->prev;
    }
    l->run(l->e, l, st);
}

sb_status sb_eng_after_commit(sb_engine *e, sb_eng_later *l, sb_eng_later_fn run)
{
    l->e = e;
    l->run = run;
    l->next = &e->later;
    l->prev = e->later.prev;
    l->prev->next = l;
    e->later.prev = l;
    sb_status s = sb_store_on_commit(e->st, on_commit, l);
    if (s != SB_OK) {
        l->prev->next = l->next;
        l->next->prev = l->prev;
    }
    return s;
}

/* ---- dedup expiry ------------------------------------------------------ */

static void maint_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    sb_engine *e = w->data;
    long n = sb_store_dedup_expire(e->st, sb_eng_now(), DEDUP_EXPIRE_BATCH);
    if (n < 0) sb_warn("engine", "dedup expiry failed (%ld)", n);
    /* a full batch means more are waiting: come back soon, not in a minute */
    w->repeat = n == DEDUP_EXPIRE_BATCH ? 1.0 : 60.0;
    ev_timer_again(loop, w);
}

/* ---- life cycle ------------------------------------------------------- */

sb_engine *sb_engine_new(struct ev_loop *loop, sb_store *st, sb_table first_table,
                         const sb_engine_options *opt)
{
    if (!loop || !st) return NULL;
    sb_engine *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->loop = loop;
    e->st = st;
    e->first = first_table;
    if (opt) e->opt = *opt;
    sb_engine_options *o = &e->opt;
    if (o->dedup_ttl_ms <= 0) o->dedup_ttl_ms = 7 * DAY_MS;
    if (o->dedup_ttl_ms > 3650 * DAY_MS) o->dedup_ttl_ms = 3650 * DAY_MS;
    if (!o->retry_base_ms) o->retry_base_ms = 1000;
    if (!o->retry_max_ms) o->retry_max_ms = 300000;
    /* times are added to "now" in int64 ms: keep every sum far from overflow */
    if (o->retry_max_ms > 7 * DAY_MS) o->retry_max_ms = 7 * DAY_MS;
    if (o->retry_base_ms > o->retry_max_ms) o->retry_base_ms = o->retry_max_ms;
    if (!o->max_attempts) o->max_attempts = 20;
    if (!o->max_text) o->max_text = 64 * 1024;
    if (!o->rating_text) o->rating_text = "Пожалуйста, оцените разговор от 1 до 5";
    if (!o->send_timeout_ms) o->send_timeout_ms = 60000;
    if (o->send_timeout_ms > 7 * DAY_MS) o->send_timeout_ms = 7 * DAY_MS;
    sb_rec_writer_init(&e->w);
    sb_rec_writer_init(&e->wl);
    e->later.next = e->later.prev = &e->later;
    sb_eng_outbox_init(e);
    ev_timer_init(&e->maint, maint_cb, 60.0, 60.0);
    e->maint.data = e;
    e->rng = (uint64_t)sb_eng_now() * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)getpid();
    if (!e->rng) e->rng = 1;
    sb_status s = sb_eng_rt_init(e);
    if (s != SB_OK) {
        sb_error("engine", "routing state not rebuilt from the store (%d)", (int)s);
        sb_engine_free(e);
        return NULL;
    }
    return e;
}

void sb_engine_start(sb_engine *e)
{
    if (!e || e->started) return;
    e->started = true;
    ev_timer_start(e->loop, &e->maint);
    sb_eng_outbox_start(e);
    sb_eng_rt_start(e);
}

void sb_engine_free(sb_engine *e)
{
    if (!e) return;
    ev_timer_stop(e->loop, &e->maint);
    sb_eng_rt_free(e);
    sb_eng_outbox_free(e);
    for (sb_eng_later *l = e->later.next; l != &e->later; l = l->next) l->e = NULL;
    sb_eng_subs_free(e);
    sb_rec_writer_free(&e->w);
    sb_rec_writer_free(&e->wl);
    free(e);
}
