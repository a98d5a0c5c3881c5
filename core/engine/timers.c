#include "engine/internal.h"

#include <stdio.h>

#include "util/log.h"

/* Routing timers: per open conversation the earlier of auto-close (idle
 * for the group's close_after) and reassign (the client waited the
 * group's reassign_after without an operator reply), per operator gone
 * offline the end of its grace period. Their due times derive from stored
 * fields (last_activity, waiting_since, assigned_at, status_since), so a
 * restart rebuilds them; one treap (due, kind, id) behind one ev_timer.
 * A firing checks the state again: a stale entry does nothing. */

enum { FIRE_BUDGET = 512 };

static int64_t max3(int64_t a, int64_t b, int64_t c)
{
    int64_t m = a > b ? a : b;
    return m > c ? m : c;
}

static void due_times(const rt_conv *rc, int64_t *close_at, int64_t *re_at)
{
    const rt_group *g = rc->g;
    *close_at = *re_at = INT64_MAX;
    if (rc->state != RC_ASSIGNED || !g) return;
    /* idle since the last message, or since it reached this operator (a
     * long wait in the queue is not idleness) */
    if (g->close_after)
        *close_at = (rc->last_activity > rc->assigned_at ? rc->last_activity : rc->assigned_at) +
                    g->close_after;
    if (g->reassign_after && rc->waiting_since)
        *re_at = max3(rc->waiting_since, rc->assigned_at, rc->reassign_checked) + g->reassign_after;
}

void sb_eng_rt_conv_rearm(sb_engine *e, rt_conv *rc)
{
    sb_eng_tree_remove(&e->rt.timers, &rc->tnode);
    int64_t c, r;
    due_times(rc, &c, &r);
    int64_t due = c < r ? c : r;
    if (due == INT64_MAX) return;
    rc->tnode.k[0] = (uint64_t)(due < 0 ? 0 : due);
    rc->tnode.k[1] = TM_CONV;
    rc->tnode.k[2] = rc->id;
    sb_eng_tree_insert(&e->rt.timers, &rc->tnode);
}

void sb_eng_rt_grace_arm(sb_engine *e, rt_op *op)
{
    bool armed = op->grace.in;
    int64_t was = armed ? (int64_t)op->grace.k[0] : 0;
    sb_eng_tree_remove(&e->rt.timers, &op->grace);
    if (op->status != OP_OFFLINE || !sb_eng_tree_size(&op->convs)) return;
    int64_t due = op->status_since + (int64_t)e->opt.offline_grace_ms;
    /* a conversation given to an operator long offline still gets a grace */
    if (!armed && due < sb_eng_now()) due = sb_eng_now() + (int64_t)e->opt.offline_grace_ms;
    else if (armed && was > due) due = was;
    op->grace.k[0] = (uint64_t)due;
    op->grace.k[1] = TM_GRACE;
    op->grace.k[2] = op->id;
    sb_eng_tree_insert(&e->rt.timers, &op->grace);
}

static void conv_due(sb_engine *e, rt_conv *rc, int64_t now)
{
    int64_t close_at, re_at;
    due_times(rc, &close_at, &re_at);
    sb_eng_conv c;
    sb_status s = SB_OK;
    if (now >= close_at) {
        if ((s = sb_eng_conv_load(e, rc->id, &c)) == SB_OK) {
            s = sb_eng_rt_close(e, &c, NULL, "idle");
            sb_eng_conv_clear(&c);
        }
        if (s != SB_OK) sb_warn("engine", "auto-close failed (%d)", (int)s);
        return; /* rc is gone when it worked */
    }
    if (now >= re_at) {
        rt_op *next = sb_eng_rt_pick(e, rc->g, rc, rc->op);
        if (next && (s = sb_eng_conv_load(e, rc->id, &c)) == SB_OK) {
            char note[160];
            snprintf(note, sizeof note, "Передан другому оператору: нет ответа %lld с",
                     (long long)(rc->g->reassign_after / 1000));
            s = sb_eng_system_message(e, &c, note, false, "reassign");
            if (s == SB_OK) s = sb_eng_rt_assign(e, &c, rc, next, "reassign", NULL);
            sb_eng_conv_clear(&c);
        } else if (!next) {
            rc->reassign_checked = now; /* nobody else: look again a period later */
        }
        if (s != SB_OK) sb_warn("engine", "reassign failed (%d)", (int)s);
    }
    sb_eng_rt_conv_rearm(e, rc);
}

static void grace_due(sb_engine *e, rt_op *op)
{
    if (op->status != OP_OFFLINE) return;
    sb_status s = sb_eng_rt_release_op(e, op, false);
    if (s != SB_OK) sb_warn("engine", "requeue after the offline grace failed (%d)", (int)s);
}

static void fire(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop;
    (void)revents;
    sb_engine *e = w->data;
    e->rt.timer_at = INT64_MAX;
    int64_t now = sb_eng_now();
    for (int i = 0; i < FIRE_BUDGET; i++) {
        sb_eng_tnode *n = sb_eng_tree_first(&e->rt.timers);
        if (!n || (int64_t)n->k[0] > now) break;
        uint64_t kind = n->k[1], id = n->k[2];
        sb_eng_tree_remove(&e->rt.timers, n);
        if (kind == TM_CONV) {
            rt_conv *rc = sb_eng_rt_conv(e, id);
            if (rc) conv_due(e, rc, now);
        } else {
            rt_op *op = sb_eng_rt_op(e, id);
            if (op) grace_due(e, op);
        }
    }
    sb_eng_rt_settle(e); /* also re-arms the ev_timer */
}

void sb_eng_rt_timer_sync(sb_engine *e)
{
    sb_eng_rt *rt = &e->rt;
    if (!e->started) return;
    sb_eng_tnode *n = sb_eng_tree_first(&rt->timers);
    int64_t at = n ? (int64_t)n->k[0] : INT64_MAX;
    if (at == rt->timer_at && ev_is_active(&rt->timer)) return;
    ev_timer_stop(e->loop, &rt->timer);
    rt->timer_at = at;
    if (at == INT64_MAX) return;
    int64_t delay = at - sb_eng_now();
    ev_timer_set(&rt->timer, delay > 0 ? (double)delay / 1000.0 : 0.0, 0.0);
    ev_timer_start(e->loop, &rt->timer);
}

void sb_eng_rt_timers_init(sb_engine *e)
{
    ev_timer_init(&e->rt.timer, fire, 0.0, 0.0);
    e->rt.timer.data = e;
    e->rt.timer_at = INT64_MAX;
}
