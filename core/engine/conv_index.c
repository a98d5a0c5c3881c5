#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

/* Conversation list indexes (table conv_idx), newest first by id:
 *   'c' client(8) conv(8)      's' status(1) conv(8)
 *   'g' group "\0" conv(8)     'o' operator(8) conv(8)
 * every value the summary status(1) operator(8) group, so that a page
 * filters on the other criteria without loading records. A page scans at
 * most SCAN_MAX keys of the most selective index: a page may come back
 * short with a next_cursor when filters reject many (bounded work). */

enum { SCAN_MAX = 2000, KEY_MAX = 2 + RT_ID_MAX + 16 };

static unsigned char status_byte(const char *s)
{
    if (!s) return 'x';
    if (strcmp(s, "queued") == 0) return 'q';
    if (strcmp(s, "assigned") == 0) return 'a';
    if (strcmp(s, "bot") == 0) return 'b';
    if (strcmp(s, "closed") == 0) return 'c';
    return 'x';
}

static size_t key_c(unsigned char *k, uint64_t client, uint64_t conv)
{
    k[0] = 'c';
    sb_key_put_u64(k + 1, client);
    sb_key_put_u64(k + 9, conv);
    return 17;
}

static size_t key_s(unsigned char *k, unsigned char st, uint64_t conv)
{
    k[0] = 's';
    k[1] = st;
    sb_key_put_u64(k + 2, conv);
    return 10;
}

static size_t key_g(unsigned char *k, const char *group, uint64_t conv)
{
    size_t n = strlen(group);
    if (n > RT_ID_MAX) n = RT_ID_MAX;
    k[0] = 'g';
    memcpy(k + 1, group, n);
    k[1 + n] = '\0';
    sb_key_put_u64(k + 2 + n, conv);
    return 10 + n;
}

static size_t key_o(unsigned char *k, uint64_t op, uint64_t conv)
{
    k[0] = 'o';
    sb_key_put_u64(k + 1, op);
    sb_key_put_u64(k + 9, conv);
    return 17;
}

static sb_status del(sb_engine *e, const unsigned char *k, size_t n)
{
    sb_status s = sb_store_del(e->st, TBL(e, TB_CONV_IDX), k, n);
    return s == SB_ERR_NOT_FOUND ? SB_OK : s;
}

static bool same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

sb_status sb_eng_conv_index(sb_engine *e, sb_eng_conv *c)
{
    unsigned char st = status_byte(c->status), k[KEY_MAX], v[9 + RT_ID_MAX];
    const char *group = c->group && strlen(c->group) <= RT_ID_MAX ? c->group : NULL;
    if (c->was.valid && status_byte(c->was.status) == st && same_str(c->was.group, group) &&
        c->was.op == c->operator_id && c->was.client == c->client_id)
        return SB_OK;
    sb_status s = SB_OK;
    if (c->was.valid) {
        if (c->was.client != c->client_id) s = del(e, k, key_c(k, c->was.client, c->id));
        if (s == SB_OK && status_byte(c->was.status) != st)
            s = del(e, k, key_s(k, status_byte(c->was.status), c->id));
        if (s == SB_OK && c->was.group && !same_str(c->was.group, group))
            s = del(e, k, key_g(k, c->was.group, c->id));
        if (s == SB_OK && c->was.op && c->was.op != c->operator_id)
            s = del(e, k, key_o(k, c->was.op, c->id));
    }
    size_t gl = group ? strlen(group) : 0;
    v[0] = st;
    sb_key_put_u64(v + 1, c->operator_id);
    if (gl) memcpy(v + 9, group, gl);
    size_t vl = 9 + gl;
    sb_table t = TBL(e, TB_CONV_IDX);
    if (s == SB_OK) s = sb_store_put(e->st, t, k, key_c(k, c->client_id, c->id), v, vl);
    if (s == SB_OK) s = sb_store_put(e->st, t, k, key_s(k, st, c->id), v, vl);
    if (s == SB_OK && group) s = sb_store_put(e->st, t, k, key_g(k, group, c->id), v, vl);
    if (s == SB_OK && c->operator_id) s = sb_store_put(e->st, t, k, key_o(k, c->operator_id, c->id), v, vl);
    if (s == SB_OK) {
        c->was.status = c->status;
        c->was.group = group;
        c->was.op = c->operator_id;
        c->was.client = c->client_id;
        c->was.valid = true;
    }
    return s;
}

sb_status sb_eng_conv_store(sb_engine *e, sb_eng_conv *c)
{
    sb_status s = sb_eng_conv_index(e, c);
    return s == SB_OK ? sb_eng_conv_save(e, c) : s;
}

sb_status sb_eng_conv_emit(sb_engine *e, sb_eng_conv *c, const char *type, json_t *extra)
{
    sb_status s = sb_eng_conv_store(e, c);
    json_t *ev = s == SB_OK ? sb_eng_event_new(type) : NULL, *cj = ev ? sb_eng_conv_json(e, c) : NULL;
    if (s == SB_OK && (!ev || !cj || json_object_set_new(ev, "conversation", cj) != 0 ||
                       (extra && json_object_update(ev, extra) != 0)))
        s = SB_ERR_NOMEM;
    json_decref(extra);
    if (s != SB_OK) {
        json_decref(ev);
        return s;
    }
    return sb_eng_emit(e, ev);
}

/* ---- pages ---------------------------------------------------------------- */

typedef struct page {
    size_t prefix, limit, n, scanned;
    unsigned char st;      /* 0 = any */
    uint64_t op;           /* 0 = any */
    const char *group;     /* NULL = any */
    bool by_summary;
    uint64_t *ids, last_scanned;
} page;

static int visit(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    page *p = ud;
    const unsigned char *k = key, *v = val;
    p->scanned++;
    if (klen < p->prefix + 8) return 0;
    uint64_t id = sb_key_get_u64(k + klen - 8);
    p->last_scanned = id;
    if (p->by_summary) {
        if (vlen < 9) return 0;
        if (p->st && v[0] != p->st) return 0;
        if (p->op && sb_key_get_u64(v + 1) != p->op) return 0;
        if (p->group && (vlen - 9 != strlen(p->group) || memcmp(v + 9, p->group, vlen - 9) != 0))
            return 0;
    }
    p->ids[p->n++] = id;
    return p->n == p->limit;
}

sb_status sb_engine_conversations_list(sb_engine *e, const sb_conv_filter *f, char **out,
                                       char *err, size_t errlen)
{
    if (!e || !f || !out) return SB_ERR_INVALID;
    *out = NULL;
    page p = {0};
    p.limit = sb_eng_page_limit(f->limit);
    uint64_t cursor = 0, client = 0;
    if (f->cursor && *f->cursor && !(cursor = sb_id_parse(f->cursor)))
        return sb_eng_bad(err, errlen, "cursor", "not a cursor of this list");
    if (f->status && *f->status && (p.st = status_byte(f->status)) == 'x')
        return sb_eng_bad(err, errlen, "status", "must be bot, queued, assigned or closed");
    if (f->operator_id && *f->operator_id && !(p.op = sb_id_parse(f->operator_id)))
        return sb_eng_bad(err, errlen, "operator", "not an operator id");
    if (f->client_id && *f->client_id && !(client = sb_id_parse(f->client_id)))
        return sb_eng_bad(err, errlen, "client", "not a client id");
    if (f->group_id && *f->group_id) {
        if (strlen(f->group_id) > RT_ID_MAX) return sb_eng_bad(err, errlen, "group", "too long");
        p.group = f->group_id;
    }
    unsigned char from[KEY_MAX], to[KEY_MAX];
    size_t fl;
    sb_table t = TBL(e, TB_CONV_IDX);
    if (client) fl = key_c(from, client, 0) - 8;
    else if (p.op) fl = key_o(from, p.op, 0) - 8;
    else if (p.group) fl = key_g(from, p.group, 0) - 8;
    else if (p.st) fl = key_s(from, p.st, 0) - 8;
    else { t = TBL(e, TB_CONVERSATIONS); fl = 0; }
    p.prefix = fl;
    p.by_summary = fl > 0;
    memcpy(to, from, fl);
    size_t tl;
    if (cursor) {
        sb_key_put_u64(to + fl, cursor);
        tl = fl + 8;
    } else if (fl) {
        /* the prefix's successor: its last byte + 1 (never 0xff here: it is
         * an id's low byte only past 2^64, a '\0' or a status letter) */
        tl = fl;
        size_t i = fl;
        while (i > 0 && to[i - 1] == 0xff) to[--i] = 0;
        if (i > 0) to[i - 1]++;
    } else {
        tl = 0;
    }
    p.ids = calloc(p.limit, sizeof *p.ids);
    if (!p.ids) return SB_ERR_NOMEM;
    long n = sb_store_scan(e->st, t, fl ? from : NULL, fl, tl ? to : NULL, tl, true, SCAN_MAX,
                           visit, &p);
    sb_status s = n < 0 ? (sb_status)n : SB_OK;
    uint64_t next = p.n == p.limit ? p.ids[p.n - 1] : p.scanned == SCAN_MAX ? p.last_scanned : 0;
    json_t *items = s == SB_OK ? json_array() : NULL;
    if (s == SB_OK && !items) s = SB_ERR_NOMEM;
    for (size_t i = 0; s == SB_OK && i < p.n; i++) {
        sb_eng_conv c;
        sb_status ls = sb_eng_conv_load(e, p.ids[i], &c);
        if (ls == SB_ERR_NOT_FOUND) continue;
        if (ls != SB_OK) { s = ls; break; }
        if (json_array_append_new(items, sb_eng_conv_json(e, &c)) != 0) s = SB_ERR_NOMEM;
        sb_eng_conv_clear(&c);
    }
    free(p.ids);
    return sb_eng_page_out(s, items, next, out);
}

sb_status sb_eng_conv_unindex(sb_engine *e, const sb_eng_conv *c)
{
    unsigned char k[KEY_MAX];
    const char *st = c->was.valid ? c->was.status : c->status;
    const char *group = c->was.valid ? c->was.group : c->group;
    uint64_t op = c->was.valid ? c->was.op : c->operator_id;
    uint64_t client = c->was.valid ? c->was.client : c->client_id;
    sb_status s = del(e, k, key_c(k, client, c->id));
    if (s == SB_OK) s = del(e, k, key_s(k, status_byte(st), c->id));
    if (s == SB_OK && group) s = del(e, k, key_g(k, group, c->id));
    if (s == SB_OK && op) s = del(e, k, key_o(k, op, c->id));
    return s;
}

typedef struct id_list {
    uint64_t *v;
    size_t n, cap;
    bool nomem;
} id_list;

static int collect(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    id_list *l = ud;
    if (klen != 17) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->nomem = true; return 1; }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = sb_key_get_u64((const unsigned char *)key + 9);
    return 0;
}

sb_status sb_eng_client_convs(sb_engine *e, uint64_t client, uint64_t **ids, size_t *n)
{
    unsigned char from[9], to[9];
    from[0] = to[0] = 'c';
    sb_key_put_u64(from + 1, client);
    sb_key_put_u64(to + 1, client + 1);
    id_list l = {0};
    long r = sb_store_scan(e->st, TBL(e, TB_CONV_IDX), from, 9, to, 9, false, 0, collect, &l);
    if (r < 0 || l.nomem) {
        free(l.v);
        return r < 0 ? (sb_status)r : SB_ERR_NOMEM;
    }
    *ids = l.v;
    *n = l.n;
    return SB_OK;
}
