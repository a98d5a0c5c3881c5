#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The routing state and its moves: rebuild at start, track open
 * conversations, route, assign, queue, release, close, and the work list
 * that every public call settles before it returns (drains and
 * queue.stats), so a chain of effects never recurses. */

enum { LOOKAHEAD = 8 };

rt_op *sb_eng_rt_op(sb_engine *e, uint64_t id)
{
    uint64_t v;
    return sb_idmap_get(&e->rt.ops, id, &v) ? (rt_op *)(uintptr_t)v : NULL;
}

rt_conv *sb_eng_rt_conv(sb_engine *e, uint64_t id)
{
    uint64_t v;
    return sb_idmap_get(&e->rt.convs, id, &v) ? (rt_conv *)(uintptr_t)v : NULL;
}

static int state_of(const char *status)
{
    if (!status) return -1;
    if (strcmp(status, "queued") == 0) return RC_QUEUED;
    if (strcmp(status, "assigned") == 0) return RC_ASSIGNED;
    if (strcmp(status, "bot") == 0) return RC_BOT;
    return -1;
}

static const char *status_name(int st)
{
    return st == RC_QUEUED ? "queued" : st == RC_ASSIGNED ? "assigned" : "bot";
}

/* The conversation's own skill requirement: attributes skill/skill_level. */
static sb_status conv_skill(rt_conv *rc, const sb_eng_conv *c)
{
    free(rc->skill);
    rc->skill = NULL;
    rc->skill_level = 0;
    for (size_t i = 0; i < c->n_attrs; i++) {
        if (!c->attr_vals[i]) continue;
        if (strcmp(c->attr_keys[i], "skill") == 0 && *c->attr_vals[i]) {
            if (!(rc->skill = strdup(c->attr_vals[i]))) return SB_ERR_NOMEM;
        } else if (strcmp(c->attr_keys[i], "skill_level") == 0) {
            const char *v = c->attr_vals[i];
            int l = atoi(v[0] == SB_ENG_TYPED ? v + 1 : v);
            rc->skill_level = l < 0 ? 0 : l >= RT_LEVELS ? RT_LEVELS - 1 : l;
        }
    }
    return SB_OK;
}

sb_status sb_eng_rt_conv_skill(sb_engine *e, rt_conv *rc, const sb_eng_conv *c)
{
    (void)e;
    return conv_skill(rc, c);
}

/* ---- tracking ------------------------------------------------------------ */

sb_status sb_eng_rt_conv_track(sb_engine *e, const sb_eng_conv *c, rt_conv **out)
{
    int st = state_of(c->status);
    if (st < 0) return SB_ERR_STATE;
    rt_conv *rc = sb_eng_rt_conv(e, c->id);
    if (rc) {
        *out = rc;
        return SB_OK;
    }
    rc = calloc(1, sizeof *rc);
    if (!rc) return SB_ERR_NOMEM;
    rc->id = c->id;
    rc->client_id = c->client_id;
    rc->state = st;
    rc->op = st == RC_ASSIGNED ? c->operator_id : 0;
    rc->target_op = st == RC_QUEUED ? c->target_op : 0;
    rc->prio = (int)(c->priority < 0 ? 0 : c->priority > 9 ? 9 : c->priority);
    rc->created_at = c->created_at;
    rc->queued_at = c->queued_at ? c->queued_at : c->created_at;
    rc->assigned_at = c->assigned_at;
    rc->waiting_since = c->waiting_since;
    rc->last_activity = c->last_activity ? c->last_activity : c->created_at;
    rc->notified_pos = c->notified_pos > UINT32_MAX ? UINT32_MAX : (uint32_t)c->notified_pos;
    if ((c->group && !(rc->group_id = strdup(c->group))) || conv_skill(rc, c) != SB_OK ||
        sb_idmap_put(&e->rt.convs, rc->id, (uint64_t)(uintptr_t)rc) != SB_OK) {
        free(rc->group_id);
        free(rc->skill);
        free(rc);
        return SB_ERR_NOMEM;
    }
    rc->g = sb_eng_rt_group(e, rc->group_id);
    if (rc->g) rc->g->open++;
    if (st == RC_QUEUED) {
        sb_eng_rt_queue_key(rc);
        sb_eng_tree *t = sb_eng_rt_queue_of(e, rc);
        if (t) sb_eng_tree_insert(t, &rc->qnode);
        if (rc->g && !rc->target_op) sb_eng_rt_touch(e, rc->g, false);
    } else if (st == RC_ASSIGNED) {
        rt_op *op = sb_eng_rt_op(e, rc->op);
        if (op) {
            rc->onode.k[0] = rc->id;
            sb_eng_tree_insert(&op->convs, &rc->onode);
            op->load++;
            sb_eng_rt_reindex_op(e, op);
        }
    }
    *out = rc;
    return SB_OK;
}

sb_status sb_eng_rt_set_group(rt_conv *rc, rt_group *g)
{
    if (rc->g && rc->g->open) rc->g->open--;
    rc->g = g;
    g->open++;
    return sb_eng_set_str(&rc->group_id, g->id);
}

sb_status sb_eng_rt_detach(sb_engine *e, rt_conv *rc)
{
    sb_status s = SB_OK;
    if (rc->qnode.in) s = sb_eng_rt_dequeue(e, rc);
    if (rc->onode.in) {
        rt_op *op = sb_eng_rt_op(e, rc->op);
        if (op) {
            sb_eng_tree_remove(&op->convs, &rc->onode);
            if (op->load) op->load--;
            sb_eng_rt_reindex_op(e, op);
            sb_eng_rt_grace_arm(e, op);
            sb_eng_rt_kick_op(e, op);
        }
        rc->onode.in = false;
    }
    return s;
}

void sb_eng_rt_conv_forget(sb_engine *e, rt_conv *rc)
{
    sb_status s = sb_eng_rt_detach(e, rc);
    if (s != SB_OK) sb_warn("engine", "queue positions not announced (%d)", (int)s);
    sb_eng_tree_remove(&e->rt.timers, &rc->tnode);
    if (rc->g && rc->g->open) rc->g->open--;
    sb_idmap_del(&e->rt.convs, rc->id);
    free(rc->group_id);
    free(rc->skill);
    free(rc);
}

void sb_eng_rt_to_record(const rt_conv *rc, sb_eng_conv *c)
{
    c->status = status_name(rc->state);
    c->operator_id = rc->state == RC_ASSIGNED ? rc->op : 0;
    c->target_op = rc->target_op;
    c->priority = rc->prio;
    c->queued_at = rc->queued_at;
    c->assigned_at = rc->state == RC_ASSIGNED ? rc->assigned_at : c->assigned_at;
    c->waiting_since = rc->waiting_since;
    c->last_activity = rc->last_activity;
    c->notified_pos = rc->notified_pos;
    if (rc->group_id && (!c->group || strcmp(c->group, rc->group_id) != 0))
        c->group = sb_eng_strndup(&c->arena, rc->group_id, strlen(rc->group_id));
    else if (!rc->group_id)
        c->group = NULL;
}

static bool is_member(const rt_op *op, const rt_group *g)
{
    for (size_t i = 0; g && i < op->n_mem; i++)
        if (op->mem[i].g == g) return true;
    return false;
}

/* ---- the moves -------------------------------------------------------------- */

static json_t *id_or_null(uint64_t id) { return sb_eng_json_id(id); }

sb_status sb_eng_rt_assign(sb_engine *e, sb_eng_conv *c, rt_conv *rc, rt_op *op,
                           const char *reason, const char *by)
{
    uint64_t prev = rc->state == RC_ASSIGNED ? rc->op : 0;
    sb_status s = sb_eng_rt_detach(e, rc);
    int64_t now = sb_eng_now();
    rc->state = RC_ASSIGNED;
    rc->op = op->id;
    rc->target_op = 0;
    rc->assigned_at = now;
    rc->notified_pos = 0;
    rc->reassign_checked = 0;
    rc->onode.k[0] = rc->id;
    rc->onode.k[1] = rc->onode.k[2] = 0;
    sb_eng_tree_insert(&op->convs, &rc->onode);
    op->load++;
    op->last_assigned_at = now;
    if (rc->g && rc->g->strategy == RT_ROUND_ROBIN) rc->g->rr_last = op->id;
    sb_eng_rt_reindex_op(e, op);
    sb_eng_rt_grace_arm(e, op);
    if (s == SB_OK) s = sb_eng_op_save(e, op);
    sb_eng_rt_to_record(rc, c);
    sb_eng_rt_conv_rearm(e, rc);
    json_t *extra = json_pack("{s:o, s:s?, s:s}", "previous_operator_id", id_or_null(prev), "by",
                              by, "reason", reason);
    if (s == SB_OK) return sb_eng_conv_emit(e, c, "conversation.assigned", extra);
    json_decref(extra);
    return s;
}

sb_status sb_eng_rt_enqueue(sb_engine *e, sb_eng_conv *c, rt_conv *rc, uint64_t target,
                            bool announce)
{
    sb_status s = sb_eng_rt_detach(e, rc);
    rc->state = RC_QUEUED;
    rc->op = 0;
    rc->target_op = target;
    if (!rc->queued_at) rc->queued_at = sb_eng_now();
    rc->notified_pos = 0;
    sb_eng_rt_queue_key(rc);
    sb_eng_tree *t = sb_eng_rt_queue_of(e, rc);
    if (t) sb_eng_tree_insert(t, &rc->qnode);
    if (rc->g && !target) {
        sb_eng_rt_touch(e, rc->g, false);
        sb_eng_rt_kick_group(e, rc->g);
    }
    if (target) {
        rt_op *op = sb_eng_rt_op(e, target);
        if (op) sb_eng_rt_kick_op(e, op);
    }
    sb_eng_rt_to_record(rc, c);
    size_t pos = sb_eng_rt_position(e, rc);
    if (s == SB_OK && announce && pos) s = sb_eng_rt_announce_in(e, c, rc, pos);
    sb_eng_rt_conv_rearm(e, rc);
    json_t *extra = json_pack("{s:o}", "target_operator_id", id_or_null(target));
    if (s == SB_OK) return sb_eng_conv_emit(e, c, "conversation.queued", extra);
    json_decref(extra);
    return s;
}

sb_status sb_eng_rt_route(sb_engine *e, sb_eng_conv *c, rt_conv *rc, uint64_t sticky)
{
    rt_op *op = sticky ? sb_eng_rt_op(e, sticky) : NULL;
    if (op && op->status == OP_ONLINE &&
        op->load < sb_eng_rt_limit(op, is_member(op, rc->g) ? rc->g : NULL))
        return sb_eng_rt_assign(e, c, rc, op, "sticky", NULL);
    if ((op = sb_eng_rt_pick(e, rc->g, rc, 0))) return sb_eng_rt_assign(e, c, rc, op, "route", NULL);
    return sb_eng_rt_enqueue(e, c, rc, 0, true);
}

sb_status sb_eng_rt_release_op(sb_engine *e, rt_op *op, bool personal_too)
{
    sb_status s = SB_OK;
    sb_eng_tnode *n;
    while (s == SB_OK && (n = sb_eng_tree_first(&op->convs))) {
        rt_conv *rc = SB_ENG_CONTAINER(n, rt_conv, onode);
        sb_eng_conv c;
        if ((s = sb_eng_conv_load(e, rc->id, &c)) != SB_OK) break;
        s = sb_eng_rt_detach(e, rc); /* off this operator before anything is picked */
        rc->state = RC_QUEUED;
        rc->queued_at = c.created_at; /* back in line by its age */
        if (s == SB_OK) s = sb_eng_rt_route(e, &c, rc, 0);
        sb_eng_conv_clear(&c);
    }
    while (s == SB_OK && personal_too && (n = sb_eng_tree_first(&op->personal))) {
        rt_conv *rc = SB_ENG_CONTAINER(n, rt_conv, qnode);
        sb_eng_conv c;
        if ((s = sb_eng_conv_load(e, rc->id, &c)) != SB_OK) break;
        sb_eng_tree_remove(&op->personal, &rc->qnode);
        rc->target_op = 0;
        s = sb_eng_rt_route(e, &c, rc, 0);
        sb_eng_conv_clear(&c);
    }
    return s;
}

sb_status sb_eng_rt_close(sb_engine *e, sb_eng_conv *c, const char *by, const char *reason)
{
    rt_conv *rc = sb_eng_rt_conv(e, c->id);
    int64_t now = sb_eng_now();
    sb_status s = SB_OK;
    if (rc && rc->g && strcmp(reason, "idle") == 0 && rc->g->close_msg)
        s = sb_eng_system_message(e, c, rc->g->close_msg, true, NULL);
    if (s == SB_OK && rc && rc->state == RC_ASSIGNED && rc->g)
        s = sb_eng_rt_note_handled(e, rc->g, now - rc->assigned_at);
    if (rc) {
        sb_eng_rt_to_record(rc, c);
        sb_eng_rt_conv_forget(e, rc);
    }
    c->status = "closed";
    c->closed_at = now;
    c->waiting_since = 0;
    c->target_op = 0;
    c->notified_pos = 0;
    json_t *extra = json_pack("{s:s?, s:s}", "by", by, "reason", reason);
    if (s == SB_OK) return sb_eng_conv_emit(e, c, "conversation.closed", extra);
    json_decref(extra);
    return s;
}

/* ---- hooks from ingest and reply ------------------------------------------ */

sb_status sb_eng_rt_on_inbound(sb_engine *e, sb_eng_client *cl, sb_eng_conv *conv,
                               const sb_eng_msg *m, uint64_t sticky)
{
    (void)cl;
    int64_t now = m->created_at;
    rt_conv *rc = sb_eng_rt_conv(e, conv->id);
    if (!rc) {
        if (state_of(conv->status) < 0) return SB_OK;
        rt_group *g = conv->group ? sb_eng_rt_group(e, conv->group) : NULL;
        if (!g) g = sb_eng_rt_group(e, sb_eng_rt_instance_group(e, conv->plugin, conv->instance));
        if (!g) g = sb_eng_rt_group(e, e->rt.default_group);
        conv->group = g ? g->id : NULL; /* copied into rc; to_record copies back */
        conv->waiting_since = now;
        conv->last_activity = now;
        conv->queued_at = now;
        sb_status s = sb_eng_rt_conv_track(e, conv, &rc);
        if (s != SB_OK) return s;
        conv->group = NULL;
        sb_eng_rt_to_record(rc, conv);
        if (rc->state == RC_BOT) { /* the bot answers first: no queue yet */
            if ((s = sb_eng_conv_store(e, conv)) == SB_OK) s = sb_eng_bot_input(e, conv, m, true);
            return s;
        }
        if (g && (s = sb_eng_rt_note_arrival(e, g, now)) != SB_OK) return s;
        s = sb_eng_rt_route(e, conv, rc, sticky);
        sb_eng_rt_settle(e);
        return s;
    }
    rc->last_activity = now;
    if (!rc->waiting_since) rc->waiting_since = now;
    sb_eng_rt_to_record(rc, conv);
    sb_eng_rt_conv_rearm(e, rc);
    sb_status s = sb_eng_conv_store(e, conv);
    if (s == SB_OK && rc->state == RC_BOT && conv->bot) s = sb_eng_bot_input(e, conv, m, false);
    sb_eng_rt_settle(e);
    return s;
}

sb_status sb_eng_rt_on_reply(sb_engine *e, sb_eng_conv *conv, const sb_eng_msg *m)
{
    rt_conv *rc = sb_eng_rt_conv(e, conv->id);
    if (!rc) return SB_OK;
    bool first = false;
    if (strcmp(m->author_kind, "operator") == 0) {
        if (!conv->first_response_at) {
            conv->first_response_at = m->created_at;
            first = true;
        }
        rc->waiting_since = 0;
        rc->reassign_checked = 0;
    }
    rc->last_activity = m->created_at;
    sb_eng_rt_to_record(rc, conv);
    sb_eng_rt_conv_rearm(e, rc);
    sb_status s = first ? sb_eng_conv_emit(e, conv, "conversation.updated", NULL)
                        : sb_eng_conv_store(e, conv);
    sb_eng_rt_settle(e);
    return s;
}

/* ---- work lists and drains ----------------------------------------------------- */

/* Room for one more in a growing array of n elements of size sz. */
static bool room(void **arr, size_t n, size_t *cap, size_t sz)
{
    if (n < *cap) return true;
    size_t c = *cap ? *cap * 2 : 16;
    void *a = realloc(*arr, c * sz);
    if (!a) return false;
    *arr = a;
    *cap = c;
    return true;
}

void sb_eng_rt_kick_op(sb_engine *e, rt_op *op)
{
    sb_eng_rt *rt = &e->rt;
    if (op->kicked) return;
    void *arr = rt->kick_ops;
    if (!room(&arr, rt->n_kick_ops, &rt->cap_kick_ops, sizeof *rt->kick_ops)) return;
    rt->kick_ops = arr;
    rt->kick_ops[rt->n_kick_ops++] = op;
    op->kicked = true;
}

void sb_eng_rt_kick_group(sb_engine *e, rt_group *g)
{
    sb_eng_rt *rt = &e->rt;
    if (g->kicked) return;
    void *arr = rt->kick_groups;
    if (!room(&arr, rt->n_kick_groups, &rt->cap_kick_groups, sizeof *rt->kick_groups)) return;
    rt->kick_groups = arr;
    rt->kick_groups[rt->n_kick_groups++] = g;
    g->kicked = true;
}

void sb_eng_rt_group_gone(sb_engine *e, rt_group *g)
{
    sb_eng_rt *rt = &e->rt;
    for (size_t i = 0; i < rt->n_kick_groups; i++)
        if (rt->kick_groups[i] == g) rt->kick_groups[i--] = rt->kick_groups[--rt->n_kick_groups];
    for (size_t i = 0; i < rt->n_dirty; i++)
        if (rt->dirty[i] == g) rt->dirty[i--] = rt->dirty[--rt->n_dirty];
}

/* What is queued for the operator comes first, up to its own limit. */
static sb_status drain_op(sb_engine *e, rt_op *op)
{
    sb_status s = SB_OK;
    if (op->status != OP_ONLINE) return SB_OK;
    sb_eng_tnode *n;
    while (s == SB_OK && op->load < op->max && (n = sb_eng_tree_first(&op->personal))) {
        rt_conv *rc = SB_ENG_CONTAINER(n, rt_conv, qnode);
        sb_eng_conv c;
        if ((s = sb_eng_conv_load(e, rc->id, &c)) != SB_OK) break;
        s = sb_eng_rt_assign(e, &c, rc, op, "queue", NULL);
        sb_eng_conv_clear(&c);
    }
    for (size_t i = 0; i < op->n_mem; i++)
        if (sb_eng_tree_size(&op->mem[i].g->queue)) sb_eng_rt_kick_group(e, op->mem[i].g);
    return s;
}

/* Assigns the head of the queue while someone can take it; a skills
 * group looks a few places further when the head's skill is missing. */
static sb_status drain_group(sb_engine *e, rt_group *g)
{
    sb_status s = SB_OK;
    if (g->strategy == RT_MANUAL) return SB_OK;
    while (s == SB_OK && sb_eng_tree_size(&g->queue) && g->avail.root) {
        size_t look = g->strategy == RT_SKILLS ? LOOKAHEAD : 1, n = sb_eng_tree_size(&g->queue);
        rt_conv *rc = NULL;
        rt_op *op = NULL;
        for (size_t i = 0; i < look && i < n && !op; i++) {
            rc = SB_ENG_CONTAINER(sb_eng_tree_at(&g->queue, i), rt_conv, qnode);
            op = sb_eng_rt_pick(e, g, rc, 0);
        }
        if (!op) break;
        sb_eng_conv c;
        if ((s = sb_eng_conv_load(e, rc->id, &c)) != SB_OK) break;
        s = sb_eng_rt_assign(e, &c, rc, op, "queue", NULL);
        sb_eng_conv_clear(&c);
    }
    return s;
}

void sb_eng_rt_settle(sb_engine *e)
{
    sb_eng_rt *rt = &e->rt;
    if (rt->settling) return;
    rt->settling = 1;
    while (rt->n_kick_ops || rt->n_kick_groups) {
        sb_status s = SB_OK;
        if (rt->n_kick_ops) {
            rt_op *op = rt->kick_ops[--rt->n_kick_ops];
            op->kicked = false;
            s = drain_op(e, op);
        } else {
            rt_group *g = rt->kick_groups[--rt->n_kick_groups];
            g->kicked = false;
            s = drain_group(e, g);
        }
        if (s != SB_OK) sb_warn("engine", "queue drain stopped (%d); next change retries", (int)s);
    }
    sb_eng_rt_announce_moves(e);
    sb_eng_rt_stats_emit(e);
    sb_eng_rt_timer_sync(e);
    rt->settling = 0;
}

/* ---- start and end ------------------------------------------------------------- */

typedef struct ids {
    uint64_t *v;
    size_t n, cap;
    bool nomem;
} ids;

static int collect(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    ids *l = ud;
    (void)val;
    (void)vlen;
    if (klen != 10) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) {
            l->nomem = true;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = sb_key_get_u64((const unsigned char *)key + 2);
    return 0;
}

sb_status sb_eng_rt_init(sb_engine *e)
{
    sb_eng_rt_timers_init(e);
    if (!e->opt.offline_grace_ms) e->opt.offline_grace_ms = 60000;
    if (e->opt.offline_grace_ms > 24ULL * 3600 * 1000) e->opt.offline_grace_ms = 24ULL * 3600 * 1000;
    sb_status s = sb_eng_groups_load(e);
    if (s == SB_OK) s = sb_eng_ops_load(e);
    /* the open conversations, by their status keys */
    static const char states[3] = {'q', 'a', 'b'};
    ids l = {0};
    for (int i = 0; s == SB_OK && i < 3; i++) {
        unsigned char from[2] = {'s', (unsigned char)states[i]}, to[2] = {'s', (unsigned char)(states[i] + 1)};
        long n = sb_store_scan(e->st, TBL(e, TB_CONV_IDX), from, 2, to, 2, false, 0, collect, &l);
        if (n < 0) s = (sb_status)n;
        else if (l.nomem) s = SB_ERR_NOMEM;
    }
    size_t orphans = 0;
    for (size_t i = 0; s == SB_OK && i < l.n; i++) {
        sb_eng_conv c;
        sb_status ls = sb_eng_conv_load(e, l.v[i], &c);
        rt_conv *rc;
        if (ls == SB_OK) ls = sb_eng_rt_conv_track(e, &c, &rc);
        if (ls == SB_OK && rc->state == RC_ASSIGNED && !sb_eng_rt_op(e, rc->op)) {
            l.v[orphans++] = rc->id; /* its operator is gone */
        }
        sb_eng_conv_clear(&c);
        if (ls == SB_ERR_NOMEM) s = ls;
        else if (ls != SB_OK && ls != SB_ERR_STATE) sb_warn("engine", "open conversation unreadable (%d)", (int)ls);
    }
    for (size_t i = 0; s == SB_OK && i < orphans; i++) {
        rt_conv *rc = sb_eng_rt_conv(e, l.v[i]);
        sb_eng_conv c;
        if (!rc || sb_eng_conv_load(e, rc->id, &c) != SB_OK) continue;
        rc->queued_at = c.created_at;
        s = sb_eng_rt_route(e, &c, rc, 0);
        sb_eng_conv_clear(&c);
    }
    free(l.v);
    for (size_t i = 0; i < e->rt.n_ops; i++) {
        sb_eng_rt_reindex_op(e, e->rt.op_list[i]);
        sb_eng_rt_grace_arm(e, e->rt.op_list[i]);
    }
    uint64_t v;
    for (size_t pos = 0; sb_idmap_next(&e->rt.convs, &pos, NULL, &v);)
        sb_eng_rt_conv_rearm(e, (rt_conv *)(uintptr_t)v);
    for (size_t i = 0; i < e->rt.n_groups; i++) {
        sb_eng_rt_touch(e, e->rt.groups[i], true);
        sb_eng_rt_kick_group(e, e->rt.groups[i]);
    }
    return s;
}

void sb_eng_rt_start(sb_engine *e)
{
    sb_eng_rt_settle(e);
    sb_eng_rt_timer_sync(e);
}

void sb_eng_rt_free(sb_engine *e)
{
    sb_eng_rt *rt = &e->rt;
    ev_timer_stop(e->loop, &rt->timer);
    uint64_t v;
    for (size_t pos = 0; sb_idmap_next(&rt->convs, &pos, NULL, &v);) {
        rt_conv *rc = (rt_conv *)(uintptr_t)v;
        free(rc->group_id);
        free(rc->skill);
        free(rc);
    }
    sb_idmap_free(&rt->convs);
    for (size_t i = 0; i < rt->n_ops; i++) sb_eng_op_free(rt->op_list[i]);
    free(rt->op_list);
    sb_idmap_free(&rt->ops);
    for (size_t i = 0; i < rt->n_groups; i++) sb_eng_group_free(rt->groups[i]);
    free(rt->groups);
    for (size_t i = 0; i < rt->n_inst; i++) {
        free(rt->inst[i].plugin);
        free(rt->inst[i].instance);
        free(rt->inst[i].group);
        free(rt->inst[i].bot);
    }
    free(rt->inst);
    free(rt->kick_ops);
    free(rt->kick_groups);
    free(rt->dirty);
    free(rt->recheck);
    free(rt->default_group);
    memset(rt, 0, sizeof *rt);
}
