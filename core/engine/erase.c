#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* Erasure on request ("the right to be forgotten"): the profile, its
 * channel accounts and contact keys, its search keys, every conversation
 * with its messages, history keys, edit references and pending outbox
 * entries; merge audits naming the client lose their snapshots. What stays
 * is an audit record with counts and ids only. Work is proportional to the
 * client's own data.
 *
 * Not covered here: events already in the durable log (the log is
 * append-only; its readers must honour client.erased). */

typedef struct u64s {
    uint64_t *v;
    size_t n, cap;
    bool nomem;
} u64s;

static int push_tail(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    u64s *l = ud;
    if (klen < 8) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->nomem = true; return 1; }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = sb_key_get_u64((const unsigned char *)key + klen - 8);
    return 0;
}

/* The last 8 bytes of every key under an 8-byte prefix. */
static sb_status under(sb_engine *e, int table, uint64_t prefix, u64s *l)
{
    unsigned char lo[8], hi[8];
    sb_key_put_u64(lo, prefix);
    sb_key_put_u64(hi, prefix + 1);
    long r = sb_store_scan(e->st, TBL(e, table), lo, 8, hi, 8, false, 0, push_tail, l);
    return r < 0 ? (sb_status)r : l->nomem ? SB_ERR_NOMEM : SB_OK;
}

static sb_status del(sb_engine *e, int table, const void *k, size_t n)
{
    sb_status s = sb_store_del(e->st, TBL(e, table), k, n);
    return s == SB_ERR_NOT_FOUND ? SB_OK : s;
}

static sb_status erase_message(sb_engine *e, uint64_t conv, uint64_t id, uint64_t client)
{
    sb_eng_msg m;
    sb_status s = sb_eng_msg_load(e, conv, id, &m);
    if (s == SB_ERR_NOT_FOUND) return SB_OK;
    if (s != SB_OK) return s;
    unsigned char k[16];
    if (m.ext_ref) {
        unsigned char xk[SB_ENG_KEY_MAX];
        size_t xl = sb_eng_key_join(xk, sizeof xk, m.plugin, m.instance, m.ext_ref);
        if (xl) s = del(e, TB_MSG_EXT, xk, xl);
    }
    sb_eng_outbox_rec o;
    if (s == SB_OK && sb_eng_outbox_load(e, id, &o) == SB_OK) {
        s = sb_eng_outbox_drop(e, &o);
        sb_eng_outbox_clear(&o);
    }
    sb_key_put_u64(k, client);
    sb_key_put_u64(k + 8, id);
    if (s == SB_OK) s = del(e, TB_CLIENT_MSGS, k, 16);
    sb_key_put_u64(k, m.client_id);
    if (s == SB_OK && m.client_id != client) s = del(e, TB_CLIENT_MSGS, k, 16);
    sb_key_put_u64(k, id);
    if (s == SB_OK) s = del(e, TB_MSG_INDEX, k, 8);
    sb_key_put_u64(k, conv);
    sb_key_put_u64(k + 8, id);
    if (s == SB_OK) s = del(e, TB_MESSAGES, k, 16);
    sb_eng_msg_clear(&m);
    return s;
}

static sb_status erase_conv(sb_engine *e, uint64_t id, uint64_t client, uint64_t *n_msgs)
{
    sb_eng_conv c;
    sb_status s = sb_eng_conv_load(e, id, &c);
    if (s == SB_ERR_NOT_FOUND) return SB_OK;
    if (s != SB_OK) return s;
    rt_conv *rc = sb_eng_rt_conv(e, id);
    if (rc) {
        /* operators' screens drop it: closed, reason erased (no content) */
        sb_eng_rt_conv_forget(e, rc);
        json_t *ev = sb_eng_event_new("conversation.closed");
        c.status = "closed";
        c.closed_at = sb_eng_now();
        c.n_tags = c.n_attrs = 0;
        if (!ev || json_object_set_new(ev, "conversation", sb_eng_conv_json(e, &c)) != 0 ||
            json_object_set_new(ev, "reason", json_string("erased")) != 0)
            s = SB_ERR_NOMEM;
        if (s == SB_OK) s = sb_eng_emit(e, ev);
        else json_decref(ev);
    }
    u64s msgs = {0};
    if (s == SB_OK) s = under(e, TB_MESSAGES, id, &msgs);
    for (size_t i = 0; s == SB_OK && i < msgs.n; i++) s = erase_message(e, id, msgs.v[i], client);
    *n_msgs += msgs.n;
    free(msgs.v);
    if (s == SB_OK) s = sb_eng_conv_unindex(e, &c);
    unsigned char k[8];
    sb_key_put_u64(k, id);
    if (s == SB_OK) s = del(e, TB_CONVERSATIONS, k, 8);
    sb_eng_conv_clear(&c);
    return s;
}

static sb_status release_key(sb_engine *e, const char *a, const char *b, const char *c, uint64_t cid)
{
    unsigned char k[SB_ENG_KEY_MAX], v[8];
    size_t kl = sb_eng_key_join(k, sizeof k, a, b, c), vl;
    if (!kl) return SB_OK;
    sb_status s = sb_store_get(e->st, TBL(e, TB_IDENTITIES), k, kl, v, sizeof v, &vl);
    if (s == SB_OK && vl == 8 && sb_key_get_u64(v) == cid) return del(e, TB_IDENTITIES, k, kl);
    return s == SB_ERR_NOT_FOUND || s == SB_OK || s == SB_ERR_TOO_BIG ? SB_OK : s;
}

/* Merge audits naming the client keep ids and times only. */
static sb_status scrub_audits(sb_engine *e, uint64_t cid)
{
    u64s l = {0};
    sb_status s = under(e, TB_AUDIT_CLIENT, cid, &l);
    for (size_t i = 0; s == SB_OK && i < l.n; i++) {
        sb_eng_audit a;
        if (sb_eng_audit_load(e, l.v[i], &a) == SB_OK) {
            free(a.snapshot);
            a.snapshot = NULL;
            a.snapshot_len = 0;
            for (size_t j = 0; j < a.n_attrs; j++) free(a.attrs_added[j]);
            for (size_t j = 0; j < a.n_tags; j++) free(a.tags_added[j]);
            a.n_attrs = a.n_tags = 0;
            s = sb_eng_audit_save(e, &a);
            sb_eng_audit_clear(&a);
        }
        unsigned char k[16];
        sb_key_put_u64(k, cid);
        sb_key_put_u64(k + 8, l.v[i]);
        if (s == SB_OK) s = del(e, TB_AUDIT_CLIENT, k, 16);
    }
    free(l.v);
    return s;
}

/* client.forget: the erased client's channel accounts, for the plugins that
 * keep data of their own under them (a web visitor's history and files).
 * Unlogged: the log must not keep what the erasure removes. */
static sb_status emit_forget(sb_engine *e, const sb_eng_client *c)
{
    char ids[21];
    json_t *accounts = json_array();
    for (size_t i = 0; accounts && i < c->n_ids; i++)
        json_array_append_new(accounts, json_pack("{s:s, s:s, s:s}", "channel", c->ids[i].plugin,
                                                  "instance", c->ids[i].instance, "external_id",
                                                  c->ids[i].external_id));
    json_t *ev = json_pack("{s:s, s:s, s:o}", "type", "client.forget", "client_id",
                           sb_id_str(c->id, ids), "identities", accounts);
    return ev ? sb_eng_emit_unlogged(e, ev) : SB_ERR_NOMEM;
}

sb_status sb_engine_client_erase(sb_engine *e, const char *id, const char *by, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t cid = id ? sb_id_parse(id) : 0;
    if (!cid) return SB_ERR_NOT_FOUND;
    sb_eng_client c;
    sb_status s = sb_eng_client_load(e, cid, &c);
    if (s != SB_OK) return s;
    uint64_t *convs = NULL, n_msgs = 0;
    size_t n_convs = 0;
    s = sb_eng_client_convs(e, cid, &convs, &n_convs);
    for (size_t i = 0; s == SB_OK && i < n_convs; i++) s = erase_conv(e, convs[i], cid, &n_msgs);
    free(convs);
    /* history keys left over (none, unless a conversation went missing) */
    u64s rest = {0};
    if (s == SB_OK) s = under(e, TB_CLIENT_MSGS, cid, &rest);
    for (size_t i = 0; s == SB_OK && i < rest.n; i++) {
        unsigned char k[16];
        sb_key_put_u64(k, cid);
        sb_key_put_u64(k + 8, rest.v[i]);
        s = del(e, TB_CLIENT_MSGS, k, 16);
    }
    free(rest.v);
    for (size_t i = 0; s == SB_OK && i < c.n_ids; i++)
        s = release_key(e, c.ids[i].plugin, c.ids[i].instance, c.ids[i].external_id, cid);
    if (s == SB_OK && c.phone) s = release_key(e, "phone", c.phone, NULL, cid);
    if (s == SB_OK && c.email) s = release_key(e, "email", c.email, NULL, cid);
    if (s == SB_OK) s = sb_eng_search_update(e, &c, NULL);
    if (s == SB_OK) s = scrub_audits(e, cid);
    unsigned char k[8];
    sb_key_put_u64(k, cid);
    if (s == SB_OK) s = del(e, TB_CLIENTS, k, 8);
    sb_eng_audit a;
    memset(&a, 0, sizeof a);
    a.id = sb_eng_audit_new_id();
    a.kind = strdup("erase");
    a.at = sb_eng_now();
    a.by = sb_eng_xstrdup(by);
    a.target = cid;
    a.n_conversations = n_convs;
    a.n_messages = n_msgs;
    if (s == SB_OK && (!a.kind || (by && !a.by))) s = SB_ERR_NOMEM;
    if (s == SB_OK) s = sb_eng_audit_save(e, &a);
    if (s == SB_OK) {
        json_t *ev = sb_eng_event_new("client.erased");
        if (!ev || json_object_set_new(ev, "client_id", sb_eng_json_id(cid)) != 0 ||
            json_object_set_new(ev, "audit_id", sb_eng_json_id(a.id)) != 0) {
            json_decref(ev);
            s = SB_ERR_NOMEM;
        } else {
            s = sb_eng_emit(e, ev);
        }
    }
    if (s == SB_OK) s = emit_forget(e, &c);
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_audit_json(&a), out);
    if (s == SB_OK) {
        char ids[21];
        sb_info("engine", "client %s erased: %zu conversations, %llu messages", sb_id_str(cid, ids),
                n_convs, (unsigned long long)n_msgs);
    }
    sb_eng_audit_clear(&a);
    sb_eng_client_clear(&c);
    sb_eng_rt_settle(e);
    return s;
}
