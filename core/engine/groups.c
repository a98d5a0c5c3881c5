#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "util/log.h"
#include "util/str.h"

/* Groups: stored records, the sorted in-memory table, CRUD, the config's
 * groups and the channel instances' groups. */

enum { GROUP_V = 2, GROUP_N = 13 };
#define DAY_MS (24LL * 3600 * 1000)
#define MAX_MSG 4096

static const char *const k_keys[] = {
    "id", "name", "strategy", "max_per_operator", "reassign_after", "close_after",
    "close_message", "queue_message", "offline_message", "business_hours", "required_skill",
    "bot", NULL};

/* ---- the stored fields -------------------------------------------------- */

static void fields_free(rt_group *g)
{
    free(g->name);
    free(g->close_msg);
    free(g->queue_msg);
    free(g->offline_msg);
    free(g->hours_json);
    free(g->req_skill);
    free(g->bot);
    g->name = g->close_msg = g->queue_msg = g->offline_msg = g->hours_json = g->req_skill = NULL;
    g->bot = NULL;
}

/* The stored non-string fields but created_at, which an update keeps. */
static void settings_copy(rt_group *dst, const rt_group *src)
{
    dst->strategy = src->strategy;
    dst->max_per_op = src->max_per_op;
    dst->reassign_after = src->reassign_after;
    dst->close_after = src->close_after;
    dst->has_hours = src->has_hours;
    dst->utc_off_min = src->utc_off_min;
    memcpy(dst->open_min, src->open_min, sizeof dst->open_min);
    memcpy(dst->close_min, src->close_min, sizeof dst->close_min);
    dst->req_level = src->req_level;
}

/* dst gets copies of src's stored fields (strings duplicated). */
static sb_status fields_copy(rt_group *dst, const rt_group *src)
{
    settings_copy(dst, src);
    dst->created_at = src->created_at;
    dst->name = sb_eng_xstrdup(src->name);
    dst->close_msg = sb_eng_xstrdup(src->close_msg);
    dst->queue_msg = sb_eng_xstrdup(src->queue_msg);
    dst->offline_msg = sb_eng_xstrdup(src->offline_msg);
    dst->hours_json = sb_eng_xstrdup(src->hours_json);
    dst->req_skill = sb_eng_xstrdup(src->req_skill);
    dst->bot = sb_eng_xstrdup(src->bot);
    if ((src->bot && !dst->bot) || (src->name && !dst->name) || (src->close_msg && !dst->close_msg) ||
        (src->queue_msg && !dst->queue_msg) || (src->offline_msg && !dst->offline_msg) ||
        (src->hours_json && !dst->hours_json) || (src->req_skill && !dst->req_skill)) {
        fields_free(dst);
        return SB_ERR_NOMEM;
    }
    return SB_OK;
}

/* Moves the stored fields of src into dst (dst's old ones freed). */
static void fields_move(rt_group *dst, rt_group *src)
{
    fields_free(dst);
    dst->name = src->name;
    dst->close_msg = src->close_msg;
    dst->queue_msg = src->queue_msg;
    dst->offline_msg = src->offline_msg;
    dst->hours_json = src->hours_json;
    dst->req_skill = src->req_skill;
    dst->bot = src->bot;
    src->name = src->close_msg = src->queue_msg = src->offline_msg = src->hours_json =
        src->req_skill = src->bot = NULL;
    settings_copy(dst, src);
}

void sb_eng_group_free(rt_group *g)
{
    if (!g) return;
    fields_free(g);
    sb_eng_rt_group_sets_free(g);
    free(g->members);
    free(g->id);
    free(g);
}

static sb_status group_save(sb_engine *e, const rt_group *g)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, GROUP_V, GROUP_N);
    sb_rec_str(w, g->name);
    sb_rec_str(w, sb_eng_rt_strategy_name(g->strategy));
    sb_rec_u64(w, g->max_per_op);
    sb_rec_i64(w, g->reassign_after);
    sb_rec_i64(w, g->close_after);
    sb_rec_str(w, g->close_msg);
    sb_rec_str(w, g->queue_msg);
    sb_rec_str(w, g->offline_msg);
    sb_rec_str(w, g->hours_json);
    sb_rec_str(w, g->req_skill);
    sb_rec_i64(w, g->req_level);
    sb_rec_i64(w, g->created_at);
    sb_rec_str(w, g->bot);
    return sb_eng_rec_put(e, TB_GROUPS, g->id, strlen(g->id));
}

static sb_status group_decode(const void *val, size_t len, rt_group *g)
{
    sb_rec_reader r;
    if (sb_rec_open(&r, val, len) != SB_OK) return SB_ERR_IO;
    bool nomem = false;
    g->name = sb_eng_rd_dup(&r, &nomem);
    char *strategy = sb_eng_rd_dup(&r, &nomem);
    g->strategy = strategy ? sb_eng_rt_strategy(strategy) : RT_LEAST_BUSY;
    free(strategy);
    if (g->strategy < 0) g->strategy = RT_LEAST_BUSY;
    uint64_t max = sb_rec_next_u64(&r, 3);
    g->max_per_op = max < 1 ? 1 : max > 1000 ? 1000 : (uint32_t)max;
    g->reassign_after = sb_rec_next_i64(&r, 0);
    g->close_after = sb_rec_next_i64(&r, 0);
    g->close_msg = sb_eng_rd_dup(&r, &nomem);
    g->queue_msg = sb_eng_rd_dup(&r, &nomem);
    g->offline_msg = sb_eng_rd_dup(&r, &nomem);
    g->hours_json = sb_eng_rd_dup(&r, &nomem);
    g->req_skill = sb_eng_rd_dup(&r, &nomem);
    g->req_level = (int)sb_rec_next_i64(&r, 0);
    g->created_at = sb_rec_next_i64(&r, 0);
    g->bot = sb_eng_rd_dup(&r, &nomem);
    sb_status s = sb_rec_close(&r) != SB_OK ? SB_ERR_IO : nomem ? SB_ERR_NOMEM : SB_OK;
    if (s == SB_OK && g->hours_json) {
        json_t *h = json_loads(g->hours_json, 0, NULL);
        if (!h || sb_eng_rt_hours_parse(h, g, NULL, 0) != SB_OK) {
            sb_warn("engine", "group %s: stored business hours unreadable; always open", g->id);
            g->has_hours = false;
        }
        json_decref(h);
    }
    return s;
}

/* ---- the table ---------------------------------------------------------- */

static size_t lower_bound(sb_engine *e, const char *id)
{
    size_t lo = 0, hi = e->rt.n_groups;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(e->rt.groups[mid]->id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

rt_group *sb_eng_rt_group(sb_engine *e, const char *id)
{
    if (!id || !*id) return NULL;
    size_t i = lower_bound(e, id);
    return i < e->rt.n_groups && strcmp(e->rt.groups[i]->id, id) == 0 ? e->rt.groups[i] : NULL;
}

static sb_status table_insert(sb_engine *e, rt_group *g)
{
    rt_group **arr = realloc(e->rt.groups, (e->rt.n_groups + 1) * sizeof *arr);
    if (!arr) return SB_ERR_NOMEM;
    e->rt.groups = arr;
    size_t i = lower_bound(e, g->id);
    memmove(arr + i + 1, arr + i, (e->rt.n_groups - i) * sizeof *arr);
    arr[i] = g;
    e->rt.n_groups++;
    return SB_OK;
}

static void table_remove(sb_engine *e, rt_group *g)
{
    size_t i = lower_bound(e, g->id);
    if (i >= e->rt.n_groups || e->rt.groups[i] != g) return;
    memmove(e->rt.groups + i, e->rt.groups + i + 1, (e->rt.n_groups - i - 1) * sizeof *e->rt.groups);
    e->rt.n_groups--;
}

typedef struct load_ctx {
    sb_engine *e;
    sb_status s;
} load_ctx;

static int load_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    load_ctx *L = ud;
    rt_group *g = calloc(1, sizeof *g);
    if (g) g->id = strndup(key, klen);
    if (!g || !g->id) {
        if (g) free(g);
        L->s = SB_ERR_NOMEM;
        return 1;
    }
    sb_status s = group_decode(val, vlen, g);
    if (s == SB_OK) s = table_insert(L->e, g);
    if (s != SB_OK) {
        sb_error("engine", "stored group %s unreadable (%d): skipped", g->id, (int)s);
        sb_eng_group_free(g);
        if (s == SB_ERR_NOMEM) { L->s = s; return 1; }
    }
    return 0;
}

sb_status sb_eng_groups_load(sb_engine *e)
{
    load_ctx L = {e, SB_OK};
    long n = sb_store_scan(e->st, TBL(e, TB_GROUPS), NULL, 0, NULL, 0, false, 0, load_one, &L);
    if (n < 0) return (sb_status)n;
    for (size_t i = 0; L.s == SB_OK && i < e->rt.n_groups; i++)
        L.s = sb_eng_rt_stats_load(e, e->rt.groups[i]);
    return L.s;
}

/* ---- JSON ---------------------------------------------------------------- */

json_t *sb_eng_group_json(sb_engine *e, const rt_group *g)
{
    json_t *hours = g->hours_json ? json_loads(g->hours_json, 0, NULL) : json_null();
    json_t *skill = g->req_skill
                        ? json_pack("{s:s, s:i}", "name", g->req_skill, "level", g->req_level)
                        : json_null();
    json_t *o = json_pack("{s:s, s:s?, s:s, s:i, s:I, s:I, s:s?, s:s?, s:s?, s:o?, s:o?, s:s?, s:o}",
                          "id", g->id, "name", g->name, "strategy",
                          sb_eng_rt_strategy_name(g->strategy), "max_per_operator",
                          (int)g->max_per_op, "reassign_after", (json_int_t)g->reassign_after,
                          "close_after", (json_int_t)g->close_after, "close_message",
                          g->close_msg, "queue_message", g->queue_msg, "offline_message",
                          g->offline_msg, "business_hours", hours, "required_skill", skill,
                          "bot", g->bot, "created_at", sb_eng_json_time(g->created_at));
    json_t *st = o ? sb_eng_rt_stats_json(e, (rt_group *)g) : NULL;
    if (!o || !st || json_object_update(o, st) != 0) {
        json_decref(o);
        o = NULL;
    }
    json_decref(st);
    return o;
}

/* ---- input --------------------------------------------------------------- */

/* Applies a body to d (a copy of the group's stored fields). */
static sb_status apply(json_t *o, rt_group *d, char *err, size_t errlen)
{
    sb_status s = sb_eng_only(o, k_keys, err, errlen);
    const char *str = NULL;
    bool set;
    int64_t v;
    if (s == SB_OK && (s = sb_eng_in_str(o, "name", 1, 256, false, &str, &set, err, errlen)) == SB_OK &&
        set && sb_eng_set_str(&d->name, str) != SB_OK)
        s = SB_ERR_NOMEM;
    if (s == SB_OK && (s = sb_eng_in_str(o, "strategy", 1, 32, false, &str, &set, err, errlen)) == SB_OK &&
        set) {
        int st = sb_eng_rt_strategy(str);
        if (st < 0)
            s = sb_eng_bad(err, errlen, "strategy",
                           "must be least_busy, round_robin, longest_idle, skills or manual");
        else d->strategy = st;
    }
    if (s == SB_OK && (s = sb_eng_in_int(o, "max_per_operator", 1, 1000, &v, &set, err, errlen)) == SB_OK && set)
        d->max_per_op = (uint32_t)v;
    if (s == SB_OK && (s = sb_eng_in_int(o, "reassign_after", 0, 30 * DAY_MS, &v, &set, err, errlen)) == SB_OK && set)
        d->reassign_after = v;
    if (s == SB_OK && (s = sb_eng_in_int(o, "close_after", 0, 30 * DAY_MS, &v, &set, err, errlen)) == SB_OK && set)
        d->close_after = v;
    static const char *const msgs[3] = {"close_message", "queue_message", "offline_message"};
    char **dst[3] = {&d->close_msg, &d->queue_msg, &d->offline_msg};
    for (int i = 0; i < 3 && s == SB_OK; i++) {
        str = NULL;
        if ((s = sb_eng_in_str(o, msgs[i], 0, MAX_MSG, true, &str, &set, err, errlen)) == SB_OK && set) {
            if (str && !sb_eng_utf8_valid(str, strlen(str))) s = sb_eng_bad(err, errlen, msgs[i], "not UTF-8");
            else if (sb_eng_set_str(dst[i], str && *str ? str : NULL) != SB_OK) s = SB_ERR_NOMEM;
        }
    }
    json_t *h = json_object_get(o, "business_hours");
    if (s == SB_OK && h) {
        s = sb_eng_rt_hours_parse(h, d, err, errlen);
        char *txt = s == SB_OK && d->has_hours ? json_dumps(h, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (s == SB_OK && d->has_hours && !txt) s = SB_ERR_NOMEM;
        if (s == SB_OK) { free(d->hours_json); d->hours_json = txt; }
    }
    str = NULL;
    if (s == SB_OK && (s = sb_eng_in_str(o, "bot", 0, 2 * RT_ID_MAX + 1, true, &str, &set, err,
                                         errlen)) == SB_OK && set) {
        if (str && *str && !sb_is_instance_ref(str))
            s = sb_eng_bad(err, errlen, "bot", "must be \"<plugin>/<instance>\" or null");
        else if (sb_eng_set_str(&d->bot, str && *str ? str : NULL) != SB_OK)
            s = SB_ERR_NOMEM;
    }
    json_t *rs = json_object_get(o, "required_skill");
    if (s == SB_OK && rs) {
        if (json_is_null(rs)) {
            free(d->req_skill);
            d->req_skill = NULL;
            d->req_level = 0;
        } else if (!json_is_object(rs)) {
            s = sb_eng_bad(err, errlen, "required_skill", "must be {name, level} or null");
        } else {
            static const char *const rk[] = {"name", "level", NULL};
            int64_t lvl = 1;
            str = NULL;
            if ((s = sb_eng_only(rs, rk, err, errlen)) == SB_OK &&
                (s = sb_eng_in_str(rs, "name", 1, RT_ID_MAX, false, &str, &set, err, errlen)) == SB_OK &&
                (s = sb_eng_in_int(rs, "level", 0, RT_LEVELS - 1, &lvl, NULL, err, errlen)) == SB_OK) {
                if (!str) s = sb_eng_bad(err, errlen, "required_skill.name", "required");
                else if (sb_eng_set_str(&d->req_skill, str) != SB_OK) s = SB_ERR_NOMEM;
                else d->req_level = (int)lvl;
            }
        }
    }
    return s;
}

static sb_status emit_group(sb_engine *e, const char *type, json_t *gj)
{
    return sb_eng_emit_obj(e, type, "group", gj);
}

static sb_status create(sb_engine *e, const char *id, json_t *o, char **out, char *err,
                        size_t errlen)
{
    char gen[21];
    if (!id) id = sb_id_str(sb_id_next(), gen);
    if (sb_eng_rt_group(e, id)) return SB_ERR_EXISTS;
    rt_group *g = calloc(1, sizeof *g);
    if (!g || !(g->id = strdup(id))) {
        free(g);
        return SB_ERR_NOMEM;
    }
    g->strategy = RT_LEAST_BUSY;
    g->max_per_op = 3;
    g->created_at = sb_eng_now();
    sb_status s = o ? apply(o, g, err, errlen) : SB_OK;
    if (s == SB_OK && !g->name && !(g->name = strdup(g->id))) s = SB_ERR_NOMEM;
    if (s == SB_OK) s = group_save(e, g);
    if (s == SB_OK) s = table_insert(e, g);
    if (s != SB_OK) {
        sb_eng_group_free(g);
        return s;
    }
    s = emit_group(e, "group.created", sb_eng_group_json(e, g));
    if (s == SB_OK && out) s = sb_eng_json_take(sb_eng_group_json(e, g), out);
    return s;
}

sb_status sb_engine_group_create(sb_engine *e, const char *json, size_t len, char **out,
                                 char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    json_t *o = sb_eng_body(json, len, err, errlen);
    if (!o) return SB_ERR_INVALID;
    const char *id = NULL;
    sb_status s = sb_eng_in_str(o, "id", 1, RT_ID_MAX, false, &id, NULL, err, errlen);
    if (s == SB_OK && id && !sb_eng_slug_ok(id))
        s = sb_eng_bad(err, errlen, "id", "letters, digits, _ and - only");
    if (s == SB_OK) s = create(e, id, o, out, err, errlen);
    json_decref(o);
    return s;
}

/* Members leave the sets before a change of strategy or limits and come
 * back after it, filed by the new keys. */
static void members_unindex(sb_engine *e, rt_group *g)
{
    for (size_t i = 0; i < g->n_members; i++) sb_eng_rt_unindex_op(e, g->members[i]);
    sb_eng_rt_group_sets_free(g);
}

static void members_reindex(sb_engine *e, rt_group *g)
{
    for (size_t i = 0; i < g->n_members; i++) sb_eng_rt_reindex_op(e, g->members[i]);
    sb_eng_rt_touch(e, g, true);
    sb_eng_rt_kick_group(e, g);
}

sb_status sb_engine_group_update(sb_engine *e, const char *id, const char *json, size_t len,
                                 char **out, char *err, size_t errlen)
{
    if (!e || !id || !out) return SB_ERR_INVALID;
    *out = NULL;
    rt_group *g = sb_eng_rt_group(e, id);
    if (!g) return SB_ERR_NOT_FOUND;
    json_t *o = sb_eng_body(json, len, err, errlen);
    if (!o) return SB_ERR_INVALID;
    const char *nid = NULL;
    sb_status s = sb_eng_in_str(o, "id", 0, 1024, false, &nid, NULL, err, errlen);
    if (s == SB_OK && nid && strcmp(nid, g->id) != 0) s = sb_eng_bad(err, errlen, "id", "cannot change");
    rt_group d;
    memset(&d, 0, sizeof d);
    if (s == SB_OK) s = fields_copy(&d, g);
    if (s == SB_OK) {
        s = apply(o, &d, err, errlen);
        if (s == SB_OK) {
            members_unindex(e, g);
            fields_move(g, &d);
            members_reindex(e, g);
            s = group_save(e, g);
        }
        fields_free(&d);
    }
    json_decref(o);
    if (s == SB_OK) s = emit_group(e, "group.updated", sb_eng_group_json(e, g));
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_group_json(e, g), out);
    sb_eng_rt_settle(e);
    return s;
}

sb_status sb_engine_group_delete(sb_engine *e, const char *id)
{
    if (!e || !id) return SB_ERR_INVALID;
    rt_group *g = sb_eng_rt_group(e, id);
    if (!g) return SB_ERR_NOT_FOUND;
    if ((e->rt.default_group && strcmp(e->rt.default_group, g->id) == 0) || g->open ||
        sb_eng_tree_size(&g->queue))
        return SB_ERR_STATE;
    json_t *gj = sb_eng_group_json(e, g);
    members_unindex(e, g);
    sb_status s = SB_OK;
    /* Each member forgets the group; resolving its memberships again takes
     * it off g->members. */
    while (g->n_members && s == SB_OK) {
        rt_op *op = g->members[g->n_members - 1];
        size_t j = 0;
        for (size_t i = 0; i < op->n_groups; i++) {
            if (strcmp(op->group_ids[i], g->id) == 0) free(op->group_ids[i]);
            else op->group_ids[j++] = op->group_ids[i];
        }
        op->n_groups = j;
        s = sb_eng_op_resolve(e, op);
        if (s == SB_OK) s = sb_eng_op_save(e, op);
        if (s == SB_OK) s = sb_eng_emit_obj(e, "operator.updated", "operator", sb_eng_op_json(op));
        sb_eng_rt_reindex_op(e, op);
    }
    table_remove(e, g);
    if (s == SB_OK) s = sb_store_del(e->st, TBL(e, TB_GROUPS), g->id, strlen(g->id));
    if (s == SB_OK) {
        sb_status ds = sb_store_del(e->st, TBL(e, TB_GROUP_STATS), g->id, strlen(g->id));
        if (ds != SB_ERR_NOT_FOUND) s = ds;
    }
    sb_eng_rt_group_gone(e, g);
    sb_eng_group_free(g);
    if (s == SB_OK) return emit_group(e, "group.deleted", gj);
    json_decref(gj);
    return s;
}

sb_status sb_engine_group_json(sb_engine *e, const char *id, char **out)
{
    if (!e || !id || !out) return SB_ERR_INVALID;
    *out = NULL;
    rt_group *g = sb_eng_rt_group(e, id);
    if (!g) return SB_ERR_NOT_FOUND;
    return sb_eng_json_take(sb_eng_group_json(e, g), out);
}

sb_status sb_engine_groups_list(sb_engine *e, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    json_t *items = json_array();
    bool ok = items != NULL;
    for (size_t i = 0; ok && i < e->rt.n_groups; i++)
        ok = json_array_append_new(items, sb_eng_group_json(e, e->rt.groups[i])) == 0;
    if (!ok) {
        json_decref(items);
        return SB_ERR_NOMEM;
    }
    return sb_eng_json_take(sb_eng_page_json(items, 0), out);
}

/* ---- config and channel instances ----------------------------------------- */

sb_status sb_engine_configure_routing(sb_engine *e, const struct sb_config *cfg, char *err,
                                      size_t errlen)
{
    if (!e || !cfg) return SB_ERR_INVALID;
    sb_status s = SB_OK;
    for (size_t i = 0; s == SB_OK && i < cfg->routing.n_groups; i++) {
        const sb_group_conf *gc = &cfg->routing.groups[i];
        if (!gc->id || sb_eng_rt_group(e, gc->id)) continue;
        if (!sb_eng_slug_ok(gc->id)) {
            sb_warn("engine", "routing.groups[%zu].id '%s': letters, digits, _ and - only; skipped",
                    i, gc->id);
            continue;
        }
        json_t *o = json_pack("{s:s?, s:s?, s:I, s:s?}", "name", gc->name, "strategy", gc->strategy,
                              "max_per_operator", (json_int_t)(gc->max_per_operator > 0 ? gc->max_per_operator : 3),
                              "bot", gc->bot);
        char *ignored = NULL;
        s = o ? create(e, gc->id, o, &ignored, err, errlen) : SB_ERR_NOMEM;
        free(ignored);
        json_decref(o);
        if (s == SB_OK) sb_info("engine", "group %s created from the config", gc->id);
    }
    if (s == SB_OK) s = sb_eng_set_str(&e->rt.default_group, cfg->routing.default_group);
    if (s == SB_OK && cfg->routing.default_group && !sb_eng_rt_group(e, cfg->routing.default_group))
        sb_warn("engine", "routing.default_group '%s' names no group yet", cfg->routing.default_group);
    sb_eng_rt_settle(e);
    return s;
}

/* The settings entry of a channel instance, added when missing. */
rt_inst_group *sb_eng_rt_inst_find(sb_engine *e, const char *plugin, const char *instance)
{
    sb_eng_rt *rt = &e->rt;
    for (size_t i = 0; i < rt->n_inst; i++)
        if (strcmp(rt->inst[i].plugin, plugin) == 0 && strcmp(rt->inst[i].instance, instance) == 0)
            return &rt->inst[i];
    return NULL;
}

rt_inst_group *sb_eng_rt_inst_entry(sb_engine *e, const char *plugin, const char *instance)
{
    sb_eng_rt *rt = &e->rt;
    rt_inst_group *found = sb_eng_rt_inst_find(e, plugin, instance);
    if (found) return found;
    rt_inst_group *arr = realloc(rt->inst, (rt->n_inst + 1) * sizeof *arr);
    if (!arr) return NULL;
    rt->inst = arr;
    rt_inst_group *it = &arr[rt->n_inst];
    memset(it, 0, sizeof *it);
    it->plugin = strdup(plugin);
    it->instance = strdup(instance);
    if (!it->plugin || !it->instance) {
        free(it->plugin);
        free(it->instance);
        return NULL;
    }
    rt->n_inst++;
    return it;
}

sb_status sb_engine_set_instance_group(sb_engine *e, const char *plugin, const char *instance,
                                       const char *group_id)
{
    if (!e || !plugin || !instance) return SB_ERR_INVALID;
    rt_inst_group *it = sb_eng_rt_inst_entry(e, plugin, instance);
    return it ? sb_eng_set_str(&it->group, group_id && *group_id ? group_id : NULL) : SB_ERR_NOMEM;
}

const char *sb_eng_rt_instance_group(sb_engine *e, const char *plugin, const char *instance)
{
    const rt_inst_group *it = sb_eng_rt_inst_find(e, plugin, instance);
    if (it && it->group) return it->group;
    return e->rt.default_group ? e->rt.default_group : "";
}
