#include "engine/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Queues: positions, what the client is told, queue.stats.
 *
 * A queue is a treap keyed (9 - priority, queued_at, id): rank + 1 is the
 * position, in O(log n). The client hears its position when it joins, then
 * again when it moved materially: the position halved, or, within the first
 * ten places, it moved up 3 places or more. Without a walk over the queue: when a conversation
 * leaves a queue, only those behind it move up one place, and the ones now
 * standing on a milestone position (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50,
 * 70, 100, ...) are noted, O(log^2 n) per departure. At the end of the
 * call (settle) each noted one is told when the rule holds, once, with its
 * final position (a drain of several does not make several messages).
 * Every conversation passes each milestone on its way to the front, and
 * consecutive milestones are close enough for the rule, so the updates
 * come at about 10, 7, 4, 2, 1 near the front and at each halving further
 * back (about 10 messages over a wait through 1000 places). */

/* Russian, like the rest of the product's defaults; groups set their own. */
static const char k_default_queue[] =
    "Все операторы заняты. Вы {position}-й в очереди, ожидание около {wait} мин.";
static const char k_default_offline[] =
    "Сейчас нет свободных операторов. Ваше сообщение сохранено, мы ответим при "
    "первой возможности.";
static const char k_default_personal[] =
    "Ваш разговор ждёт вашего оператора. Вы {position}-й в очереди.";

static size_t milestone(size_t i)
{
    /* 1 2 3 4 5 7, then 10 15 20 30 50 70 times powers of ten */
    static const unsigned small[] = {1, 2, 3, 4, 5, 7};
    static const unsigned big[] = {10, 15, 20, 30, 50, 70};
    if (i < 6) return small[i];
    i -= 6;
    size_t v = big[i % 6];
    for (size_t d = i / 6; d > 0; d--) {
        if (v > SIZE_MAX / 10) return SIZE_MAX;
        v *= 10;
    }
    return v;
}

void sb_eng_rt_queue_key(rt_conv *rc)
{
    rc->qnode.k[0] = (uint64_t)(9 - (rc->prio < 0 ? 0 : rc->prio > 9 ? 9 : rc->prio));
    rc->qnode.k[1] = (uint64_t)(rc->queued_at < 0 ? 0 : rc->queued_at);
    rc->qnode.k[2] = rc->id;
    rc->qnode.aux = rc->queued_at;
}

sb_eng_tree *sb_eng_rt_queue_of(sb_engine *e, const rt_conv *rc)
{
    if (rc->target_op) {
        rt_op *op = sb_eng_rt_op(e, rc->target_op);
        return op ? &op->personal : NULL;
    }
    return rc->g ? &rc->g->queue : NULL;
}

size_t sb_eng_rt_position(sb_engine *e, const rt_conv *rc)
{
    if (rc->state != RC_QUEUED || !rc->qnode.in) return 0;
    sb_eng_tree *t = sb_eng_rt_queue_of(e, rc);
    return t ? sb_eng_tree_rank(t, &rc->qnode) + 1 : 0;
}

/* tmpl with {position} and {wait} replaced; malloc'ed. */
static char *render(const char *tmpl, size_t pos, int64_t wait_ms)
{
    char p[24], w[24];
    snprintf(p, sizeof p, "%zu", pos);
    long long min = wait_ms < 0 ? 0 : (wait_ms + 59999) / 60000;
    snprintf(w, sizeof w, "%lld", min < 1 ? 1 : min);
    size_t cap = strlen(tmpl) + 1;
    for (const char *q = tmpl; (q = strchr(q, '{')); q++) cap += 24;
    char *out = malloc(cap), *o = out;
    if (!out) return NULL;
    for (const char *q = tmpl; *q;) {
        if (strncmp(q, "{position}", 10) == 0) { o += sprintf(o, "%s", p); q += 10; }
        else if (strncmp(q, "{wait}", 6) == 0) { o += sprintf(o, "%s", w); q += 6; }
        else *o++ = *q++;
    }
    *o = '\0';
    return out;
}

/* The text for rc at pos: NULL when there is nothing to say. */
static char *text_for(sb_engine *e, const rt_conv *rc, size_t pos)
{
    rt_group *g = rc->g;
    if (rc->target_op) return render(k_default_personal, pos, -1);
    if (!g) return NULL;
    int64_t est = sb_eng_rt_estimate(e, g, pos);
    bool nobody = g->online == 0;
    if (nobody || !sb_eng_rt_open_at(g, sb_eng_now())) {
        /* said once, when it joins; later moves are told as positions */
        if (rc->notified_pos) return NULL;
        return strdup(g->offline_msg ? g->offline_msg : k_default_offline);
    }
    if (est < 0) est = 0;
    return render(g->queue_msg ? g->queue_msg : k_default_queue, pos, est);
}

static sb_status tell(sb_engine *e, sb_eng_conv *c, rt_conv *rc, size_t pos)
{
    char *text = text_for(e, rc, pos);
    sb_status s = SB_OK;
    if (text) s = sb_eng_system_message(e, c, text, true, NULL);
    free(text);
    rc->notified_pos = pos > UINT32_MAX ? UINT32_MAX : (uint32_t)pos;
    c->notified_pos = rc->notified_pos;
    return s;
}

sb_status sb_eng_rt_announce(sb_engine *e, rt_conv *rc, size_t pos)
{
    sb_eng_conv c;
    sb_status s = sb_eng_conv_load(e, rc->id, &c);
    if (s == SB_OK) s = tell(e, &c, rc, pos);
    if (s == SB_OK) s = sb_eng_conv_store(e, &c);
    sb_eng_conv_clear(&c);
    return s;
}

/* For the caller that holds the record: told in c, stored by the caller. */
sb_status sb_eng_rt_announce_in(sb_engine *e, sb_eng_conv *c, rt_conv *rc, size_t pos)
{
    return tell(e, c, rc, pos);
}

static void note(sb_engine *e, rt_conv *rc)
{
    sb_eng_rt *rt = &e->rt;
    if (rc->recheck) return;
    if (rt->n_recheck == rt->cap_recheck) {
        size_t cap = rt->cap_recheck ? rt->cap_recheck * 2 : 64;
        uint64_t *a = realloc(rt->recheck, cap * sizeof *a);
        if (!a) return; /* a later move tells it */
        rt->recheck = a;
        rt->cap_recheck = cap;
    }
    rt->recheck[rt->n_recheck++] = rc->id;
    rc->recheck = true;
}

sb_status sb_eng_rt_dequeue(sb_engine *e, rt_conv *rc)
{
    sb_eng_tree *t = sb_eng_rt_queue_of(e, rc);
    if (!t || !rc->qnode.in) return SB_OK;
    size_t r = sb_eng_tree_rank(t, &rc->qnode);
    sb_eng_tree_remove(t, &rc->qnode);
    if (!rc->target_op && rc->g) sb_eng_rt_touch(e, rc->g, false);
    size_t n = sb_eng_tree_size(t);
    for (size_t i = 0;; i++) {
        size_t m = milestone(i); /* a 1-based position */
        if (m > n) break;
        if (m - 1 < r) continue; /* ahead of the one that left: unchanged */
        note(e, SB_ENG_CONTAINER(sb_eng_tree_at(t, m - 1), rt_conv, qnode));
    }
    return SB_OK;
}

/* Halved, or 3 places closer near the front (within the first 10): a
 * client deep in a long queue hears about each halving, not every third
 * step (the messages are pushes on its phone). */
static bool material(size_t pos, size_t told)
{
    return !told || pos * 2 <= told || (pos <= 10 && told >= pos + 3);
}

void sb_eng_rt_announce_moves(sb_engine *e)
{
    sb_eng_rt *rt = &e->rt;
    /* announcing writes; nothing it does adds to the list */
    for (size_t i = 0; i < rt->n_recheck; i++) {
        rt_conv *rc = sb_eng_rt_conv(e, rt->recheck[i]);
        if (!rc) continue;
        rc->recheck = false;
        size_t pos = sb_eng_rt_position(e, rc);
        if (!pos || !material(pos, rc->notified_pos)) continue;
        sb_status s = sb_eng_rt_announce(e, rc, pos);
        if (s != SB_OK) sb_warn("engine", "queue position not told (%d)", (int)s);
    }
    rt->n_recheck = 0;
}

/* ---- queue.stats ------------------------------------------------------------ */

json_t *sb_eng_rt_stats_json(sb_engine *e, rt_group *g)
{
    (void)e;
    int64_t head = sb_eng_tree_aux_min(&g->queue), now = sb_eng_now();
    int64_t longest = head == INT64_MAX || head > now ? 0 : (now - head) / 1000;
    return json_pack("{s:s, s:I, s:I, s:i}", "group_id", g->id, "waiting",
                     (json_int_t)sb_eng_tree_size(&g->queue), "longest_wait_s",
                     (json_int_t)longest, "online_operators", (int)g->online);
}

void sb_eng_rt_touch(sb_engine *e, rt_group *g, bool online)
{
    (void)online; /* the figures are compared before they go out */
    if (g->stats_dirty) return;
    sb_eng_rt *rt = &e->rt;
    if (rt->n_dirty == rt->cap_dirty) {
        size_t cap = rt->cap_dirty ? rt->cap_dirty * 2 : 16;
        rt_group **d = realloc(rt->dirty, cap * sizeof *d);
        if (!d) return; /* the figures go out with the next change */
        rt->dirty = d;
        rt->cap_dirty = cap;
    }
    rt->dirty[rt->n_dirty++] = g;
    g->stats_dirty = true;
}

void sb_eng_rt_stats_emit(sb_engine *e)
{
    sb_eng_rt *rt = &e->rt;
    for (size_t i = 0; i < rt->n_dirty; i++) {
        rt_group *g = rt->dirty[i];
        g->stats_dirty = false;
        int64_t waiting = (int64_t)sb_eng_tree_size(&g->queue), head = sb_eng_tree_aux_min(&g->queue);
        if (waiting == g->em_waiting && head == g->em_head && (int64_t)g->online == g->em_online)
            continue;
        g->em_waiting = waiting;
        g->em_head = head;
        g->em_online = g->online;
        json_t *ev = sb_eng_event_new("queue.stats"), *st = sb_eng_rt_stats_json(e, g);
        if (!ev || !st || json_object_update(ev, st) != 0) {
            json_decref(ev);
            json_decref(st);
            continue;
        }
        json_decref(st);
        if (sb_eng_emit(e, ev) != SB_OK) sb_warn("engine", "queue.stats of %s not emitted", g->id);
    }
    rt->n_dirty = 0;
}
