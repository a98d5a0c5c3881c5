#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Operators: stored records (all of them also in memory: routing needs
 * their loads and sets), the login index, CRUD and status. */

enum { OP_V = 1, OP_N = 11 };

static const char *const k_keys[] = {"login", "name", "role", "groups", "max_conversations",
                                     "skills", "password", "id", NULL};
static const char *const k_status[] = {"offline", "away", "online"};

const char *sb_eng_op_status_name(int s) { return k_status[s < 0 || s > 2 ? 0 : s]; }

static int status_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, k_status[i]) == 0) return i;
    return -1;
}

static bool role_ok(const char *r)
{
    return r && (strcmp(r, "admin") == 0 || strcmp(r, "supervisor") == 0 ||
                 strcmp(r, "operator") == 0);
}

static bool login_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '@' || c == '-'))
            return false;
    }
    return true;
}

/* ---- memory -------------------------------------------------------------- */

static void mem_free(rt_op *op)
{
    for (size_t i = 0; i < op->n_mem; i++) free(op->mem[i].sk_nodes);
    free(op->mem);
    op->mem = NULL;
    op->n_mem = 0;
}

void sb_eng_op_free(rt_op *op)
{
    if (!op) return;
    mem_free(op);
    free(op->login);
    free(op->name);
    free(op->role);
    free(op->hash);
    sb_eng_strs_free(op->group_ids, op->n_groups);
    sb_eng_strs_free(op->skill_names, op->n_skills);
    free(op->skill_lv);
    free(op);
}

static void member_drop(sb_engine *e, rt_group *g, rt_op *op)
{
    for (size_t i = 0; i < g->n_members; i++) {
        if (g->members[i] != op) continue;
        g->members[i] = g->members[--g->n_members];
        if (op->status == OP_ONLINE && g->online) g->online--;
        sb_eng_rt_touch(e, g, true);
        return;
    }
}

static sb_status member_add(sb_engine *e, rt_group *g, rt_op *op)
{
    if (g->n_members == g->cap_members) {
        size_t cap = g->cap_members ? g->cap_members * 2 : 8;
        rt_op **m = realloc(g->members, cap * sizeof *m);
        if (!m) return SB_ERR_NOMEM;
        g->members = m;
        g->cap_members = cap;
    }
    g->members[g->n_members++] = op;
    if (op->status == OP_ONLINE) g->online++;
    sb_eng_rt_touch(e, g, true);
    return SB_OK;
}

sb_status sb_eng_op_resolve(sb_engine *e, rt_op *op)
{
    sb_eng_rt_unindex_op(e, op);
    for (size_t i = 0; i < op->n_mem; i++) member_drop(e, op->mem[i].g, op);
    mem_free(op);
    if (!op->n_groups) return SB_OK;
    op->mem = calloc(op->n_groups, sizeof *op->mem);
    if (!op->mem) return SB_ERR_NOMEM;
    for (size_t i = 0; i < op->n_groups; i++) {
        rt_group *g = sb_eng_rt_group(e, op->group_ids[i]);
        if (!g) continue;
        rt_member *m = &op->mem[op->n_mem];
        m->g = g;
        m->op = op;
        if (op->n_skills && !(m->sk_nodes = calloc(op->n_skills, sizeof *m->sk_nodes)))
            return SB_ERR_NOMEM;
        m->n_sk = op->n_skills;
        if (member_add(e, g, op) != SB_OK) {
            free(m->sk_nodes);
            m->sk_nodes = NULL;
            return SB_ERR_NOMEM;
        }
        op->n_mem++;
    }
    return SB_OK;
}

static sb_status list_add(sb_engine *e, rt_op *op)
{
    sb_eng_rt *rt = &e->rt;
    if (rt->n_ops == rt->cap_ops) {
        size_t cap = rt->cap_ops ? rt->cap_ops * 2 : 64;
        rt_op **l = realloc(rt->op_list, cap * sizeof *l);
        if (!l) return SB_ERR_NOMEM;
        rt->op_list = l;
        rt->cap_ops = cap;
    }
    sb_status s = sb_idmap_put(&rt->ops, op->id, (uint64_t)(uintptr_t)op);
    if (s == SB_OK) {
        op->list_idx = rt->n_ops;
        rt->op_list[rt->n_ops++] = op;
    }
    return s;
}

static void list_remove(sb_engine *e, rt_op *op)
{
    sb_eng_rt *rt = &e->rt;
    sb_idmap_del(&rt->ops, op->id);
    if (op->list_idx >= rt->n_ops || rt->op_list[op->list_idx] != op) return;
    rt_op *last = rt->op_list[--rt->n_ops];
    rt->op_list[op->list_idx] = last;
    last->list_idx = op->list_idx;
}

/* ---- records ------------------------------------------------------------- */

sb_status sb_eng_op_save(sb_engine *e, const rt_op *op)
{
    const char *lv[RT_MAX_SKILLS];
    char buf[RT_MAX_SKILLS][4];
    for (size_t i = 0; i < op->n_skills && i < RT_MAX_SKILLS; i++) {
        snprintf(buf[i], sizeof buf[i], "%u", (unsigned)op->skill_lv[i]);
        lv[i] = buf[i];
    }
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, OP_V, OP_N);
    sb_rec_str(w, op->login);
    sb_rec_str(w, op->name);
    sb_rec_str(w, op->role);
    sb_rec_str_array(w, (const char *const *)op->group_ids, op->n_groups);
    sb_rec_u64(w, op->max);
    sb_rec_map(w, (const char *const *)op->skill_names, lv, op->n_skills);
    sb_rec_str(w, op->hash);
    sb_rec_str(w, sb_eng_op_status_name(op->status));
    sb_rec_i64(w, op->last_assigned_at);
    sb_rec_i64(w, op->status_since);
    sb_rec_i64(w, op->created_at);
    return sb_eng_rec_put_id(e, TB_OPERATORS, op->id);
}

static sb_status op_decode(const void *val, size_t len, rt_op *op)
{
    sb_rec_reader r;
    if (sb_rec_open(&r, val, len) != SB_OK) return SB_ERR_IO;
    bool nomem = false;
    op->login = sb_eng_rd_dup(&r, &nomem);
    op->name = sb_eng_rd_dup(&r, &nomem);
    op->role = sb_eng_rd_dup(&r, &nomem);
    const char *const *items, *const *keys, *const *vals;
    size_t n;
    sb_status s = sb_rec_next_str_array(&r, &items, &n);
    if (s == SB_OK && (s = sb_eng_strs_dup(items, n, &op->group_ids)) == SB_OK) op->n_groups = n;
    uint64_t max = sb_rec_next_u64(&r, 5);
    op->max = max < 1 ? 1 : max > 1000 ? 1000 : (uint32_t)max;
    if (s == SB_OK) s = sb_rec_next_map(&r, &keys, &vals, &n);
    if (s == SB_OK && n) {
        if (n > RT_MAX_SKILLS) n = RT_MAX_SKILLS;
        op->skill_lv = calloc(n, 1);
        if (!op->skill_lv || sb_eng_strs_dup(keys, n, &op->skill_names) != SB_OK) s = SB_ERR_NOMEM;
        for (size_t i = 0; s == SB_OK && i < n; i++) {
            int l = vals[i] ? atoi(vals[i]) : 0;
            op->skill_lv[i] = (uint8_t)(l < 0 ? 0 : l >= RT_LEVELS ? RT_LEVELS - 1 : l);
        }
        if (s == SB_OK) op->n_skills = n;
    }
    op->hash = sb_eng_rd_dup(&r, &nomem);
    size_t sl;
    const char *st = sb_rec_next_str(&r, &sl);
    char sbuf[16] = "offline";
    if (st && sl < sizeof sbuf) { memcpy(sbuf, st, sl); sbuf[sl] = '\0'; }
    op->status = status_parse(sbuf) < 0 ? OP_OFFLINE : status_parse(sbuf);
    op->last_assigned_at = sb_rec_next_i64(&r, 0);
    op->status_since = sb_rec_next_i64(&r, 0);
    op->created_at = sb_rec_next_i64(&r, 0);
    if (sb_rec_close(&r) != SB_OK && s == SB_OK) s = SB_ERR_IO;
    if (s == SB_OK && nomem) s = SB_ERR_NOMEM;
    if (s == SB_OK && (!op->login || !op->role)) s = SB_ERR_IO;
    return s;
}

typedef struct load_ctx {
    sb_engine *e;
    sb_status s;
} load_ctx;

static int load_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    load_ctx *L = ud;
    if (klen != 8) return 0;
    rt_op *op = calloc(1, sizeof *op);
    if (!op) { L->s = SB_ERR_NOMEM; return 1; }
    op->id = sb_key_get_u64(key);
    sb_status s = op_decode(val, vlen, op);
    if (s == SB_OK) s = list_add(L->e, op);
    if (s != SB_OK) {
        char ids[21];
        sb_error("engine", "stored operator %s unreadable (%d): skipped", sb_id_str(op->id, ids), (int)s);
        sb_eng_op_free(op);
        if (s == SB_ERR_NOMEM) { L->s = s; return 1; }
    }
    return 0;
}

sb_status sb_eng_ops_load(sb_engine *e)
{
    load_ctx L = {e, SB_OK};
    long n = sb_store_scan(e->st, TBL(e, TB_OPERATORS), NULL, 0, NULL, 0, false, 0, load_one, &L);
    if (n < 0) return (sb_status)n;
    for (size_t i = 0; L.s == SB_OK && i < e->rt.n_ops; i++)
        L.s = sb_eng_op_resolve(e, e->rt.op_list[i]);
    return L.s;
}

/* ---- JSON ------------------------------------------------------------------ */

json_t *sb_eng_op_json(const rt_op *op)
{
    json_t *groups = json_array(), *skills = json_object();
    bool ok = groups && skills;
    for (size_t i = 0; ok && i < op->n_groups; i++)
        ok = json_array_append_new(groups, json_string(op->group_ids[i])) == 0;
    for (size_t i = 0; ok && i < op->n_skills; i++)
        ok = json_object_set_new(skills, op->skill_names[i], json_integer(op->skill_lv[i])) == 0;
    if (!ok) {
        json_decref(groups);
        json_decref(skills);
        return NULL;
    }
    return json_pack("{s:o, s:s, s:s?, s:s, s:o, s:i, s:o, s:s, s:i, s:o, s:o, s:o}",
                     "id", sb_eng_json_id(op->id), "login", op->login, "name", op->name,
                     "role", op->role, "groups", groups, "max_conversations", (int)op->max,
                     "skills", skills, "status", sb_eng_op_status_name(op->status), "load",
                     (int)op->load, "status_since", sb_eng_json_time(op->status_since),
                     "last_assigned_at", sb_eng_json_time(op->last_assigned_at),
                     "created_at", sb_eng_json_time(op->created_at));
}

/* ---- input ----------------------------------------------------------------- */

typedef struct op_draft {
    const char *login, *name, *role;
    bool has_groups, has_skills, has_max, has_name;
    char **groups;
    size_t n_groups;
    char **skills;
    uint8_t lv[RT_MAX_SKILLS];
    size_t n_skills;
    int64_t max;
} op_draft;

static void draft_free(op_draft *d)
{
    sb_eng_strs_free(d->groups, d->n_groups);
    sb_eng_strs_free(d->skills, d->n_skills);
}

static sb_status parse(sb_engine *e, json_t *o, op_draft *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    sb_status s = sb_eng_only(o, k_keys, err, errlen);
    if (s == SB_OK) s = sb_eng_in_str(o, "login", 1, 64, false, &d->login, NULL, err, errlen);
    if (s == SB_OK && d->login && !login_ok(d->login))
        s = sb_eng_bad(err, errlen, "login", "letters, digits and . _ @ - only, 1..64");
    if (s == SB_OK) s = sb_eng_in_str(o, "name", 0, 256, true, &d->name, &d->has_name, err, errlen);
    if (s == SB_OK && d->name && !sb_eng_utf8_valid(d->name, strlen(d->name)))
        s = sb_eng_bad(err, errlen, "name", "not UTF-8");
    if (s == SB_OK) s = sb_eng_in_str(o, "role", 1, 16, false, &d->role, NULL, err, errlen);
    if (s == SB_OK && d->role && !role_ok(d->role))
        s = sb_eng_bad(err, errlen, "role", "must be admin, supervisor or operator");
    if (s == SB_OK)
        s = sb_eng_in_int(o, "max_conversations", 1, 1000, &d->max, &d->has_max, err, errlen);
    json_t *g = json_object_get(o, "groups");
    if (s == SB_OK && g) {
        d->has_groups = true;
        if (!json_is_array(g) || json_array_size(g) > RT_MAX_GROUPS_PER_OP)
            return sb_eng_bad(err, errlen, "groups", "must be an array of at most %d group ids",
                              RT_MAX_GROUPS_PER_OP);
        d->groups = calloc(json_array_size(g) + 1, sizeof *d->groups);
        if (!d->groups) return SB_ERR_NOMEM;
        size_t i;
        json_t *v;
        json_array_foreach(g, i, v) {
            const char *id = json_string_value(v);
            if (!id) return sb_eng_bad(err, errlen, "groups", "item %zu is not a string", i);
            if (!sb_eng_rt_group(e, id)) return sb_eng_bad(err, errlen, "groups", "no group '%s'", id);
            bool dup = false;
            for (size_t j = 0; j < d->n_groups && !dup; j++) dup = strcmp(d->groups[j], id) == 0;
            if (dup) continue;
            if (!(d->groups[d->n_groups] = strdup(id))) return SB_ERR_NOMEM;
            d->n_groups++;
        }
    }
    json_t *sk = json_object_get(o, "skills");
    if (s == SB_OK && sk) {
        d->has_skills = true;
        if (!json_is_object(sk) || json_object_size(sk) > RT_MAX_SKILLS)
            return sb_eng_bad(err, errlen, "skills", "must be an object of at most %d {name: level}",
                              RT_MAX_SKILLS);
        d->skills = calloc(json_object_size(sk) + 1, sizeof *d->skills);
        if (!d->skills) return SB_ERR_NOMEM;
        const char *k;
        json_t *v;
        json_object_foreach(sk, k, v) {
            if (!*k || strlen(k) > RT_ID_MAX || !sb_eng_utf8_valid(k, strlen(k)))
                return sb_eng_bad(err, errlen, "skills", "names must be 1..64 bytes");
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) >= RT_LEVELS)
                return sb_eng_bad(err, errlen, "skills", "%s: level must be an integer 0..10", k);
            if (!(d->skills[d->n_skills] = strdup(k))) return SB_ERR_NOMEM;
            d->lv[d->n_skills++] = (uint8_t)json_integer_value(v);
        }
    }
    return s;
}

static sb_status login_get(sb_engine *e, const char *login, uint64_t *id)
{
    unsigned char v[8];
    size_t vlen;
    sb_status s = sb_store_get(e->st, TBL(e, TB_OP_LOGINS), login, strlen(login), v, sizeof v, &vlen);
    if (s == SB_OK && vlen != 8) s = SB_ERR_IO;
    if (s == SB_OK) *id = sb_key_get_u64(v);
    return s;
}

static sb_status login_put(sb_engine *e, const char *login, uint64_t id)
{
    unsigned char v[8];
    sb_key_put_u64(v, id);
    return sb_store_put(e->st, TBL(e, TB_OP_LOGINS), login, strlen(login), v, sizeof v);
}

/* Moves the draft's groups/skills/max into op (memberships resolved). */
static sb_status adopt(sb_engine *e, rt_op *op, op_draft *d)
{
    sb_eng_rt_unindex_op(e, op);
    if (d->has_groups) {
        sb_eng_strs_free(op->group_ids, op->n_groups);
        op->group_ids = d->groups;
        op->n_groups = d->n_groups;
        d->groups = NULL;
        d->n_groups = 0;
    }
    if (d->has_skills) {
        uint8_t *lv = d->n_skills ? malloc(d->n_skills) : NULL;
        if (d->n_skills && !lv) return SB_ERR_NOMEM;
        if (lv) memcpy(lv, d->lv, d->n_skills);
        sb_eng_strs_free(op->skill_names, op->n_skills);
        free(op->skill_lv);
        op->skill_names = d->skills;
        op->skill_lv = lv;
        op->n_skills = d->n_skills;
        d->skills = NULL;
        d->n_skills = 0;
    }
    if (d->has_max) op->max = (uint32_t)d->max;
    sb_status s = sb_eng_op_resolve(e, op);
    sb_eng_rt_reindex_op(e, op);
    sb_eng_rt_kick_op(e, op);
    return s;
}

sb_status sb_engine_operator_create(sb_engine *e, const char *json, size_t len,
                                    const char *password_hash, char **out, char *err,
                                    size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    if (password_hash && strlen(password_hash) > 512)
        return sb_eng_bad(err, errlen, "password", "hash over 512 bytes");
    json_t *o = sb_eng_body(json, len, err, errlen);
    if (!o) return SB_ERR_INVALID;
    op_draft d;
    sb_status s = parse(e, o, &d, err, errlen);
    if (s == SB_OK && json_object_get(o, "id")) s = sb_eng_bad(err, errlen, "id", "is assigned by the server");
    if (s == SB_OK && !d.login) s = sb_eng_bad(err, errlen, "login", "required");
    uint64_t other;
    if (s == SB_OK) {
        sb_status ls = login_get(e, d.login, &other);
        if (ls == SB_OK) s = SB_ERR_EXISTS;
        else if (ls != SB_ERR_NOT_FOUND) s = ls;
    }
    rt_op *op = NULL;
    if (s == SB_OK && !(op = calloc(1, sizeof *op))) s = SB_ERR_NOMEM;
    if (s == SB_OK) {
        op->id = sb_id_next();
        op->created_at = op->status_since = sb_eng_now();
        op->status = OP_OFFLINE;
        op->max = 5;
        op->login = strdup(d.login);
        op->name = sb_eng_xstrdup(d.name ? d.name : d.login);
        op->role = strdup(d.role ? d.role : "operator");
        op->hash = strdup(password_hash ? password_hash : "");
        if (!op->login || !op->name || !op->role || !op->hash) s = SB_ERR_NOMEM;
    }
    if (s == SB_OK) s = list_add(e, op);
    if (s == SB_OK) s = adopt(e, op, &d);
    if (s == SB_OK) s = sb_eng_op_save(e, op);
    if (s == SB_OK) s = login_put(e, op->login, op->id);
    if (s == SB_OK) s = sb_eng_emit_obj(e, "operator.created", "operator", sb_eng_op_json(op));
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_op_json(op), out);
    else if (op) {
        sb_eng_rt_unindex_op(e, op);
        for (size_t i = 0; i < op->n_mem; i++) member_drop(e, op->mem[i].g, op);
        list_remove(e, op);
        sb_eng_op_free(op);
    }
    draft_free(&d);
    json_decref(o);
    sb_eng_rt_settle(e);
    return s;
}

static rt_op *find(sb_engine *e, const char *id)
{
    uint64_t n = id ? sb_id_parse(id) : 0;
    return n ? sb_eng_rt_op(e, n) : NULL;
}

sb_status sb_engine_operator_update(sb_engine *e, const char *id, const char *json, size_t len,
                                    const char *password_hash, char **out, char *err,
                                    size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    rt_op *op = find(e, id);
    if (!op) return SB_ERR_NOT_FOUND;
    if (password_hash && strlen(password_hash) > 512)
        return sb_eng_bad(err, errlen, "password", "hash over 512 bytes");
    json_t *o = sb_eng_body(json, len, err, errlen);
    if (!o) return SB_ERR_INVALID;
    op_draft d;
    sb_status s = parse(e, o, &d, err, errlen);
    json_t *idv = json_object_get(o, "id");
    if (s == SB_OK && idv && (!json_is_string(idv) || strcmp(json_string_value(idv), id) != 0))
        s = sb_eng_bad(err, errlen, "id", "cannot change");
    bool new_login = s == SB_OK && d.login && strcmp(d.login, op->login) != 0;
    uint64_t other;
    if (new_login) {
        sb_status ls = login_get(e, d.login, &other);
        if (ls == SB_OK) s = SB_ERR_EXISTS;
        else if (ls != SB_ERR_NOT_FOUND) s = ls;
    }
    if (s == SB_OK && new_login) {
        sb_status ds = sb_store_del(e->st, TBL(e, TB_OP_LOGINS), op->login, strlen(op->login));
        if (ds != SB_OK && ds != SB_ERR_NOT_FOUND) s = ds;
        if (s == SB_OK) s = login_put(e, d.login, op->id);
        if (s == SB_OK) s = sb_eng_set_str(&op->login, d.login);
    }
    if (s == SB_OK && d.has_name) s = sb_eng_set_str(&op->name, d.name ? d.name : op->login);
    if (s == SB_OK && d.role) s = sb_eng_set_str(&op->role, d.role);
    if (s == SB_OK && password_hash) s = sb_eng_set_str(&op->hash, password_hash);
    if (s == SB_OK) s = adopt(e, op, &d);
    if (s == SB_OK) s = sb_eng_op_save(e, op);
    if (s == SB_OK) s = sb_eng_emit_obj(e, "operator.updated", "operator", sb_eng_op_json(op));
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_op_json(op), out);
    draft_free(&d);
    json_decref(o);
    sb_eng_rt_settle(e);
    return s;
}

sb_status sb_engine_operator_delete(sb_engine *e, const char *id)
{
    if (!e) return SB_ERR_INVALID;
    rt_op *op = find(e, id);
    if (!op) return SB_ERR_NOT_FOUND;
    /* Out of every set first, so that its own conversations do not come
     * straight back to it. */
    for (size_t i = 0; i < op->n_mem; i++) {
        if (op->status == OP_ONLINE && op->mem[i].g->online) op->mem[i].g->online--;
        sb_eng_rt_touch(e, op->mem[i].g, true);
    }
    op->status = OP_OFFLINE;
    sb_eng_rt_unindex_op(e, op);
    json_t *oj = sb_eng_op_json(op);
    sb_status s = sb_eng_rt_release_op(e, op, true);
    unsigned char k[8];
    sb_key_put_u64(k, op->id);
    if (s == SB_OK) s = sb_store_del(e->st, TBL(e, TB_OPERATORS), k, sizeof k);
    if (s == SB_OK) {
        sb_status ds = sb_store_del(e->st, TBL(e, TB_OP_LOGINS), op->login, strlen(op->login));
        if (ds != SB_ERR_NOT_FOUND) s = ds;
    }
    if (s != SB_OK) {
        json_decref(oj);
        sb_eng_rt_settle(e);
        return s;
    }
    for (size_t i = 0; i < op->n_mem; i++) member_drop(e, op->mem[i].g, op);
    sb_eng_tree_remove(&e->rt.timers, &op->grace);
    list_remove(e, op);
    /* settle may still hold it in its list of operators to look at */
    for (size_t i = 0; i < e->rt.n_kick_ops; i++)
        if (e->rt.kick_ops[i] == op) e->rt.kick_ops[i] = e->rt.kick_ops[--e->rt.n_kick_ops];
    sb_eng_op_free(op);
    s = sb_eng_emit_obj(e, "operator.deleted", "operator", oj);
    sb_eng_rt_settle(e);
    return s;
}

sb_status sb_engine_operator_json(sb_engine *e, const char *id, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    rt_op *op = find(e, id);
    return op ? sb_eng_json_take(sb_eng_op_json(op), out) : SB_ERR_NOT_FOUND;
}

static json_t *page_item(sb_engine *e, uint64_t id, const void *val, size_t vlen)
{
    (void)val;
    (void)vlen;
    rt_op *op = sb_eng_rt_op(e, id); /* the loaded operator is the truth */
    return op ? sb_eng_op_json(op) : NULL;
}

sb_status sb_engine_operators_list(sb_engine *e, const char *cursor, size_t limit, char **out)
{
    return sb_eng_id_page(e, TB_OPERATORS, cursor, limit, page_item, out);
}

sb_status sb_engine_operator_by_login(sb_engine *e, const char *login, sb_operator_auth *out)
{
    if (!e || !login || !out) return SB_ERR_INVALID;
    memset(out, 0, sizeof *out);
    uint64_t id;
    sb_status s = login_get(e, login, &id);
    if (s != SB_OK) return s;
    rt_op *op = sb_eng_rt_op(e, id);
    if (!op) return SB_ERR_NOT_FOUND;
    sb_id_str(op->id, out->id);
    snprintf(out->role, sizeof out->role, "%s", op->role);
    out->hash = strdup(op->hash ? op->hash : "");
    return out->hash ? SB_OK : SB_ERR_NOMEM;
}

sb_status sb_engine_operator_set_status(sb_engine *e, const char *id, const char *status,
                                        char **out)
{
    if (!e || !status) return SB_ERR_INVALID;
    if (out) *out = NULL;
    int ns = status_parse(status);
    if (ns < 0) return SB_ERR_INVALID;
    rt_op *op = find(e, id);
    if (!op) return SB_ERR_NOT_FOUND;
    sb_status s = SB_OK;
    int was = op->status;
    if (ns != was) {
        for (size_t i = 0; i < op->n_mem; i++) {
            rt_group *g = op->mem[i].g;
            if (was == OP_ONLINE && g->online) g->online--;
            if (ns == OP_ONLINE) g->online++;
            sb_eng_rt_touch(e, g, true);
        }
        op->status = ns;
        op->status_since = sb_eng_now();
        sb_eng_rt_reindex_op(e, op);
        sb_eng_rt_grace_arm(e, op);
        if (ns == OP_ONLINE) sb_eng_rt_kick_op(e, op);
        s = sb_eng_op_save(e, op);
        json_t *ev = sb_eng_event_new("operator.status");
        if (s == SB_OK && (!ev || json_object_set_new(ev, "operator", sb_eng_op_json(op)) != 0 ||
                           json_object_set_new(ev, "previous", json_string(sb_eng_op_status_name(was))) != 0))
            s = SB_ERR_NOMEM;
        if (s == SB_OK) s = sb_eng_emit(e, ev);
        else json_decref(ev);
    }
    sb_eng_rt_settle(e);
    if (s == SB_OK && out) s = sb_eng_json_take(sb_eng_op_json(op), out);
    return s;
}
