#include "engine/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What operators and supervisors do to a conversation: take, assign,
 * transfer, close, tags, attributes, priority; and who may see it. Every
 * call runs to its end on the loop thread, so of two takes of one queued
 * conversation the first assigns it and the second finds it assigned. */

enum { MAX_TAGS = 64, MAX_TAG = 64, MAX_ATTRS = 64, MAX_ATTR_KEY = 64, MAX_ATTR_VAL = 1024,
       MAX_NOTE = 1024 };

/* Loads an open conversation and its routing entry. SB_ERR_STATE with
 * *out = the conversation when it is closed. */
static sb_status open_conv(sb_engine *e, const char *id, sb_eng_conv *c, rt_conv **rc,
                           char **out)
{
    uint64_t cid = id ? sb_id_parse(id) : 0;
    if (!cid) return SB_ERR_NOT_FOUND;
    sb_status s = sb_eng_conv_load(e, cid, c);
    if (s != SB_OK) return s;
    if (strcmp(c->status, "closed") == 0 || sb_eng_rt_conv_track(e, c, rc) != SB_OK) {
        if (out) sb_eng_json_take(sb_eng_conv_json(e, c), out);
        sb_eng_conv_clear(c);
        return SB_ERR_STATE;
    }
    return SB_OK;
}

/* open_conv for an action with a target (operator, group): when the target
 * was not found, SB_ERR_NOT_FOUND, after a closed conversation's
 * SB_ERR_STATE, which wins. */
static sb_status open_conv_to(sb_engine *e, const char *id, bool target_found, sb_eng_conv *c,
                              rt_conv **rc, char **out)
{
    sb_status s = open_conv(e, id, c, rc, out);
    if (s == SB_OK && !target_found) {
        sb_eng_conv_clear(c);
        s = SB_ERR_NOT_FOUND;
    }
    return s;
}

static rt_op *op_of(sb_engine *e, const char *id)
{
    uint64_t n = id ? sb_id_parse(id) : 0;
    return n ? sb_eng_rt_op(e, n) : NULL;
}

/* open_conv_to with the operator operator_id names as the target. */
static sb_status open_conv_op(sb_engine *e, const char *conv_id, const char *operator_id,
                              sb_eng_conv *c, rt_conv **rc, rt_op **op, char **out)
{
    *op = op_of(e, operator_id);
    return open_conv_to(e, conv_id, *op != NULL, c, rc, out);
}

/* The conversation as stored now, into *out (after the writes). */
static sb_status finish(sb_engine *e, sb_eng_conv *c, sb_status s, char **out)
{
    sb_eng_rt_settle(e);
    if (s == SB_OK && out) s = sb_eng_json_take(sb_eng_conv_json(e, c), out);
    sb_eng_conv_clear(c);
    return s;
}

sb_status sb_engine_conversation_take(sb_engine *e, const char *conv_id, const char *operator_id,
                                      char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    rt_op *op;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = open_conv_op(e, conv_id, operator_id, &c, &rc, &op, out);
    if (s != SB_OK) return s;
    if (rc->state != RC_QUEUED && rc->state != RC_BOT) {
        s = sb_eng_json_take(sb_eng_conv_json(e, &c), out);
        sb_eng_conv_clear(&c);
        return s == SB_OK ? SB_ERR_STATE : s;
    }
    if (rc->state == RC_BOT) { /* an operator steps in: the bot lets go */
        char note[600];
        snprintf(note, sizeof note, "Оператор %s забрал разговор у бота %s",
                 op->name && *op->name ? op->name : op->login, c.bot ? c.bot : "");
        s = sb_eng_system_message(e, &c, note, false, "take");
    }
    if (s == SB_OK) s = sb_eng_rt_assign(e, &c, rc, op, "take", operator_id);
    return finish(e, &c, s, out);
}

sb_status sb_engine_conversation_assign(sb_engine *e, const char *conv_id,
                                        const char *operator_id, const char *by, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    rt_op *op;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = open_conv_op(e, conv_id, operator_id, &c, &rc, &op, out);
    if (s != SB_OK) return s;
    if (!(rc->state == RC_ASSIGNED && rc->op == op->id)) {
        if (rc->state == RC_ASSIGNED) {
            char note[600];
            snprintf(note, sizeof note, "Супервизор назначил разговор оператору %s",
                     op->name && *op->name ? op->name : op->login);
            s = sb_eng_system_message(e, &c, note, false, "assign");
        }
        if (s == SB_OK) s = sb_eng_rt_assign(e, &c, rc, op, "assign", by);
    }
    return finish(e, &c, s, out);
}

sb_status sb_engine_conversation_transfer(sb_engine *e, const char *conv_id, const sb_transfer *t,
                                          char **out, char *err, size_t errlen)
{
    if (!e || !t || !out) return SB_ERR_INVALID;
    *out = NULL;
    bool to_op = t->operator_id && *t->operator_id, to_group = t->group_id && *t->group_id;
    if (to_op == to_group)
        return sb_eng_bad(err, errlen, "operator_id", "give exactly one of operator_id and group_id");
    if (t->note && (strlen(t->note) > MAX_NOTE || !sb_eng_utf8_valid(t->note, strlen(t->note))))
        return sb_eng_bad(err, errlen, "note", "at most %d bytes of UTF-8", MAX_NOTE);
    rt_op *op = to_op ? op_of(e, t->operator_id) : NULL;
    rt_group *g = to_group ? sb_eng_rt_group(e, t->group_id) : NULL;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = open_conv_to(e, conv_id, !(to_op && !op) && !(to_group && !g), &c, &rc, out);
    if (s != SB_OK) return s;
    uint64_t from_op = rc->state == RC_ASSIGNED ? rc->op : 0;
    char *from_group = sb_eng_xstrdup(rc->group_id);
    /* the history's note names people and groups as operators know them */
    char note[MAX_NOTE + 700];
    if (to_op)
        snprintf(note, sizeof note, "Передан оператору %s%s%s",
                 op->name && *op->name ? op->name : op->login, t->note ? ": " : "",
                 t->note ? t->note : "");
    else
        snprintf(note, sizeof note, "Передан в группу %s%s%s", g->name && *g->name ? g->name : g->id,
                 t->note ? ": " : "", t->note ? t->note : "");
    s = sb_eng_system_message(e, &c, note, false, "transfer");
    const char *result = "assigned", *reason = NULL;
    if (s == SB_OK && to_op) {
        rt_group *lim = NULL;
        for (size_t i = 0; i < op->n_mem; i++)
            if (op->mem[i].g == rc->g) lim = rc->g;
        if (op->status == OP_ONLINE && op->load < sb_eng_rt_limit(op, lim)) {
            s = sb_eng_rt_assign(e, &c, rc, op, "transfer", t->by);
        } else {
            reason = op->status == OP_OFFLINE ? "offline" : op->status == OP_AWAY ? "away" : "full";
            result = "queued";
            s = sb_eng_rt_detach(e, rc);
            rc->queued_at = c.created_at;
            if (s == SB_OK) s = sb_eng_rt_enqueue(e, &c, rc, op->id, true);
        }
    } else if (s == SB_OK) {
        /* into the new group: off the old queue or operator first (the
         * queue a conversation sits in is keyed by its group) */
        s = sb_eng_rt_detach(e, rc);
        sb_status sg = sb_eng_rt_set_group(rc, g);
        if (s == SB_OK) s = sg;
        rc->state = RC_QUEUED;
        rc->target_op = 0;
        rt_op *next = sb_eng_rt_pick(e, g, rc, 0);
        if (s == SB_OK && next) {
            s = sb_eng_rt_assign(e, &c, rc, next, "transfer", t->by);
        } else if (s == SB_OK) {
            result = "queued";
            reason = g->strategy == RT_MANUAL ? "manual" : g->online ? "full" : "nobody_online";
            rc->queued_at = c.created_at;
            s = sb_eng_rt_enqueue(e, &c, rc, 0, true);
        }
    }
    if (s == SB_OK) {
        json_t *extra = json_pack("{s:o, s:s?, s:o, s:s?, s:s?, s:b}", "from_operator_id",
                                  sb_eng_json_id(from_op), "from_group_id", from_group,
                                  "to_operator_id", sb_eng_json_id(to_op ? op->id : 0),
                                  "to_group_id", to_group ? g->id : NULL, "by", t->by, "queued",
                                  strcmp(result, "queued") == 0);
        s = sb_eng_conv_emit(e, &c, "conversation.transferred", extra);
    }
    free(from_group);
    sb_eng_rt_settle(e);
    if (s == SB_OK) {
        json_t *o = json_pack("{s:o, s:s, s:s?}", "conversation", sb_eng_conv_json(e, &c), "result",
                              result, "reason", reason);
        s = sb_eng_json_take(o, out);
    }
    sb_eng_conv_clear(&c);
    return s;
}

sb_status sb_engine_conversation_close(sb_engine *e, const char *conv_id, const char *by,
                                       char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = open_conv(e, conv_id, &c, &rc, out);
    if (s != SB_OK) return s;
    s = sb_eng_rt_close(e, &c, by, by ? "operator" : "api");
    return finish(e, &c, s, out);
}

/* ---- tags, attributes, priority --------------------------------------------- */

/* Loads any conversation (closed ones too: tags and attributes may be
 * corrected afterwards). */
static sb_status any_conv(sb_engine *e, const char *id, sb_eng_conv *c)
{
    uint64_t cid = id ? sb_id_parse(id) : 0;
    return cid ? sb_eng_conv_load(e, cid, c) : SB_ERR_NOT_FOUND;
}

sb_status sb_engine_conversation_set_tags(sb_engine *e, const char *conv_id, const char *json,
                                          size_t len, char **out, char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    json_error_t je;
    json_t *a = json ? json_loadb(json, len, 0, &je) : NULL;
    if (!a || !json_is_array(a) || json_array_size(a) > MAX_TAGS) {
        json_decref(a);
        return sb_eng_bad(err, errlen, "tags", "must be an array of at most %d strings", MAX_TAGS);
    }
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || json_string_length(v) < 1 || json_string_length(v) > MAX_TAG ||
            strlen(json_string_value(v)) != json_string_length(v)) {
            json_decref(a);
            return sb_eng_bad(err, errlen, "tags", "item %zu: 1..%d bytes of text", i, MAX_TAG);
        }
    }
    sb_eng_conv c;
    sb_status s = any_conv(e, conv_id, &c);
    if (s != SB_OK) {
        json_decref(a);
        return s;
    }
    size_t n = json_array_size(a), k = 0;
    const char **tags = n ? sb_eng_alloc(&c.arena, n * sizeof *tags) : NULL;
    if (n && !tags) s = SB_ERR_NOMEM;
    for (i = 0; s == SB_OK && i < n; i++) {
        const char *t = json_string_value(json_array_get(a, i));
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++) dup = strcmp(tags[j], t) == 0;
        if (dup) continue;
        if (!(tags[k++] = sb_eng_strndup(&c.arena, t, strlen(t)))) s = SB_ERR_NOMEM;
    }
    json_decref(a);
    c.tags = tags;
    c.n_tags = k;
    if (s == SB_OK) s = sb_eng_conv_emit(e, &c, "conversation.updated", NULL);
    return finish(e, &c, s, out);
}

/* A JSON scalar as stored text; NULL for null (a removal). Numbers and
 * booleans keep their type: stored as SB_ENG_TYPED + their JSON text
 * (json_out.c renders them back as JSON values); strings as they are, and
 * a string may not start with that marker byte. */
static sb_status scalar_text(json_t *v, char *buf, size_t cap, const char **out)
{
    if (json_is_null(v)) { *out = NULL; return SB_OK; }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (json_string_length(v) > MAX_ATTR_VAL || strlen(s) != json_string_length(v) ||
            s[0] == SB_ENG_TYPED)
            return SB_ERR_INVALID;
        *out = s;
        return SB_OK;
    }
    if (json_is_integer(v)) snprintf(buf, cap, "%c%lld", SB_ENG_TYPED, (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(buf, cap, "%c%.17g", SB_ENG_TYPED, json_real_value(v));
    else if (json_is_boolean(v)) snprintf(buf, cap, "%c%s", SB_ENG_TYPED, json_is_true(v) ? "true" : "false");
    else return SB_ERR_INVALID;
    *out = buf;
    return SB_OK;
}

/* Merges patch p into (keys, vals, n) in arena a; the result in ok, ov, on. */
sb_status sb_eng_attrs_merge(sb_eng_arena *a, const char *const *keys, const char *const *vals,
                             size_t n, json_t *p, const char *field, const char *const **ok,
                             const char *const **ov, size_t *on, char *err, size_t errlen)
{
    if (!json_is_object(p)) return sb_eng_bad(err, errlen, field, "must be an object");
    size_t cap = n + json_object_size(p), m = 0;
    const char **nk = cap ? sb_eng_alloc(a, cap * sizeof *nk) : NULL;
    const char **nv = cap ? sb_eng_alloc(a, cap * sizeof *nv) : NULL;
    if (cap && (!nk || !nv)) return SB_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (json_object_get(p, keys[i])) continue; /* replaced or removed below */
        nk[m] = keys[i];
        nv[m++] = vals[i];
    }
    const char *k;
    json_t *v;
    json_object_foreach(p, k, v) {
        char buf[64];
        const char *txt;
        if (!*k || strlen(k) > MAX_ATTR_KEY || !sb_eng_utf8_valid(k, strlen(k)))
            return sb_eng_bad(err, errlen, field, "keys must be 1..%d bytes", MAX_ATTR_KEY);
        if (scalar_text(v, buf, sizeof buf, &txt) != SB_OK || (txt && !sb_eng_utf8_valid(txt, strlen(txt))))
            return sb_eng_bad(err, errlen, field, "%s: a string of at most %d bytes, a number, a "
                              "boolean or null", k, MAX_ATTR_VAL);
        if (!txt) continue;
        nk[m] = sb_eng_strndup(a, k, strlen(k));
        nv[m] = sb_eng_strndup(a, txt, strlen(txt));
        if (!nk[m] || !nv[m]) return SB_ERR_NOMEM;
        m++;
    }
    if (m > MAX_ATTRS) return sb_eng_bad(err, errlen, field, "at most %d attributes", MAX_ATTRS);
    *ok = nk;
    *ov = nv;
    *on = m;
    return SB_OK;
}

sb_status sb_engine_conversation_patch_attributes(sb_engine *e, const char *conv_id,
                                                  const char *json, size_t len, char **out,
                                                  char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    json_t *p = sb_eng_body(json, len, err, errlen);
    if (!p) return SB_ERR_INVALID;
    sb_eng_conv c;
    sb_status s = any_conv(e, conv_id, &c);
    if (s != SB_OK) {
        json_decref(p);
        return s;
    }
    const char *const *k, *const *v;
    size_t n;
    s = sb_eng_attrs_merge(&c.arena, c.attr_keys, c.attr_vals, c.n_attrs, p, "attributes", &k, &v,
                           &n, err, errlen);
    json_decref(p);
    if (s == SB_OK) {
        c.attr_keys = k;
        c.attr_vals = v;
        c.n_attrs = n;
        rt_conv *rc = sb_eng_rt_conv(e, c.id);
        if (rc) s = sb_eng_rt_conv_skill(e, rc, &c);
        if (rc && rc->state == RC_QUEUED && rc->g) sb_eng_rt_kick_group(e, rc->g);
    }
    if (s == SB_OK) s = sb_eng_conv_emit(e, &c, "conversation.updated", NULL);
    return finish(e, &c, s, out);
}

sb_status sb_engine_conversation_set_priority(sb_engine *e, const char *conv_id, int priority,
                                              char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    if (priority < 0 || priority > 9) return SB_ERR_INVALID;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = open_conv(e, conv_id, &c, &rc, out);
    if (s != SB_OK) return s;
    if (rc->prio != priority) {
        sb_eng_tree *t = rc->qnode.in ? sb_eng_rt_queue_of(e, rc) : NULL;
        if (t) sb_eng_tree_remove(t, &rc->qnode);
        rc->prio = priority;
        sb_eng_rt_queue_key(rc);
        if (t) sb_eng_tree_insert(t, &rc->qnode);
        if (rc->g) sb_eng_rt_touch(e, rc->g, false);
        sb_eng_rt_to_record(rc, &c);
        s = sb_eng_conv_emit(e, &c, "conversation.updated", NULL);
    }
    return finish(e, &c, s, out);
}

/* ---- visibility ------------------------------------------------------------------ */

bool sb_engine_operator_sees(sb_engine *e, const char *operator_id, const char *group_id,
                             const char *conv_operator_id)
{
    if (!e || !operator_id || !*operator_id) return false;
    if (conv_operator_id && strcmp(conv_operator_id, operator_id) == 0) return true;
    rt_op *op = op_of(e, operator_id);
    if (!op || !group_id || !*group_id) return false;
    for (size_t i = 0; i < op->n_groups; i++)
        if (strcmp(op->group_ids[i], group_id) == 0) return true;
    return false;
}

sb_status sb_engine_conversation_visible(sb_engine *e, const char *conv_id,
                                         const char *operator_id, bool *visible)
{
    if (!e || !visible) return SB_ERR_INVALID;
    *visible = false;
    sb_eng_conv c;
    sb_status s = any_conv(e, conv_id, &c);
    if (s != SB_OK) return s;
    char op[21], target[21];
    *visible = sb_engine_operator_sees(e, operator_id, c.group,
                                       c.operator_id ? sb_id_str(c.operator_id, op) : NULL) ||
               (c.target_op && operator_id && strcmp(sb_id_str(c.target_op, target), operator_id) == 0);
    sb_eng_conv_clear(&c);
    return SB_OK;
}

sb_status sb_engine_queue_stats(sb_engine *e, const char *group_id, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    json_t *items = json_array();
    if (!items) return SB_ERR_NOMEM;
    bool ok = true;
    if (group_id && *group_id) {
        rt_group *g = sb_eng_rt_group(e, group_id);
        if (!g) {
            json_decref(items);
            return SB_ERR_NOT_FOUND;
        }
        ok = json_array_append_new(items, sb_eng_rt_stats_json(e, g)) == 0;
    } else {
        for (size_t i = 0; ok && i < e->rt.n_groups; i++)
            ok = json_array_append_new(items, sb_eng_rt_stats_json(e, e->rt.groups[i])) == 0;
    }
    if (!ok) {
        json_decref(items);
        return SB_ERR_NOMEM;
    }
    return sb_eng_json_take(json_pack("{s:o}", "items", items), out);
}
