#include "engine/internal.h"

#include <string.h>

#include "util/log.h"

/* One client across channels: an identity key per channel account, plus
 * "phone\0..." and "email\0..." keys, all naming the client. A channel
 * account with a phone or e-mail that another account already gave joins
 * that client; a known account giving another profile's phone or e-mail
 * makes the two profiles one (merge.c, after resolve). */

static sb_status id_get(sb_engine *e, const void *key, size_t klen, uint64_t *cid)
{
    unsigned char v[8];
    size_t vlen;
    sb_status s = sb_store_get(e->st, TBL(e, TB_IDENTITIES), key, klen, v, sizeof v, &vlen);
    if (s == SB_ERR_TOO_BIG || (s == SB_OK && vlen != 8)) return SB_ERR_IO;
    if (s == SB_OK) *cid = sb_key_get_u64(v);
    return s;
}

static sb_status id_put(sb_engine *e, const void *key, size_t klen, uint64_t cid)
{
    unsigned char v[8];
    sb_key_put_u64(v, cid);
    return sb_store_put(e->st, TBL(e, TB_IDENTITIES), key, klen, v, sizeof v);
}

/* Points "kind\0value" at the client unless it names another one: then
 * the two profiles are merged after resolve (sb_eng_auto_merge). */
static sb_status index_claim(sb_engine *e, const char *kind, const char *value, uint64_t cid)
{
    unsigned char key[SB_ENG_KEY_MAX];
    size_t klen = sb_eng_key_join(key, sizeof key, kind, value, NULL);
    uint64_t owner;
    sb_status s = id_get(e, key, klen, &owner);
    if (s == SB_ERR_NOT_FOUND) return id_put(e, key, klen, cid);
    if (s == SB_OK && owner != cid) {
        char a[21], b[21];
        sb_debug("engine", "%s of client %s already names client %s", kind, sb_id_str(cid, a),
                 sb_id_str(owner, b));
    }
    return s;
}

static sb_status index_release(sb_engine *e, const char *kind, const char *value, uint64_t cid)
{
    unsigned char key[SB_ENG_KEY_MAX];
    size_t klen = sb_eng_key_join(key, sizeof key, kind, value, NULL);
    uint64_t owner;
    sb_status s = id_get(e, key, klen, &owner);
    if (s == SB_OK && owner == cid) s = sb_store_del(e->st, TBL(e, TB_IDENTITIES), key, klen);
    return s == SB_ERR_NOT_FOUND ? SB_OK : s;
}

/* Sets phone or e-mail (*field) to value (normalized), moving its index. */
static sb_status set_contact(sb_engine *e, sb_eng_client *c, const char **field,
                             const char *kind, const char *value)
{
    if (*field && strcmp(*field, value) == 0) return SB_OK;
    sb_status s = *field ? index_release(e, kind, *field, c->id) : SB_OK;
    if (s == SB_OK) s = index_claim(e, kind, value, c->id);
    if (s != SB_OK) return s;
    const char *copy = sb_eng_strndup(&c->arena, value, strlen(value));
    if (!copy) return SB_ERR_NOMEM;
    *field = copy;
    c->dirty = true;
    return SB_OK;
}

static sb_eng_identity *find_identity(sb_eng_client *c, const char *plugin,
                                      const char *instance, const char *external_id)
{
    for (size_t i = 0; i < c->n_ids; i++)
        if (strcmp(c->ids[i].plugin, plugin) == 0 && strcmp(c->ids[i].instance, instance) == 0 &&
            strcmp(c->ids[i].external_id, external_id) == 0)
            return &c->ids[i];
    return NULL;
}

static sb_status add_identity(sb_eng_client *c, const char *plugin, const char *instance,
                              const char *external_id)
{
    sb_eng_arena *a = &c->arena;
    sb_eng_identity *ids = sb_eng_alloc(a, (c->n_ids + 1) * sizeof *ids);
    if (!ids) return SB_ERR_NOMEM;
    if (c->n_ids) memcpy(ids, c->ids, c->n_ids * sizeof *ids);
    sb_eng_identity *it = &ids[c->n_ids];
    it->plugin = sb_eng_strndup(a, plugin, strlen(plugin));
    it->instance = sb_eng_strndup(a, instance, strlen(instance));
    it->external_id = sb_eng_strndup(a, external_id, strlen(external_id));
    it->unreachable = false;
    if (!it->plugin || !it->instance || !it->external_id) return SB_ERR_NOMEM;
    c->ids = ids;
    c->n_ids++;
    c->dirty = true;
    return SB_OK;
}

/* The client a phone or e-mail already names, when it can take one more
 * identity; 0 otherwise. */
static sb_status by_contact(sb_engine *e, const char *phone, const char *email, uint64_t *cid)
{
    const char *kinds[2] = {"phone", "email"}, *vals[2] = {phone, email};
    *cid = 0;
    for (int i = 0; i < 2 && !*cid; i++) {
        if (!vals[i]) continue;
        unsigned char key[SB_ENG_KEY_MAX];
        size_t klen = sb_eng_key_join(key, sizeof key, kinds[i], vals[i], NULL);
        sb_status s = id_get(e, key, klen, cid);
        if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
    }
    return SB_OK;
}

sb_status sb_eng_client_find(sb_engine *e, const char *plugin, const char *instance,
                             const char *external_id, uint64_t *cid)
{
    unsigned char key[SB_ENG_KEY_MAX];
    size_t klen = sb_eng_key_join(key, sizeof key, plugin, instance, external_id);
    return klen ? id_get(e, key, klen, cid) : SB_ERR_TOO_BIG;
}

sb_status sb_eng_ident_put(sb_engine *e, const char *a, const char *b, const char *c, uint64_t cid)
{
    unsigned char key[SB_ENG_KEY_MAX];
    size_t klen = sb_eng_key_join(key, sizeof key, a, b, c);
    return klen ? id_put(e, key, klen, cid) : SB_ERR_TOO_BIG;
}

sb_status sb_eng_client_resolve(sb_engine *e, const char *plugin, const char *instance,
                                const sb_inbound *in, const char *phone, const char *email,
                                int64_t now, sb_eng_client *c)
{
    unsigned char key[SB_ENG_KEY_MAX];
    size_t klen = sb_eng_key_join(key, sizeof key, plugin, instance, in->external_id);
    if (!klen) return SB_ERR_TOO_BIG;
    uint64_t cid = 0;
    sb_status s = id_get(e, key, klen, &cid);
    if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
    bool known = s == SB_OK;
    if (!known && (s = by_contact(e, phone, email, &cid)) != SB_OK) return s;
    /* a new account the channel links to another one joins its client */
    if (!known && !cid && in->link_plugin && in->link_instance && in->link_external_id &&
        *in->link_external_id) {
        s = sb_eng_client_find(e, in->link_plugin, in->link_instance, in->link_external_id, &cid);
        if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
    }

    if (cid) {
        s = sb_eng_client_load(e, cid, c);
        if (s == SB_ERR_NOT_FOUND) s = SB_ERR_IO; /* an index naming nobody */
        if (s != SB_OK) return s;
        if (!known && c->n_ids >= SB_ENG_MAX_IDENTITIES) {
            char ids[21];
            sb_warn("engine", "client %s has %d identities; %s/%s %s gets its own profile",
                    sb_id_str(cid, ids), SB_ENG_MAX_IDENTITIES, plugin, instance, in->external_id);
            sb_eng_client_clear(c);
            cid = 0;
        }
    }
    if (!cid) {
        memset(c, 0, sizeof *c);
        c->id = sb_id_next();
        c->created_at = now;
        c->created = true;
    }
    sb_eng_identity *it = find_identity(c, plugin, instance, in->external_id);
    if (!it) {
        s = add_identity(c, plugin, instance, in->external_id);
        if (s == SB_OK && !known) s = id_put(e, key, klen, c->id);
        if (s != SB_OK) return s;
    } else if (it->unreachable) {
        it->unreachable = false; /* the client wrote again */
        c->dirty = true;
    }
    if (in->name && *in->name && !c->name) {
        c->name = sb_eng_strndup(&c->arena, in->name, strlen(in->name));
        if (!c->name) return SB_ERR_NOMEM;
        c->dirty = true;
    }
    /* A shared contact replaces what we had; otherwise fill gaps only. */
    bool replace = in->kind == SB_IN_CONTACT;
    s = SB_OK;
    if (phone && (replace || !c->phone)) s = set_contact(e, c, &c->phone, "phone", phone);
    if (s == SB_OK && email && (replace || !c->email))
        s = set_contact(e, c, &c->email, "email", email);
    return s;
}

sb_status sb_eng_client_commit(sb_engine *e, sb_eng_client *c)
{
    if (!c->created && !c->dirty) return SB_OK;
    /* the search keys follow name, contacts and identities */
    sb_eng_client old;
    sb_status s = c->created ? SB_ERR_NOT_FOUND : sb_eng_client_load(e, c->id, &old);
    if (s == SB_OK) {
        s = sb_eng_search_update(e, &old, c);
        sb_eng_client_clear(&old);
    } else if (s == SB_ERR_NOT_FOUND) {
        s = sb_eng_search_update(e, NULL, c);
    }
    if (s == SB_OK) s = sb_eng_client_save(e, c);
    if (s != SB_OK) return s;
    const char *type = c->created ? "client.created" : "client.updated";
    c->created = c->dirty = false;
    return sb_eng_emit_obj(e, type, "client", sb_eng_client_json(c));
}

sb_status sb_eng_client_set_unreachable(sb_engine *e, uint64_t client_id, const char *plugin,
                                        const char *instance, const char *external_id)
{
    sb_eng_client c;
    sb_status s = sb_eng_client_load(e, client_id, &c);
    if (s != SB_OK) return s;
    sb_eng_identity *it = find_identity(&c, plugin, instance, external_id);
    if (it && !it->unreachable) {
        it->unreachable = true;
        c.dirty = true;
        s = sb_eng_client_commit(e, &c);
    }
    sb_eng_client_clear(&c);
    return s;
}

sb_status sb_engine_client_json(sb_engine *e, const char *id, char **json)
{
    if (!e || !id || !json) return SB_ERR_INVALID;
    *json = NULL;
    uint64_t cid = sb_id_parse(id);
    if (!cid) return SB_ERR_NOT_FOUND;
    sb_eng_client c;
    sb_status s = sb_eng_client_load(e, cid, &c);
    if (s != SB_OK) return s;
    s = sb_eng_json_take(sb_eng_client_json(&c), json);
    sb_eng_client_clear(&c);
    return s;
}
