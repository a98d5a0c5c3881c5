#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Two client profiles become one: the source's channel accounts, contact
 * keys, conversations and their history keys (client_msgs) move to the
 * target; the target takes the attributes and tags it lacks (and the
 * phone/e-mail when it has none). The source record goes, kept verbatim in
 * an audit record with the list of what moved, so a supervisor can undo
 * it. Work is proportional to the source's own history, never a scan of
 * anything else. Message records keep the author id they were written
 * with. */

/* ---- shared helpers ------------------------------------------------------- */

typedef struct u64s {
    uint64_t *v;
    size_t n, cap;
    bool nomem;
} u64s;

static bool u64s_push(u64s *l, uint64_t x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->nomem = true; return false; }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return true;
}

static int msg_key(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (klen != 16) return 0;
    return !u64s_push(ud, sb_key_get_u64((const unsigned char *)key + 8));
}

sb_status sb_eng_history_move(sb_engine *e, uint64_t conv, uint64_t from, uint64_t to,
                              size_t *n_msgs)
{
    unsigned char lo[8], hi[8];
    sb_key_put_u64(lo, conv);
    sb_key_put_u64(hi, conv + 1);
    u64s l = {0};
    long r = sb_store_scan(e->st, TBL(e, TB_MESSAGES), lo, 8, hi, 8, false, 0, msg_key, &l);
    sb_status s = r < 0 ? (sb_status)r : l.nomem ? SB_ERR_NOMEM : SB_OK;
    unsigned char k[16], v[8];
    sb_key_put_u64(v, conv);
    for (size_t i = 0; s == SB_OK && i < l.n; i++) {
        sb_key_put_u64(k, from);
        sb_key_put_u64(k + 8, l.v[i]);
        s = sb_store_del(e->st, TBL(e, TB_CLIENT_MSGS), k, sizeof k);
        if (s == SB_ERR_NOT_FOUND) s = SB_OK;
        sb_key_put_u64(k, to);
        if (s == SB_OK && to) s = sb_store_put(e->st, TBL(e, TB_CLIENT_MSGS), k, sizeof k, v, sizeof v);
    }
    if (n_msgs) *n_msgs = l.n;
    free(l.v);
    return s;
}

/* Moves conversations (and their history keys) to client `to`. */
static sb_status move_convs(sb_engine *e, const uint64_t *ids, size_t n, uint64_t from, uint64_t to)
{
    sb_status s = SB_OK;
    for (size_t i = 0; s == SB_OK && i < n; i++) {
        sb_eng_conv c;
        s = sb_eng_conv_load(e, ids[i], &c);
        if (s == SB_ERR_NOT_FOUND) { s = SB_OK; continue; } /* erased since */
        if (s != SB_OK) break;
        c.client_id = to;
        s = sb_eng_conv_store(e, &c);
        rt_conv *rc = sb_eng_rt_conv(e, c.id);
        if (rc) rc->client_id = to;
        if (s == SB_OK) s = sb_eng_history_move(e, c.id, from, to, NULL);
        sb_eng_conv_clear(&c);
    }
    return s;
}

static bool conv_open(sb_engine *e, uint64_t id)
{
    return id && sb_eng_rt_conv(e, id) != NULL;
}

static bool has_key(const char *const *keys, size_t n, const char *k)
{
    for (size_t i = 0; i < n; i++)
        if (keys[i] && strcmp(keys[i], k) == 0) return true;
    return false;
}

/* ---- merge ------------------------------------------------------------------ */

static sb_status do_merge(sb_engine *e, uint64_t tid, uint64_t sid, const char *by,
                          uint64_t *audit_id, char *err, size_t errlen)
{
    if (tid == sid) return sb_eng_bad(err, errlen, "client_id", "the same client");
    sb_eng_client t, src;
    sb_status s = sb_eng_client_load(e, tid, &t);
    if (s != SB_OK) return s;
    if ((s = sb_eng_client_load(e, sid, &src)) != SB_OK) {
        sb_eng_client_clear(&t);
        return s;
    }
    sb_eng_audit a;
    memset(&a, 0, sizeof a);
    uint64_t *convs = NULL;
    size_t n_convs = 0;
    if (t.n_ids + src.n_ids > SB_ENG_MAX_IDENTITIES) {
        s = sb_eng_bad(err, errlen, "client_id", "the two profiles hold more than %d channel accounts",
                       SB_ENG_MAX_IDENTITIES);
        goto out;
    }
    a.id = sb_eng_audit_new_id();
    a.at = sb_eng_now();
    a.target = tid;
    a.source = sid;
    a.kind = strdup("merge");
    a.by = sb_eng_xstrdup(by);
    unsigned char k[8];
    sb_key_put_u64(k, sid);
    if (!a.kind || (by && !a.by)) { s = SB_ERR_NOMEM; goto out; }
    if ((s = sb_store_get_alloc(e->st, TBL(e, TB_CLIENTS), k, 8, &a.snapshot, &a.snapshot_len)) != SB_OK)
        goto out;

    /* channel accounts */
    sb_eng_identity *ids = sb_eng_alloc(&t.arena, (t.n_ids + src.n_ids + 1) * sizeof *ids);
    if (!ids) { s = SB_ERR_NOMEM; goto out; }
    if (t.n_ids) memcpy(ids, t.ids, t.n_ids * sizeof *ids);
    for (size_t i = 0; s == SB_OK && i < src.n_ids; i++) {
        const sb_eng_identity *it = &src.ids[i];
        ids[t.n_ids + i] = *it; /* strings live in src's arena until the commit below */
        s = sb_eng_ident_put(e, it->plugin, it->instance, it->external_id, tid);
    }
    t.ids = ids;
    t.n_ids += src.n_ids;
    /* contacts: their keys name the target; it shows them if it had none */
    if (s == SB_OK && src.phone) {
        s = sb_eng_ident_put(e, "phone", src.phone, NULL, tid);
        if (!t.phone) { t.phone = src.phone; a.phone_taken = true; }
    }
    if (s == SB_OK && src.email) {
        s = sb_eng_ident_put(e, "email", src.email, NULL, tid);
        if (!t.email) { t.email = src.email; a.email_taken = true; }
    }
    /* attributes and tags the target lacks */
    if (s == SB_OK && src.n_attrs) {
        const char **k2 = sb_eng_alloc(&t.arena, (t.n_attrs + src.n_attrs) * sizeof *k2);
        const char **v2 = sb_eng_alloc(&t.arena, (t.n_attrs + src.n_attrs) * sizeof *v2);
        a.attrs_added = calloc(src.n_attrs, sizeof *a.attrs_added);
        if (!k2 || !v2 || !a.attrs_added) { s = SB_ERR_NOMEM; goto out; }
        size_t m = t.n_attrs;
        if (m) { memcpy(k2, t.attr_keys, m * sizeof *k2); memcpy(v2, t.attr_vals, m * sizeof *v2); }
        for (size_t i = 0; i < src.n_attrs; i++) {
            if (has_key(t.attr_keys, t.n_attrs, src.attr_keys[i])) continue;
            k2[m] = src.attr_keys[i];
            v2[m++] = src.attr_vals[i];
            if (!(a.attrs_added[a.n_attrs++] = strdup(src.attr_keys[i]))) { s = SB_ERR_NOMEM; goto out; }
        }
        t.attr_keys = k2;
        t.attr_vals = v2;
        t.n_attrs = m;
    }
    if (s == SB_OK && src.n_tags) {
        const char **t2 = sb_eng_alloc(&t.arena, (t.n_tags + src.n_tags) * sizeof *t2);
        a.tags_added = calloc(src.n_tags, sizeof *a.tags_added);
        if (!t2 || !a.tags_added) { s = SB_ERR_NOMEM; goto out; }
        size_t m = t.n_tags;
        if (m) memcpy(t2, t.tags, m * sizeof *t2);
        for (size_t i = 0; i < src.n_tags; i++) {
            if (has_key(t.tags, t.n_tags, src.tags[i])) continue;
            t2[m++] = src.tags[i];
            if (!(a.tags_added[a.n_tags++] = strdup(src.tags[i]))) { s = SB_ERR_NOMEM; goto out; }
        }
        t.tags = t2;
        t.n_tags = m;
    }
    /* conversations and history */
    if (s == SB_OK) s = sb_eng_client_convs(e, sid, &convs, &n_convs);
    if (s == SB_OK) s = move_convs(e, convs, n_convs, sid, tid);
    a.convs = convs;
    a.n_convs = n_convs;
    convs = NULL;
    if (s == SB_OK && conv_open(e, src.open_conv) && !conv_open(e, t.open_conv))
        t.open_conv = src.open_conv;
    /* the source goes */
    if (s == SB_OK) s = sb_eng_search_update(e, &src, NULL);
    if (s == SB_OK) s = sb_store_del(e->st, TBL(e, TB_CLIENTS), k, 8);
    if (s == SB_OK) s = sb_eng_audit_save(e, &a);
    if (s == SB_OK) s = sb_eng_audit_link(e, tid, a.id);
    if (s == SB_OK) s = sb_eng_audit_link(e, sid, a.id);
    t.dirty = true;
    if (s == SB_OK) s = sb_eng_client_commit(e, &t);
    if (s == SB_OK) {
        json_t *ev = sb_eng_event_new("client.merged");
        if (!ev || json_object_set_new(ev, "client", sb_eng_client_json(&t)) != 0 ||
            json_object_set_new(ev, "source_id", sb_eng_json_id(sid)) != 0 ||
            json_object_set_new(ev, "audit_id", sb_eng_json_id(a.id)) != 0 ||
            json_object_set_new(ev, "by", sb_eng_json_str(by)) != 0) {
            json_decref(ev);
            s = SB_ERR_NOMEM;
        } else {
            s = sb_eng_emit(e, ev);
        }
    }
    if (s == SB_OK && audit_id) *audit_id = a.id;
    if (s == SB_OK) {
        char ta[21], sa[21];
        sb_info("engine", "client %s merged into %s (%s)", sb_id_str(sid, sa), sb_id_str(tid, ta),
                by ? by : "by hand");
    }
out:
    free(convs);
    sb_eng_audit_clear(&a);
    sb_eng_client_clear(&src);
    sb_eng_client_clear(&t);
    return s;
}

sb_status sb_engine_client_merge(sb_engine *e, const char *target_id, const char *source_id,
                                 const char *by, char **out, char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t t = target_id ? sb_id_parse(target_id) : 0, src = source_id ? sb_id_parse(source_id) : 0;
    if (!t || !src) return SB_ERR_NOT_FOUND;
    uint64_t aid = 0;
    sb_status s = do_merge(e, t, src, by, &aid, err, errlen);
    sb_eng_rt_settle(e);
    if (s != SB_OK) return s;
    sb_eng_client c;
    if ((s = sb_eng_client_load(e, t, &c)) != SB_OK) return s;
    s = sb_eng_json_take(json_pack("{s:o, s:o}", "client", sb_eng_client_json(&c), "audit_id",
                                   sb_eng_json_id(aid)), out);
    sb_eng_client_clear(&c);
    return s;
}

/* "nomerge\0<lower id>\0<higher id>" in identities: an undone merge is
 * not made again automatically. */
static size_t nomerge_key(unsigned char *k, size_t cap, uint64_t a, uint64_t b)
{
    char x[21], y[21];
    return sb_eng_key_join(k, cap, "nomerge", sb_id_str(a < b ? a : b, x), sb_id_str(a < b ? b : a, y));
}

sb_status sb_eng_auto_merge(sb_engine *e, sb_eng_client *c, const char *phone, const char *email)
{
    const char *kinds[2] = {"phone", "email"}, *vals[2] = {phone, email};
    const char **fields[2] = {&c->phone, &c->email};
    uint64_t other = 0;
    for (int i = 0; i < 2; i++) {
        uint64_t owner;
        if (!vals[i]) continue;
        sb_status s = sb_eng_client_find(e, kinds[i], vals[i], NULL, &owner);
        if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
        if (s != SB_OK || owner == c->id) continue;
        if (!other) other = owner;
        /* the contact belongs to the profile that owns its key: the merge
         * brings it over (and an undo takes it back) */
        if (*fields[i] && strcmp(*fields[i], vals[i]) == 0) *fields[i] = NULL;
    }
    if (!other) return SB_OK;
    unsigned char nk[SB_ENG_KEY_MAX], v[8];
    size_t nl = nomerge_key(nk, sizeof nk, c->id, other), vl;
    sb_status s = sb_store_get(e->st, TBL(e, TB_IDENTITIES), nk, nl, v, sizeof v, &vl);
    if (s == SB_OK || s == SB_ERR_TOO_BIG) return SB_OK; /* a supervisor said no */
    if (s != SB_ERR_NOT_FOUND) return s;
    /* what resolve changed is stored first; the older profile stays */
    if ((s = sb_eng_client_commit(e, c)) != SB_OK) return s;
    uint64_t keep = c->id < other ? c->id : other, gone = c->id < other ? other : c->id;
    char err[160] = "";
    s = do_merge(e, keep, gone, "auto", NULL, err, sizeof err);
    if (s == SB_ERR_INVALID || s == SB_ERR_NOT_FOUND) {
        char a[21], b[21];
        sb_warn("engine", "clients %s and %s share a contact but were not merged: %s",
                sb_id_str(keep, a), sb_id_str(gone, b), err);
        return SB_OK;
    }
    if (s != SB_OK) return s;
    sb_eng_client_clear(c);
    return sb_eng_client_load(e, keep, c);
}

/* ---- undo --------------------------------------------------------------------- */

static bool in_list(const uint64_t *v, size_t n, uint64_t x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x) return true;
    return false;
}

static bool in_strs(char *const *v, size_t n, const char *x)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], x) == 0) return true;
    return false;
}

sb_status sb_engine_audit_undo(sb_engine *e, const char *audit_id, const char *by, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t aid = audit_id ? sb_id_parse(audit_id) : 0;
    if (!aid) return SB_ERR_NOT_FOUND;
    sb_eng_audit a;
    sb_status s = sb_eng_audit_load(e, aid, &a);
    if (s != SB_OK) return s;
    sb_eng_client t, src;
    memset(&src, 0, sizeof src);
    bool can = strcmp(a.kind, "merge") == 0 && !a.undone_at && a.snapshot;
    if (!can || sb_eng_client_load(e, a.target, &t) != SB_OK) {
        s = sb_eng_json_take(sb_eng_audit_json(&a), out);
        sb_eng_audit_clear(&a);
        return s == SB_OK ? SB_ERR_STATE : s;
    }
    /* the source comes back as it was stored */
    unsigned char k[8];
    sb_key_put_u64(k, a.source);
    s = sb_store_put(e->st, TBL(e, TB_CLIENTS), k, 8, a.snapshot, a.snapshot_len);
    if (s == SB_OK) s = sb_eng_client_load(e, a.source, &src);
    /* its channel accounts and contacts name it again */
    size_t m = 0;
    for (size_t i = 0; s == SB_OK && i < src.n_ids; i++)
        s = sb_eng_ident_put(e, src.ids[i].plugin, src.ids[i].instance, src.ids[i].external_id, a.source);
    for (size_t i = 0; s == SB_OK && i < t.n_ids; i++) {
        bool theirs = false;
        for (size_t j = 0; j < src.n_ids && !theirs; j++)
            theirs = strcmp(t.ids[i].plugin, src.ids[j].plugin) == 0 &&
                     strcmp(t.ids[i].instance, src.ids[j].instance) == 0 &&
                     strcmp(t.ids[i].external_id, src.ids[j].external_id) == 0;
        if (!theirs) t.ids[m++] = t.ids[i];
    }
    if (s == SB_OK) t.n_ids = m;
    if (s == SB_OK && src.phone) {
        s = sb_eng_ident_put(e, "phone", src.phone, NULL, a.source);
        if (a.phone_taken && t.phone && strcmp(t.phone, src.phone) == 0) t.phone = NULL;
    }
    if (s == SB_OK && src.email) {
        s = sb_eng_ident_put(e, "email", src.email, NULL, a.source);
        if (a.email_taken && t.email && strcmp(t.email, src.email) == 0) t.email = NULL;
    }
    /* what the target took over goes back */
    m = 0;
    for (size_t i = 0; i < t.n_attrs; i++) {
        if (in_strs(a.attrs_added, a.n_attrs, t.attr_keys[i])) continue;
        ((const char **)t.attr_keys)[m] = t.attr_keys[i];
        ((const char **)t.attr_vals)[m++] = t.attr_vals[i];
    }
    t.n_attrs = m;
    m = 0;
    for (size_t i = 0; i < t.n_tags; i++)
        if (!in_strs(a.tags_added, a.n_tags, t.tags[i])) ((const char **)t.tags)[m++] = t.tags[i];
    t.n_tags = m;
    /* and so do its conversations with their history */
    if (s == SB_OK) s = move_convs(e, a.convs, a.n_convs, a.target, a.source);
    if (in_list(a.convs, a.n_convs, t.open_conv)) t.open_conv = 0;
    if (s == SB_OK) s = sb_eng_search_update(e, NULL, &src);
    unsigned char nk[SB_ENG_KEY_MAX];
    size_t nl = nomerge_key(nk, sizeof nk, a.target, a.source);
    if (s == SB_OK) s = sb_store_put(e->st, TBL(e, TB_IDENTITIES), nk, nl, "", 0);
    t.dirty = true;
    if (s == SB_OK) s = sb_eng_client_commit(e, &t);
    a.undone_at = sb_eng_now();
    free(a.undone_by);
    a.undone_by = sb_eng_xstrdup(by);
    if (s == SB_OK) s = sb_eng_audit_save(e, &a);
    if (s == SB_OK) {
        json_t *ev = sb_eng_event_new("client.unmerged");
        if (!ev || json_object_set_new(ev, "client", sb_eng_client_json(&t)) != 0 ||
            json_object_set_new(ev, "restored", sb_eng_client_json(&src)) != 0 ||
            json_object_set_new(ev, "audit_id", sb_eng_json_id(a.id)) != 0) {
            json_decref(ev);
            s = SB_ERR_NOMEM;
        } else {
            s = sb_eng_emit(e, ev);
        }
    }
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_audit_json(&a), out);
    sb_eng_client_clear(&src);
    sb_eng_client_clear(&t);
    sb_eng_audit_clear(&a);
    sb_eng_rt_settle(e);
    return s;
}
