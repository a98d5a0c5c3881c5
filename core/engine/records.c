#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Field counts of version 1. A later version appends fields and raises the
 * count; the readers below take what is there and default the rest. */
enum {
    CLIENT_V = 1, CLIENT_N = 8,
    CONV_V = 3, CONV_N = 23,
    MSG_V = 1, MSG_N = 19,
    OUTBOX_V = 1, OUTBOX_N = 10,
    LIST_V = 1
};

static void key_id(unsigned char k[8], uint64_t id) { sb_key_put_u64(k, id); }

/* ---- lists of small structs ------------------------------------------
 * A bin field holding a nested record [1, k, n, item fields...] with k
 * fields per item: an item can gain fields (k grows) and a reader skips
 * those it does not know. */

static sb_status list_write(sb_rec_writer *w, sb_rec_writer *l, uint32_t k, size_t n,
                            void (*item)(sb_rec_writer *l, const void *items, size_t i),
                            const void *items)
{
    if (n > (UINT32_MAX - 3) / k) return SB_ERR_TOO_BIG;
    sb_rec_begin(l, LIST_V, (uint32_t)(2 + k * n));
    sb_rec_u64(l, k);
    sb_rec_u64(l, n);
    for (size_t i = 0; i < n; i++) item(l, items, i);
    const void *data;
    size_t len;
    sb_status s = sb_rec_end(l, &data, &len);
    if (s != SB_OK) return s;
    sb_rec_bin(w, data, len);
    return SB_OK;
}

typedef struct list_rd {
    sb_rec_reader r;
    size_t k, n;
} list_rd;

static sb_status list_open(sb_rec_reader *outer, list_rd *l)
{
    size_t len;
    const void *p = sb_rec_next_bin(outer, &len);
    memset(l, 0, sizeof *l);
    if (!p) return SB_OK;
    if (sb_rec_open(&l->r, p, len) != SB_OK) return SB_ERR_IO;
    uint64_t k = sb_rec_next_u64(&l->r, 0), n = sb_rec_next_u64(&l->r, 0);
    /* every field takes a byte at least: a count beyond that is garbage */
    if (k == 0 || k > 256 || n > len / k) {
        sb_rec_close(&l->r);
        return SB_ERR_IO;
    }
    l->k = (size_t)k;
    l->n = (size_t)n;
    return SB_OK;
}

static sb_status list_close(list_rd *l, sb_status s)
{
    if (sb_rec_close(&l->r) != SB_OK && s == SB_OK) s = SB_ERR_IO;
    return s;
}

/* ---- field readers into an arena ------------------------------------- */

static const char *rd_str(sb_rec_reader *r, sb_eng_arena *a, sb_status *err)
{
    size_t n;
    const char *s = sb_rec_next_str(r, &n);
    if (!s) return NULL;
    char *p = sb_eng_strndup(a, s, n);
    if (!p) *err = SB_ERR_NOMEM;
    return p;
}

/* Known field j of a list item, or the default when the writer had fewer. */
static const char *li_str(list_rd *l, size_t j, sb_eng_arena *a, sb_status *err)
{
    return j < l->k ? rd_str(&l->r, a, err) : NULL;
}

static void li_skip_rest(list_rd *l, size_t known)
{
    for (size_t j = known; j < l->k; j++) sb_rec_skip(&l->r);
}

static const char *const *copy_strs(sb_eng_arena *a, const char *const *src, size_t n,
                                    sb_status *err)
{
    if (!n) return NULL;
    const char **out = sb_eng_alloc(a, n * sizeof *out);
    if (!out) { *err = SB_ERR_NOMEM; return NULL; }
    for (size_t i = 0; i < n; i++) {
        out[i] = src[i] ? sb_eng_strndup(a, src[i], strlen(src[i])) : NULL;
        if (src[i] && !out[i]) *err = SB_ERR_NOMEM;
    }
    return out;
}

static void rd_strs(sb_rec_reader *r, sb_eng_arena *a, const char *const **items,
                    size_t *n, sb_status *err)
{
    const char *const *src;
    size_t cnt;
    sb_status s = sb_rec_next_str_array(r, &src, &cnt);
    *items = NULL;
    *n = 0;
    if (s != SB_OK) { if (*err == SB_OK) *err = s == SB_ERR_NOMEM ? s : SB_ERR_IO; return; }
    *items = copy_strs(a, src, cnt, err);
    if (*items) *n = cnt;
}

static void rd_map(sb_rec_reader *r, sb_eng_arena *a, const char *const **keys,
                   const char *const **vals, size_t *n, sb_status *err)
{
    const char *const *k, *const *v;
    size_t cnt;
    sb_status s = sb_rec_next_map(r, &k, &v, &cnt);
    *keys = *vals = NULL;
    *n = 0;
    if (s != SB_OK) { if (*err == SB_OK) *err = s == SB_ERR_NOMEM ? s : SB_ERR_IO; return; }
    *keys = copy_strs(a, k, cnt, err);
    *vals = copy_strs(a, v, cnt, err);
    if (*keys && *vals) *n = cnt;
}

/* Reads the stored value of key into a fresh reader; the caller frees *buf
 * after closing. */
static sb_status open_rec(sb_engine *e, int t, const void *key, size_t klen,
                          void **buf, sb_rec_reader *r)
{
    size_t len;
    sb_status s = sb_store_get_alloc(e->st, TBL(e, t), key, klen, buf, &len);
    if (s != SB_OK) return s;
    if (sb_rec_open(r, *buf, len) != SB_OK) {
        free(*buf);
        *buf = NULL;
        return SB_ERR_IO;
    }
    return SB_OK;
}

static sb_status close_rec(sb_rec_reader *r, void *buf, sb_status s, const char *what,
                           uint64_t id)
{
    if (sb_rec_close(r) != SB_OK && s == SB_OK) s = SB_ERR_IO;
    free(buf);
    if (s == SB_ERR_IO) {
        char ids[21];
        sb_error("engine", "stored %s %s is not decodable", what, sb_id_str(id, ids));
    }
    return s;
}

sb_status sb_eng_rec_put(sb_engine *e, int t, const void *key, size_t klen)
{
    const void *data;
    size_t len;
    sb_status s = sb_rec_end(&e->w, &data, &len);
    if (s != SB_OK) return s;
    return sb_store_put(e->st, TBL(e, t), key, klen, data, len);
}

sb_status sb_eng_rec_put_id(sb_engine *e, int t, uint64_t id)
{
    unsigned char k[8];
    key_id(k, id);
    return sb_eng_rec_put(e, t, k, sizeof k);
}

/* ---- clients ------------------------------------------------------------ */

static void identity_item(sb_rec_writer *l, const void *items, size_t i)
{
    const sb_eng_identity *id = (const sb_eng_identity *)items + i;
    sb_rec_str(l, id->plugin);
    sb_rec_str(l, id->instance);
    sb_rec_str(l, id->external_id);
    sb_rec_bool(l, id->unreachable);
}

sb_status sb_eng_client_save(sb_engine *e, const sb_eng_client *c)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, CLIENT_V, CLIENT_N);
    sb_rec_i64(w, c->created_at);
    sb_rec_str(w, c->name);
    sb_rec_str(w, c->phone);
    sb_rec_str(w, c->email);
    sb_rec_map(w, c->attr_keys, c->attr_vals, c->n_attrs);
    sb_rec_str_array(w, c->tags, c->n_tags);
    sb_rec_u64(w, c->open_conv);
    sb_status s = list_write(w, &e->wl, 4, c->n_ids, identity_item, c->ids);
    if (s != SB_OK) return s;
    return sb_eng_rec_put_id(e, TB_CLIENTS, c->id);
}

sb_status sb_eng_client_load(sb_engine *e, uint64_t id, sb_eng_client *c)
{
    memset(c, 0, sizeof *c);
    unsigned char k[8];
    key_id(k, id);
    void *buf;
    sb_rec_reader r;
    sb_status s = open_rec(e, TB_CLIENTS, k, sizeof k, &buf, &r), err = SB_OK;
    if (s != SB_OK) return s;
    sb_eng_arena *a = &c->arena;
    c->id = id;
    c->created_at = sb_rec_next_i64(&r, 0);
    c->name = rd_str(&r, a, &err);
    c->phone = rd_str(&r, a, &err);
    c->email = rd_str(&r, a, &err);
    rd_map(&r, a, &c->attr_keys, &c->attr_vals, &c->n_attrs, &err);
    rd_strs(&r, a, &c->tags, &c->n_tags, &err);
    c->open_conv = sb_rec_next_u64(&r, 0);
    list_rd l;
    sb_status ls = list_open(&r, &l);
    if (ls == SB_OK && l.n) {
        c->ids = sb_eng_alloc(a, l.n * sizeof *c->ids);
        if (!c->ids) ls = SB_ERR_NOMEM;
        for (size_t i = 0; ls == SB_OK && i < l.n; i++) {
            sb_eng_identity *it = &c->ids[i];
            it->plugin = li_str(&l, 0, a, &err);
            it->instance = li_str(&l, 1, a, &err);
            it->external_id = li_str(&l, 2, a, &err);
            it->unreachable = l.k > 3 ? sb_rec_next_bool(&l.r, false) : false;
            li_skip_rest(&l, 4);
            if (!it->plugin || !it->instance || !it->external_id) ls = SB_ERR_IO;
            else c->n_ids = i + 1;
        }
    }
    if (l.k) ls = list_close(&l, ls);
    if (err == SB_OK) err = ls;
    s = close_rec(&r, buf, err, "client", id);
    if (s != SB_OK) sb_eng_client_clear(c);
    return s;
}

void sb_eng_client_clear(sb_eng_client *c)
{
    sb_eng_arena_free(&c->arena);
    memset(c, 0, sizeof *c);
}

/* ---- conversations --------------------------------------------------- */

sb_status sb_eng_conv_save(sb_engine *e, const sb_eng_conv *c)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, CONV_V, CONV_N);
    sb_rec_u64(w, c->client_id);
    sb_rec_str(w, c->plugin);
    sb_rec_str(w, c->instance);
    sb_rec_str(w, c->external_id);
    sb_rec_str(w, c->status);
    sb_rec_u64(w, c->group_id);
    sb_rec_u64(w, c->operator_id);
    sb_rec_i64(w, c->created_at);
    sb_rec_i64(w, c->assigned_at);
    sb_rec_i64(w, c->first_response_at);
    sb_rec_i64(w, c->closed_at);
    sb_rec_str_array(w, c->tags, c->n_tags);
    sb_rec_map(w, c->attr_keys, c->attr_vals, c->n_attrs);
    sb_rec_i64(w, c->rating);
    sb_rec_str(w, c->group);
    sb_rec_i64(w, c->priority);
    sb_rec_i64(w, c->queued_at);
    sb_rec_u64(w, c->target_op);
    sb_rec_i64(w, c->waiting_since);
    sb_rec_i64(w, c->last_activity);
    sb_rec_u64(w, c->notified_pos);
    sb_rec_u64(w, c->sticky_op);
    sb_rec_str(w, c->bot);
    return sb_eng_rec_put_id(e, TB_CONVERSATIONS, c->id);
}

sb_status sb_eng_conv_load(sb_engine *e, uint64_t id, sb_eng_conv *c)
{
    memset(c, 0, sizeof *c);
    unsigned char k[8];
    key_id(k, id);
    void *buf;
    sb_rec_reader r;
    sb_status s = open_rec(e, TB_CONVERSATIONS, k, sizeof k, &buf, &r), err = SB_OK;
    if (s != SB_OK) return s;
    sb_eng_arena *a = &c->arena;
    c->id = id;
    c->client_id = sb_rec_next_u64(&r, 0);
    c->plugin = rd_str(&r, a, &err);
    c->instance = rd_str(&r, a, &err);
    c->external_id = rd_str(&r, a, &err);
    c->status = rd_str(&r, a, &err);
    c->group_id = sb_rec_next_u64(&r, 0);
    c->operator_id = sb_rec_next_u64(&r, 0);
    c->created_at = sb_rec_next_i64(&r, 0);
    c->assigned_at = sb_rec_next_i64(&r, 0);
    c->first_response_at = sb_rec_next_i64(&r, 0);
    c->closed_at = sb_rec_next_i64(&r, 0);
    rd_strs(&r, a, &c->tags, &c->n_tags, &err);
    rd_map(&r, a, &c->attr_keys, &c->attr_vals, &c->n_attrs, &err);
    c->rating = sb_rec_next_i64(&r, 0);
    c->group = rd_str(&r, a, &err);
    c->priority = sb_rec_next_i64(&r, 0);
    c->queued_at = sb_rec_next_i64(&r, 0);
    c->target_op = sb_rec_next_u64(&r, 0);
    c->waiting_since = sb_rec_next_i64(&r, 0);
    c->last_activity = sb_rec_next_i64(&r, 0);
    c->notified_pos = sb_rec_next_u64(&r, 0);
    c->sticky_op = sb_rec_next_u64(&r, 0);
    c->bot = rd_str(&r, a, &err);
    c->was.status = c->status;
    c->was.group = c->group;
    c->was.op = c->operator_id;
    c->was.client = c->client_id;
    c->was.valid = true;
    if (err == SB_OK && (!c->plugin || !c->instance || !c->external_id || !c->status))
        err = SB_ERR_IO;
    s = close_rec(&r, buf, err, "conversation", id);
    if (s != SB_OK) sb_eng_conv_clear(c);
    return s;
}

void sb_eng_conv_clear(sb_eng_conv *c)
{
    sb_eng_arena_free(&c->arena);
    memset(c, 0, sizeof *c);
}

/* ---- messages --------------------------------------------------------- */

static void button_item(sb_rec_writer *l, const void *items, size_t i)
{
    const sb_button *b = (const sb_button *)items + i;
    sb_rec_str(l, b->id);
    sb_rec_str(l, b->title);
}

static void attachment_item(sb_rec_writer *l, const void *items, size_t i)
{
    const sb_attachment *at = (const sb_attachment *)items + i;
    sb_rec_str(l, at->kind);
    sb_rec_str(l, at->ref);
    sb_rec_str(l, at->name);
    sb_rec_str(l, at->mime);
    sb_rec_u64(l, at->size);
}

sb_status sb_eng_msg_save(sb_engine *e, const sb_eng_msg *m)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, MSG_V, MSG_N);
    sb_rec_u64(w, m->client_id);
    sb_rec_str(w, m->plugin);
    sb_rec_str(w, m->instance);
    sb_rec_str(w, m->direction);
    sb_rec_str(w, m->author_kind);
    sb_rec_str(w, m->author_id);
    sb_rec_str(w, m->type);
    sb_rec_str(w, m->text);
    sb_rec_str(w, m->button_id);
    sb_status s = list_write(w, &e->wl, 2, m->n_buttons, button_item, m->buttons);
    if (s == SB_OK) s = list_write(w, &e->wl, 5, m->n_atts, attachment_item, m->atts);
    if (s != SB_OK) return s;
    sb_rec_i64(w, m->created_at);
    sb_rec_i64(w, m->sent_at);
    sb_rec_str(w, m->delivery_status);
    sb_rec_str(w, m->delivery_error);
    sb_rec_str(w, m->remote_id);
    sb_rec_str(w, m->event);
    sb_rec_u64(w, m->edit_of);
    sb_rec_str(w, m->ext_ref);
    unsigned char k[16];
    key_id(k, m->conv_id);
    key_id(k + 8, m->id);
    return sb_eng_rec_put(e, TB_MESSAGES, k, sizeof k);
}

static sb_status read_buttons(sb_rec_reader *r, sb_eng_msg *m, sb_status *err)
{
    list_rd l;
    sb_status s = list_open(r, &l);
    if (s != SB_OK || !l.k) return s;
    sb_button *b = l.n ? sb_eng_alloc(&m->arena, l.n * sizeof *b) : NULL;
    if (l.n && !b) s = SB_ERR_NOMEM;
    for (size_t i = 0; s == SB_OK && i < l.n; i++) {
        b[i].id = li_str(&l, 0, &m->arena, err);
        b[i].title = li_str(&l, 1, &m->arena, err);
        li_skip_rest(&l, 2);
        if (!b[i].id || !b[i].title) s = SB_ERR_IO;
        else m->n_buttons = i + 1;
    }
    m->buttons = b;
    return list_close(&l, s);
}

static sb_status read_attachments(sb_rec_reader *r, sb_eng_msg *m, sb_status *err)
{
    list_rd l;
    sb_status s = list_open(r, &l);
    if (s != SB_OK || !l.k) return s;
    sb_attachment *at = l.n ? sb_eng_alloc(&m->arena, l.n * sizeof *at) : NULL;
    if (l.n && !at) s = SB_ERR_NOMEM;
    for (size_t i = 0; s == SB_OK && i < l.n; i++) {
        memset(&at[i], 0, sizeof at[i]);
        at[i].struct_size = sizeof at[i];
        at[i].kind = li_str(&l, 0, &m->arena, err);
        at[i].ref = li_str(&l, 1, &m->arena, err);
        at[i].name = li_str(&l, 2, &m->arena, err);
        at[i].mime = li_str(&l, 3, &m->arena, err);
        at[i].size = l.k > 4 ? sb_rec_next_u64(&l.r, 0) : 0;
        li_skip_rest(&l, 5);
        if (!at[i].kind || !at[i].ref) s = SB_ERR_IO;
        else m->n_atts = i + 1;
    }
    m->atts = at;
    return list_close(&l, s);
}

sb_status sb_eng_msg_load(sb_engine *e, uint64_t conv_id, uint64_t id, sb_eng_msg *m)
{
    memset(m, 0, sizeof *m);
    unsigned char k[16];
    key_id(k, conv_id);
    key_id(k + 8, id);
    void *buf;
    sb_rec_reader r;
    sb_status s = open_rec(e, TB_MESSAGES, k, sizeof k, &buf, &r), err = SB_OK;
    if (s != SB_OK) return s;
    sb_eng_arena *a = &m->arena;
    m->id = id;
    m->conv_id = conv_id;
    m->client_id = sb_rec_next_u64(&r, 0);
    m->plugin = rd_str(&r, a, &err);
    m->instance = rd_str(&r, a, &err);
    m->direction = rd_str(&r, a, &err);
    m->author_kind = rd_str(&r, a, &err);
    m->author_id = rd_str(&r, a, &err);
    m->type = rd_str(&r, a, &err);
    m->text = rd_str(&r, a, &err);
    m->button_id = rd_str(&r, a, &err);
    sb_status ls = read_buttons(&r, m, &err);
    if (ls == SB_OK) ls = read_attachments(&r, m, &err);
    m->created_at = sb_rec_next_i64(&r, 0);
    m->sent_at = sb_rec_next_i64(&r, 0);
    m->delivery_status = rd_str(&r, a, &err);
    m->delivery_error = rd_str(&r, a, &err);
    m->remote_id = rd_str(&r, a, &err);
    m->event = rd_str(&r, a, &err);
    m->edit_of = sb_rec_next_u64(&r, 0);
    m->ext_ref = rd_str(&r, a, &err);
    if (err == SB_OK) err = ls;
    if (err == SB_OK &&
        (!m->plugin || !m->instance || !m->direction || !m->author_kind || !m->type))
        err = SB_ERR_IO;
    s = close_rec(&r, buf, err, "message", id);
    if (s != SB_OK) sb_eng_msg_clear(m);
    return s;
}

void sb_eng_msg_clear(sb_eng_msg *m)
{
    sb_eng_arena_free(&m->arena);
    memset(m, 0, sizeof *m);
}

/* ---- outbox ------------------------------------------------------------ */

sb_status sb_eng_outbox_save(sb_engine *e, const sb_eng_outbox_rec *o)
{
    sb_rec_writer *w = &e->w;
    sb_rec_begin(w, OUTBOX_V, OUTBOX_N);
    sb_rec_str(w, o->plugin);
    sb_rec_str(w, o->instance);
    sb_rec_str(w, o->external_id);
    sb_rec_u64(w, o->conv_id);
    sb_rec_u64(w, o->attempt);
    sb_rec_i64(w, o->next_at);
    sb_rec_u64(w, (uint64_t)o->state);
    sb_rec_u64(w, o->op);
    sb_rec_str(w, o->last_error);
    sb_rec_i64(w, o->created_at);
    return sb_eng_rec_put_id(e, TB_OUTBOX, o->msg_id);
}

sb_status sb_eng_outbox_load(sb_engine *e, uint64_t msg_id, sb_eng_outbox_rec *o)
{
    memset(o, 0, sizeof *o);
    unsigned char k[8];
    key_id(k, msg_id);
    void *buf;
    sb_rec_reader r;
    sb_status s = open_rec(e, TB_OUTBOX, k, sizeof k, &buf, &r), err = SB_OK;
    if (s != SB_OK) return s;
    sb_eng_arena *a = &o->arena;
    o->msg_id = msg_id;
    o->plugin = rd_str(&r, a, &err);
    o->instance = rd_str(&r, a, &err);
    o->external_id = rd_str(&r, a, &err);
    o->conv_id = sb_rec_next_u64(&r, 0);
    uint64_t attempt = sb_rec_next_u64(&r, 0);
    o->attempt = attempt > UINT32_MAX ? UINT32_MAX : (uint32_t)attempt;
    o->next_at = sb_rec_next_i64(&r, 0);
    uint64_t state = sb_rec_next_u64(&r, SB_OB_PENDING);
    o->state = state <= SB_OB_SENDING ? (int)state : SB_OB_PENDING;
    o->op = sb_rec_next_u64(&r, 0);
    o->last_error = rd_str(&r, a, &err);
    o->created_at = sb_rec_next_i64(&r, 0);
    if (err == SB_OK && (!o->plugin || !o->instance || !o->external_id)) err = SB_ERR_IO;
    s = close_rec(&r, buf, err, "outbox entry", msg_id);
    if (s != SB_OK) sb_eng_outbox_clear(o);
    return s;
}

void sb_eng_outbox_clear(sb_eng_outbox_rec *o)
{
    sb_eng_arena_free(&o->arena);
    memset(o, 0, sizeof *o);
}
