#include "engine/internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The outbox schedule: one ev_timer at the earliest key of outbox_due; a
 * tick acts on at most DUE_BATCH due keys: PENDING entries go through the
 * rate limit to the channel, HELD ones (holding a rate slot) go to the
 * channel, SENDING ones whose deadline passed count as a transient
 * failure. Entries of a batch not yet committed are passed by. */

enum { DUE_BATCH = 256, INST_SCAN_MAX = 4096 };

/* GCRA with no burst: at most one send per 1/rate seconds. A send over
 * the rate reserves the next free slot at once, so N waiting entries are
 * each moved once, to N distinct slots, instead of all waking together. */
static int64_t take_slot(sb_eng_inst *in, int64_t now)
{
    if (in->rate <= 0) return now;
    double t = in->tat > (double)now ? in->tat : (double)now;
    in->tat = t + 1000.0 / in->rate;
    return (int64_t)ceil(t);
}

/* ---- the timer ---------------------------------------------------------- */

void sb_eng_outbox_arm(sb_engine *e, int64_t at)
{
    if (!e->started || at >= e->timer_at) return;
    int64_t now = sb_eng_now();
    ev_timer_stop(e->loop, &e->timer);
    ev_timer_set(&e->timer, at > now ? (double)(at - now) / 1000.0 : 0.0, 0.0);
    ev_timer_start(e->loop, &e->timer);
    e->timer_at = at;
}

typedef struct first_due {
    sb_engine *e;
    int64_t at;
} first_due;

static int first_cb(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    first_due *f = ud;
    if (klen != 16) return 0;
    if (sb_idmap_get(&f->e->fresh, sb_key_get_u64((const unsigned char *)key + 8), NULL))
        return 0;
    f->at = (int64_t)sb_key_get_u64(key);
    return 1;
}

/* Arms the timer at the earliest key. Entries not yet committed are
 * skipped: their commit callback arms it. */
static void arm_earliest(sb_engine *e)
{
    first_due f = {e, INT64_MAX};
    long n = sb_store_scan(e->st, TBL(e, TB_OUTBOX_DUE), NULL, 0, NULL, 0, false, DUE_BATCH,
                           first_cb, &f);
    if (n < 0) {
        sb_warn("engine", "outbox schedule unreadable (%ld); trying again in 1 s", n);
        f.at = sb_eng_now() + 1000;
    }
    if (f.at != INT64_MAX) sb_eng_outbox_arm(e, f.at);
}

/* ---- sending -------------------------------------------------------- */

static sb_status send_now(sb_engine *e, sb_eng_outbox_rec *o, sb_eng_inst *in, int64_t now)
{
    uint64_t op = sb_id_next();
    int64_t old = o->next_at;
    o->attempt++;
    o->state = SB_OB_SENDING;
    o->op = op;
    o->next_at = now + (int64_t)e->opt.send_timeout_ms; /* the deadline */
    sb_status s = sb_eng_outbox_due_move(e, old, o->next_at, o->msg_id);
    if (s == SB_OK) s = sb_eng_outbox_save(e, o);
    if (s != SB_OK) return s;
    if (!e->send)
        return sb_eng_outbox_fail(e, o, in, SB_FAIL_TRANSIENT, "no channel sender", 0, now);

    sb_eng_msg m;
    s = sb_eng_msg_load(e, o->conv_id, o->msg_id, &m);
    if (s == SB_ERR_NOT_FOUND || s == SB_ERR_IO) {
        char ids[21];
        sb_warn("engine", "outbox entry %s has no readable message; dropped",
                sb_id_str(o->msg_id, ids));
        return sb_eng_outbox_drop(e, o);
    }
    if (s != SB_OK) return s;
    if ((s = sb_idmap_put(&e->ops, op, o->msg_id)) != SB_OK) {
        sb_eng_msg_clear(&m);
        return sb_eng_outbox_fail(e, o, in, SB_FAIL_TRANSIENT, "out of memory", 0, now);
    }
    char mid[21], cid[21], clid[21];
    sb_outbound out = {
        .struct_size = sizeof out,
        .message_id = sb_id_str(o->msg_id, mid),
        .conversation_id = sb_id_str(o->conv_id, cid),
        .client_id = sb_id_str(m.client_id, clid),
        .external_id = o->external_id,
        .text = m.text,
        .buttons = m.buttons, .n_buttons = m.n_buttons,
        .attachments = m.atts, .n_attachments = m.n_atts,
        .attempt = o->attempt,
    };
    bool transient = false;
    sb_send_accept acc = e->send(e->send_ud, o->plugin, o->instance, &out, op, &transient);
    sb_eng_msg_clear(&m);
    /* The channel may have reported already, from inside send(): then the
     * op is gone and the outcome is recorded. */
    if (acc != SB_SEND_ACCEPTED && sb_idmap_del(&e->ops, op))
        s = sb_eng_outbox_fail(e, o, in, transient ? SB_FAIL_TRANSIENT : SB_FAIL_PERMANENT,
                               transient ? "channel not available" : "rejected by the channel",
                               0, sb_eng_now());
    return s;
}

/* Acts on one due key. */
static sb_status process(sb_engine *e, uint64_t msg, int64_t at, int64_t now)
{
    sb_eng_outbox_rec o;
    sb_status s = sb_eng_outbox_load(e, msg, &o);
    if (s == SB_ERR_NOT_FOUND || s == SB_ERR_IO || (s == SB_OK && o.next_at != at)) {
        /* a key left behind, or an entry that can never be read: a key
         * kept would come due again at every tick */
        sb_eng_outbox_clear(&o);
        return sb_eng_outbox_due_move(e, at, -1, msg);
    }
    if (s != SB_OK) return s;
    sb_eng_inst *in = sb_eng_outbox_inst(e, o.plugin, o.instance);
    if (!in) s = SB_ERR_NOMEM;
    else if (o.state == SB_OB_SENDING && sb_idmap_del(&e->ops, o.op))
        s = sb_eng_outbox_fail(e, &o, in, SB_FAIL_TRANSIENT,
                               "no result from the channel in time", 0, now);
    else {
        /* SENDING without an op was in flight when the process stopped:
         * it goes again, through the rate limit like a new one. */
        int64_t slot = o.state == SB_OB_HELD ? now : take_slot(in, now);
        if (slot > now) {
            o.state = SB_OB_HELD;
            o.next_at = slot;
            s = sb_eng_outbox_due_move(e, at, slot, msg);
            if (s == SB_OK) s = sb_eng_outbox_save(e, &o);
        } else {
            s = send_now(e, &o, in, now);
        }
    }
    sb_eng_outbox_clear(&o);
    return s;
}

typedef struct due_batch {
    sb_engine *e;
    size_t n;
    uint64_t msg[DUE_BATCH];
    int64_t at[DUE_BATCH];
} due_batch;

static int due_cb(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    due_batch *b = ud;
    if (klen != 16) return 0;
    uint64_t msg = sb_key_get_u64((const unsigned char *)key + 8);
    if (sb_idmap_get(&b->e->fresh, msg, NULL)) return 0; /* not committed yet */
    b->msg[b->n] = msg;
    b->at[b->n] = (int64_t)sb_key_get_u64(key);
    b->n++;
    return 0;
}

static void pump(sb_engine *e)
{
    int64_t now = sb_eng_now();
    unsigned char to[8];
    sb_key_put_u64(to, (uint64_t)now + 1);
    due_batch *b = malloc(sizeof *b);
    long n = b ? 0 : SB_ERR_NOMEM;
    if (b) {
        b->e = e;
        b->n = 0;
        n = sb_store_scan(e->st, TBL(e, TB_OUTBOX_DUE), NULL, 0, to, sizeof to, false, DUE_BATCH,
                          due_cb, b);
    }
    if (n < 0) {
        sb_warn("engine", "outbox schedule unreadable (%ld); trying again in 1 s", n);
        free(b);
        sb_eng_outbox_arm(e, now + 1000);
        return;
    }
    bool trouble = false;
    for (size_t i = 0; i < b->n; i++) {
        sb_status s = process(e, b->msg[i], b->at[i], now);
        if (s != SB_OK) {
            char ids[21];
            sb_warn("engine", "outbox entry %s: %d; trying again in 1 s", sb_id_str(b->msg[i], ids),
                    (int)s);
            trouble = true;
        }
    }
    free(b);
    /* an entry that failed is still due: re-arming at the earliest would
     * spin on it */
    if (trouble) sb_eng_outbox_arm(e, now + 1000);
    /* a full batch: the rest next iteration, after this one is committed */
    else if (n == DUE_BATCH) sb_eng_outbox_arm(e, now);
    else arm_earliest(e);
}

static void timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
    sb_engine *e = w->data;
    e->timer_at = INT64_MAX;
    pump(e);
}

static int inst_cb(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    sb_engine *e = ud;
    const char *k = key, *sep = memchr(k, '\0', klen);
    if (!sep) return 0;
    size_t pl = (size_t)(sep - k), il = klen - pl - 1;
    char plugin[SB_ENG_KEY_MAX + 1], instance[SB_ENG_KEY_MAX + 1];
    memcpy(plugin, k, pl);
    plugin[pl] = '\0';
    memcpy(instance, sep + 1, il);
    instance[il] = '\0';
    if (!sb_eng_outbox_inst(e, plugin, instance)) return 1;
    return 0;
}

void sb_eng_outbox_init(sb_engine *e)
{
    ev_timer_init(&e->timer, timer_cb, 0.0, 0.0);
    e->timer.data = e;
    e->timer_at = INT64_MAX;
}

void sb_eng_outbox_start(sb_engine *e)
{
    /* instances with entries waiting show in the stats before they send */
    long n = sb_store_scan(e->st, TBL(e, TB_OUTBOX_PENDING), NULL, 0, NULL, 0, false,
                           INST_SCAN_MAX, inst_cb, e);
    if (n < 0) sb_warn("engine", "outbox counters unreadable (%ld)", n);
    arm_earliest(e);
}

