#include "engine/internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The outbox's entries: enqueueing, the outcome of a send (delivered,
 * retried with backoff, failed), counters and stats. Every entry has
 * exactly one key in outbox_due, at the time something must happen to it
 * (outbox_pump.c acts on it then). Because that time is stored, backoff,
 * retry_after and rate slots survive a restart, and a send in flight at a
 * crash is made again when its deadline passes (at-least-once; the channel
 * dedups by message_id). */

static const int64_t k_max_retry_after = 7LL * 24 * 3600 * 1000;

/* ---- channel instances ---------------------------------------------- */

sb_eng_inst *sb_eng_outbox_inst(sb_engine *e, const char *plugin, const char *instance)
{
    for (size_t i = 0; i < e->n_insts; i++)
        if (strcmp(e->insts[i]->plugin, plugin) == 0 &&
            strcmp(e->insts[i]->instance, instance) == 0)
            return e->insts[i];
    sb_eng_inst **arr = realloc(e->insts, (e->n_insts + 1) * sizeof *arr);
    if (!arr) return NULL;
    e->insts = arr;
    sb_eng_inst *in = calloc(1, sizeof *in);
    if (in) {
        in->plugin = strdup(plugin);
        in->instance = strdup(instance);
    }
    if (!in || !in->plugin || !in->instance) {
        if (in) { free(in->plugin); free(in->instance); }
        free(in);
        return NULL;
    }
    e->insts[e->n_insts++] = in;
    return in;
}

static const char *iname(const char *plugin, const char *instance, char buf[160])
{
    snprintf(buf, 160, "%s/%s", plugin, instance);
    return buf;
}

/* ---- stored counters and keys ---------------------------------------- */

static sb_status pending_get(sb_engine *e, const char *plugin, const char *instance,
                             uint64_t *n)
{
    unsigned char k[SB_ENG_KEY_MAX], v[8];
    size_t klen = sb_eng_key_join(k, sizeof k, plugin, instance, NULL), vlen;
    *n = 0;
    sb_status s = sb_store_get(e->st, TBL(e, TB_OUTBOX_PENDING), k, klen, v, sizeof v, &vlen);
    if (s == SB_OK && vlen == 8) *n = sb_key_get_u64(v);
    return s == SB_ERR_NOT_FOUND ? SB_OK : s;
}

static sb_status pending_add(sb_engine *e, const char *plugin, const char *instance, int delta)
{
    unsigned char k[SB_ENG_KEY_MAX], v[8];
    size_t klen = sb_eng_key_join(k, sizeof k, plugin, instance, NULL);
    uint64_t n;
    sb_status s = pending_get(e, plugin, instance, &n);
    if (s != SB_OK) return s;
    n = delta > 0 ? n + 1 : n ? n - 1 : 0;
    /* zero rows go, so that start-up reads only instances with work */
    if (!n) {
        s = sb_store_del(e->st, TBL(e, TB_OUTBOX_PENDING), k, klen);
        return s == SB_ERR_NOT_FOUND ? SB_OK : s;
    }
    sb_key_put_u64(v, n);
    return sb_store_put(e->st, TBL(e, TB_OUTBOX_PENDING), k, klen, v, sizeof v);
}

static void due_key(unsigned char k[16], int64_t at, uint64_t msg)
{
    sb_key_put_u64(k, (uint64_t)at);
    sb_key_put_u64(k + 8, msg);
}

/* Moves an entry's schedule key from `from` (< 0: none yet) to `to`. */
sb_status sb_eng_outbox_due_move(sb_engine *e, int64_t from, int64_t to, uint64_t msg)
{
    unsigned char k[16];
    sb_status s;
    if (from >= 0) {
        due_key(k, from, msg);
        s = sb_store_del(e->st, TBL(e, TB_OUTBOX_DUE), k, sizeof k);
        if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
    }
    if (to < 0) return SB_OK;
    due_key(k, to, msg);
    return sb_store_put(e->st, TBL(e, TB_OUTBOX_DUE), k, sizeof k, "", 0);
}

/* ---- outcomes ----------------------------------------------------------- */

/* Removes the entry: record, schedule key, pending count. */
sb_status sb_eng_outbox_drop(sb_engine *e, const sb_eng_outbox_rec *o)
{
    unsigned char k[8];
    sb_key_put_u64(k, o->msg_id);
    sb_status s = sb_store_del(e->st, TBL(e, TB_OUTBOX), k, sizeof k);
    if (s == SB_OK || s == SB_ERR_NOT_FOUND)
        s = sb_eng_outbox_due_move(e, o->next_at, -1, o->msg_id);
    if (s == SB_OK) s = pending_add(e, o->plugin, o->instance, -1);
    return s;
}

/* Final delivery state on the message, message.updated, entry removed. */
static sb_status finish(sb_engine *e, const sb_eng_outbox_rec *o, const char *status,
                        const char *error, const char *remote_id, int64_t now,
                        uint64_t *client_id)
{
    sb_eng_msg m;
    sb_status s = sb_eng_msg_load(e, o->conv_id, o->msg_id, &m);
    if (s == SB_OK) {
        m.delivery_status = status;
        m.delivery_error = error;
        if (remote_id) m.remote_id = remote_id;
        if (strcmp(status, "sent") == 0) m.sent_at = now;
        s = sb_eng_msg_save(e, &m);
        if (s == SB_OK) s = sb_eng_emit_message(e, "message.updated", &m);
        *client_id = m.client_id;
        sb_eng_msg_clear(&m);
    } else if (s == SB_ERR_NOT_FOUND || s == SB_ERR_IO) {
        /* nothing to record the outcome on; keeping the entry would only
         * fail again at every tick */
        char ids[21];
        sb_warn("engine", "outbox entry %s has no readable message; dropped",
                sb_id_str(o->msg_id, ids));
        *client_id = 0;
        s = SB_OK;
    }
    return s == SB_OK ? sb_eng_outbox_drop(e, o) : s;
}

static uint64_t backoff(sb_engine *e, uint32_t attempt)
{
    int doublings = attempt <= 1 ? 0 : attempt < 64 ? (int)attempt - 1 : 63;
    double b = (double)e->opt.retry_base_ms * ldexp(1.0, doublings);
    if (b > (double)e->opt.retry_max_ms) b = (double)e->opt.retry_max_ms;
    b *= 0.8 + 0.4 * sb_eng_random(e); /* +-20%: retries of many do not march in step */
    return b < 1.0 ? 1 : (uint64_t)b;
}

sb_status sb_eng_outbox_fail(sb_engine *e, sb_eng_outbox_rec *o, sb_eng_inst *in,
                             sb_eng_fail_kind kind, const char *error, uint64_t retry_after,
                             int64_t now)
{
    char name[160];
    iname(o->plugin, o->instance, name);
    if (kind == SB_FAIL_TRANSIENT && o->attempt < e->opt.max_attempts) {
        uint64_t delay = backoff(e, o->attempt);
        if (retry_after > delay) delay = retry_after;
        if (delay > (uint64_t)k_max_retry_after) delay = (uint64_t)k_max_retry_after;
        int64_t old = o->next_at;
        o->state = SB_OB_PENDING;
        o->op = 0;
        o->last_error = error;
        o->next_at = now + (int64_t)delay;
        sb_status s = sb_eng_outbox_due_move(e, old, o->next_at, o->msg_id);
        if (s == SB_OK) s = sb_eng_outbox_save(e, o);
        if (s != SB_OK) return s;
        in->retries++;
        sb_log(SB_LOG_DEBUG, "engine", name,
               "send of %llu: attempt %u failed (%s); next in %llu ms",
               (unsigned long long)o->msg_id, o->attempt, error, (unsigned long long)delay);
        sb_eng_outbox_arm(e, o->next_at);
        return SB_OK;
    }
    char buf[700];
    if (kind == SB_FAIL_TRANSIENT) {
        snprintf(buf, sizeof buf, "gave up after %u attempts: %s", o->attempt, error);
        error = buf;
    }
    in->failures++;
    sb_log(SB_LOG_INFO, "engine", name, "send of %llu failed: %s", (unsigned long long)o->msg_id,
           error);
    uint64_t client_id;
    sb_status s = finish(e, o, "failed", error, NULL, now, &client_id);
    if (s == SB_OK && kind == SB_FAIL_UNREACHABLE && client_id) {
        s = sb_eng_client_set_unreachable(e, client_id, o->plugin, o->instance, o->external_id);
        if (s == SB_ERR_NOT_FOUND) s = SB_OK;
    }
    return s;
}

/* ---- the engine's side ---------------------------------------------- */

typedef struct kick {
    sb_eng_later later;
    uint64_t msg;
} kick;

static void kick_run(sb_engine *e, sb_eng_later *l, sb_status st)
{
    kick *k = (kick *)l;
    if (e) {
        sb_idmap_del(&e->fresh, k->msg);
        if (st == SB_OK) sb_eng_outbox_arm(e, sb_eng_now());
    }
    free(k);
}

sb_status sb_eng_outbox_enqueue(sb_engine *e, const sb_eng_msg *m, const char *external_id)
{
    if (!sb_eng_outbox_inst(e, m->plugin, m->instance)) return SB_ERR_NOMEM;
    kick *k = calloc(1, sizeof *k);
    if (!k) return SB_ERR_NOMEM;
    k->msg = m->id;
    sb_eng_outbox_rec o = {
        .msg_id = m->id, .conv_id = m->conv_id,
        .plugin = m->plugin, .instance = m->instance, .external_id = external_id,
        .next_at = m->created_at, .state = SB_OB_PENDING, .created_at = m->created_at,
    };
    /* Nothing is handed to a channel before the entry is durable: until
     * its batch commits the entry is "fresh" and the pump passes it by. */
    sb_status s = sb_eng_outbox_save(e, &o);
    if (s == SB_OK) s = sb_eng_outbox_due_move(e, -1, o.next_at, o.msg_id);
    if (s == SB_OK) s = pending_add(e, o.plugin, o.instance, +1);
    if (s == SB_OK) s = sb_idmap_put(&e->fresh, o.msg_id, 1);
    if (s == SB_OK && (s = sb_eng_after_commit(e, &k->later, kick_run)) != SB_OK)
        sb_idmap_del(&e->fresh, o.msg_id);
    if (s != SB_OK) free(k);
    return s;
}

sb_status sb_engine_send_result(sb_engine *e, uint64_t op, sb_send_status status,
                                const char *remote_id, uint64_t retry_after_ms, const char *error)
{
    if (!e) return SB_ERR_INVALID;
    uint64_t msg;
    if (!sb_idmap_get(&e->ops, op, &msg)) return SB_ERR_HANDLE;
    if ((int)status < (int)SB_SENT || (int)status > (int)SB_SEND_UNREACHABLE) return SB_ERR_INVALID;
    sb_idmap_del(&e->ops, op);
    sb_eng_outbox_rec o;
    sb_status s = sb_eng_outbox_load(e, msg, &o);
    if (s == SB_OK && (o.state != SB_OB_SENDING || o.op != op)) s = SB_ERR_HANDLE;
    sb_eng_inst *in = s == SB_OK ? sb_eng_outbox_inst(e, o.plugin, o.instance) : NULL;
    if (s == SB_OK && !in) s = SB_ERR_NOMEM;
    if (s != SB_OK) {
        sb_eng_outbox_clear(&o);
        return s == SB_ERR_NOT_FOUND ? SB_ERR_HANDLE : s;
    }
    /* the channel's text goes into JSON later: make it valid UTF-8 now */
    char *rid = sb_eng_sanitize(remote_id, SB_ENG_MAX_REF), *err = sb_eng_sanitize(error, 512);
    int64_t now = sb_eng_now();
    uint64_t client_id;
    switch (status) {
    case SB_SENT:
        in->sent++;
        s = finish(e, &o, "sent", NULL, rid, now, &client_id);
        break;
    case SB_SEND_RETRY:
        s = sb_eng_outbox_fail(e, &o, in, SB_FAIL_TRANSIENT,
                               err ? err : "the channel asked to retry", retry_after_ms, now);
        break;
    case SB_SEND_FAILED:
        s = sb_eng_outbox_fail(e, &o, in, SB_FAIL_PERMANENT,
                               err ? err : "the channel could not send it", 0, now);
        break;
    default:
        s = sb_eng_outbox_fail(e, &o, in, SB_FAIL_UNREACHABLE,
                               err ? err : "the client is unreachable in this channel", 0, now);
        break;
    }
    free(rid);
    free(err);
    sb_eng_outbox_clear(&o);
    return s;
}

void sb_engine_set_sender(sb_engine *e, sb_channel_send_fn fn, void *ud)
{
    if (!e) return;
    e->send = fn;
    e->send_ud = ud;
}

void sb_engine_set_rate(sb_engine *e, const char *plugin, const char *instance, double per_second)
{
    if (!e || !plugin || !instance) return;
    sb_eng_inst *in = sb_eng_outbox_inst(e, plugin, instance);
    if (!in) {
        sb_error("engine", "no memory for the rate limit of %s/%s", plugin, instance);
        return;
    }
    in->rate = per_second > 0 && isfinite(per_second) ? per_second : 0;
}

void sb_engine_outbox_stats(sb_engine *e, void (*cb)(void *ud, const sb_outbox_stats *s), void *ud)
{
    if (!e || !cb) return;
    for (size_t i = 0; i < e->n_insts; i++) {
        sb_eng_inst *in = e->insts[i];
        sb_outbox_stats s = {.plugin = in->plugin, .instance = in->instance, .sent = in->sent,
                             .retries = in->retries, .failures = in->failures};
        if (pending_get(e, in->plugin, in->instance, &s.pending) != SB_OK) s.pending = 0;
        cb(ud, &s);
    }
}

void sb_eng_outbox_free(sb_engine *e)
{
    ev_timer_stop(e->loop, &e->timer);
    for (size_t i = 0; i < e->n_insts; i++) {
        free(e->insts[i]->plugin);
        free(e->insts[i]->instance);
        free(e->insts[i]);
    }
    free(e->insts);
    e->insts = NULL;
    e->n_insts = 0;
    sb_idmap_free(&e->ops);
    sb_idmap_free(&e->fresh);
}
