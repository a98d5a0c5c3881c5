#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

/* The sets of available operators per group and the strategies' picks.
 * An operator is in a group's sets only while it can take one more
 * conversation there, so every pick is the first element of a set (or,
 * for skills, the best of the first elements of at most 11 level sets):
 * O(log n) whatever the number of operators. */

static const char *const k_names[RT_N_STRAT] = {"least_busy", "round_robin", "longest_idle",
                                                "skills", "manual"};

int sb_eng_rt_strategy(const char *s)
{
    for (int i = 0; s && i < RT_N_STRAT; i++)
        if (strcmp(s, k_names[i]) == 0) return i;
    return -1;
}

const char *sb_eng_rt_strategy_name(int s) { return k_names[s >= 0 && s < RT_N_STRAT ? s : 0]; }

uint32_t sb_eng_rt_limit(const rt_op *op, const rt_group *g)
{
    return g && g->max_per_op < op->max ? g->max_per_op : op->max;
}

bool sb_eng_rt_available(const rt_op *op, const rt_group *g)
{
    return op->status == OP_ONLINE && op->load < sb_eng_rt_limit(op, g);
}

/* least_busy (and skills): fewest open, then longest since the last one. */
static void key_busy(const rt_op *op, uint64_t k[3])
{
    k[0] = op->load;
    k[1] = (uint64_t)op->last_assigned_at;
    k[2] = op->id;
}

static void key_for(int strategy, const rt_op *op, uint64_t k[3])
{
    switch (strategy) {
    case RT_LONGEST_IDLE:
        k[0] = (uint64_t)op->last_assigned_at;
        k[1] = op->id;
        k[2] = 0;
        break;
    case RT_ROUND_ROBIN:
    case RT_MANUAL:
        k[0] = op->id;
        k[1] = k[2] = 0;
        break;
    default: key_busy(op, k); break;
    }
}

static rt_skillset *skillset(rt_group *g, const char *name, bool create)
{
    for (size_t i = 0; i < g->n_sk; i++)
        if (strcmp(g->sk[i].name, name) == 0) return &g->sk[i];
    if (!create) return NULL;
    rt_skillset *arr = realloc(g->sk, (g->n_sk + 1) * sizeof *arr);
    if (!arr) return NULL;
    g->sk = arr;
    rt_skillset *ss = &arr[g->n_sk];
    memset(ss, 0, sizeof *ss);
    if (!(ss->name = strdup(name))) return NULL;
    g->n_sk++;
    return ss;
}

void sb_eng_rt_group_sets_free(rt_group *g)
{
    for (size_t i = 0; i < g->n_sk; i++) free(g->sk[i].name);
    free(g->sk);
    g->sk = NULL;
    g->n_sk = 0;
    g->avail.root = NULL;
}

void sb_eng_rt_unindex_op(sb_engine *e, rt_op *op)
{
    (void)e;
    for (size_t i = 0; i < op->n_mem; i++) {
        rt_member *m = &op->mem[i];
        m->g->slots -= m->slot;
        m->slot = 0;
        sb_eng_tree_remove(&m->g->avail, &m->node);
        for (size_t j = 0; j < m->n_sk; j++) {
            if (!m->sk_nodes[j].in) continue;
            /* skills and levels only change after an unindex, so the node
             * is filed under the level the operator has now */
            rt_skillset *ss = j < op->n_skills ? skillset(m->g, op->skill_names[j], false) : NULL;
            if (ss) sb_eng_tree_remove(&ss->lv[op->skill_lv[j]], &m->sk_nodes[j]);
            m->sk_nodes[j].in = false;
        }
    }
}

void sb_eng_rt_reindex_op(sb_engine *e, rt_op *op)
{
    sb_eng_rt_unindex_op(e, op);
    for (size_t i = 0; i < op->n_mem; i++) {
        rt_member *m = &op->mem[i];
        rt_group *g = m->g;
        m->slot = op->status == OP_ONLINE ? sb_eng_rt_limit(op, g) : 0;
        g->slots += m->slot;
        if (!sb_eng_rt_available(op, g)) continue;
        key_for(g->strategy, op, m->node.k);
        sb_eng_tree_insert(&g->avail, &m->node);
        if (g->strategy != RT_SKILLS) continue;
        for (size_t j = 0; j < m->n_sk && j < op->n_skills; j++) {
            rt_skillset *ss = skillset(g, op->skill_names[j], true);
            if (!ss) continue; /* no memory: it is still in the plain set */
            key_busy(op, m->sk_nodes[j].k);
            sb_eng_tree_insert(&ss->lv[op->skill_lv[j]], &m->sk_nodes[j]);
        }
    }
}

static rt_op *member_op(sb_eng_tnode *n)
{
    return n ? SB_ENG_CONTAINER(n, rt_member, node)->op : NULL;
}

/* The first node of t that is not `exclude`'s. */
static sb_eng_tnode *first_but(const sb_eng_tree *t, uint64_t exclude, bool by_member,
                               sb_engine *e)
{
    sb_eng_tnode *n = sb_eng_tree_first(t);
    if (!n || !exclude) return n;
    uint64_t id = by_member ? member_op(n)->id : n->k[2];
    (void)e;
    return id == exclude ? sb_eng_tree_after(t, n->k) : n;
}

static int kcmp(const uint64_t *a, const uint64_t *b)
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

static rt_op *pick_skill(sb_engine *e, rt_group *g, const char *skill, int level,
                         uint64_t exclude)
{
    rt_skillset *ss = skillset(g, skill, false);
    if (!ss) return NULL;
    sb_eng_tnode *best = NULL;
    for (int l = level < 0 ? 0 : level; l < RT_LEVELS; l++) {
        sb_eng_tnode *n = first_but(&ss->lv[l], exclude, false, e);
        if (n && (!best || kcmp(n->k, best->k) < 0)) best = n;
    }
    return best ? sb_eng_rt_op(e, best->k[2]) : NULL;
}

rt_op *sb_eng_rt_pick(sb_engine *e, rt_group *g, const rt_conv *rc, uint64_t exclude)
{
    if (!g || g->strategy == RT_MANUAL) return NULL;
    if (g->strategy == RT_SKILLS) {
        const char *skill = rc && rc->skill ? rc->skill : g->req_skill;
        int level = rc && rc->skill ? rc->skill_level : g->req_level;
        if (skill) return pick_skill(e, g, skill, level, exclude);
    }
    if (g->strategy == RT_ROUND_ROBIN) {
        uint64_t k[3] = {g->rr_last, UINT64_MAX, UINT64_MAX};
        sb_eng_tnode *n = sb_eng_tree_after(&g->avail, k);
        if (n && member_op(n)->id == exclude) n = sb_eng_tree_after(&g->avail, n->k);
        if (!n) n = first_but(&g->avail, exclude, true, e); /* wrap around */
        return member_op(n);
    }
    return member_op(first_but(&g->avail, exclude, true, e));
}
