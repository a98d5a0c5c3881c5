#include "engine/internal.h"

#include <string.h>

/* PATCH of a client profile by an operator: name, phone, e-mail (with
 * their identity keys: a contact another profile owns is a conflict, to
 * be solved by a merge), attributes and tags. */

static const char *const k_keys[] = {"name", "phone", "email", "attributes", "tags", "id",
                                     "identities", "created_at", "open_conversation_id", NULL};

static sb_status key_del(sb_engine *e, const char *kind, const char *value)
{
    unsigned char k[SB_ENG_KEY_MAX];
    size_t klen = sb_eng_key_join(k, sizeof k, kind, value, NULL);
    sb_status s = sb_store_del(e->st, TBL(e, TB_IDENTITIES), k, klen);
    return s == SB_ERR_NOT_FOUND ? SB_OK : s;
}

/* Moves contact `kind` of c to value (normalized, or NULL to clear). */
static sb_status contact(sb_engine *e, sb_eng_client *c, const char **field, const char *kind,
                         const char *value)
{
    if ((!*field && !value) || (*field && value && strcmp(*field, value) == 0)) return SB_OK;
    uint64_t owner = 0;
    sb_status s = value ? sb_eng_client_find(e, kind, value, NULL, &owner) : SB_ERR_NOT_FOUND;
    if (s == SB_OK && owner != c->id) return SB_ERR_EXISTS;
    if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
    uint64_t old_owner = 0;
    if (*field && sb_eng_client_find(e, kind, *field, NULL, &old_owner) == SB_OK && old_owner == c->id &&
        (s = key_del(e, kind, *field)) != SB_OK)
        return s;
    if (value && (s = sb_eng_ident_put(e, kind, value, NULL, c->id)) != SB_OK) return s;
    *field = value ? sb_eng_strndup(&c->arena, value, strlen(value)) : NULL;
    if (value && !*field) return SB_ERR_NOMEM;
    return SB_OK;
}

sb_status sb_engine_client_patch(sb_engine *e, const char *id, const char *json, size_t len,
                                 char **out, char *err, size_t errlen)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t cid = id ? sb_id_parse(id) : 0;
    if (!cid) return SB_ERR_NOT_FOUND;
    json_t *o = sb_eng_body(json, len, err, errlen);
    if (!o) return SB_ERR_INVALID;
    const char *name = NULL, *phone = NULL, *email = NULL;
    bool has_name, has_phone, has_email;
    char pn[24], em[256];
    sb_status s = sb_eng_only(o, k_keys, err, errlen);
    /* id, identities and the rest may come back from a GET: ignored */
    if (s == SB_OK) s = sb_eng_in_str(o, "name", 0, SB_ENG_MAX_TITLE, true, &name, &has_name, err, errlen);
    if (s == SB_OK && name && !sb_eng_utf8_valid(name, strlen(name))) s = sb_eng_bad(err, errlen, "name", "not UTF-8");
    if (s == SB_OK) s = sb_eng_in_str(o, "phone", 0, 64, true, &phone, &has_phone, err, errlen);
    if (s == SB_OK && phone && *phone && sb_eng_phone_norm(phone, pn) != SB_OK)
        s = sb_eng_bad(err, errlen, "phone", "3..20 digits");
    if (s == SB_OK) s = sb_eng_in_str(o, "email", 0, 254, true, &email, &has_email, err, errlen);
    if (s == SB_OK && email && *email && sb_eng_email_norm(email, em) != SB_OK)
        s = sb_eng_bad(err, errlen, "email", "not an e-mail address");
    json_t *tags = json_object_get(o, "tags");
    if (s == SB_OK && tags && (!json_is_array(tags) || json_array_size(tags) > 64))
        s = sb_eng_bad(err, errlen, "tags", "an array of at most 64 strings");
    size_t i;
    json_t *v;
    if (s == SB_OK && tags)
        json_array_foreach(tags, i, v) if (!json_is_string(v) || !json_string_length(v) ||
                                           json_string_length(v) > 64)
            s = sb_eng_bad(err, errlen, "tags", "item %zu: 1..64 bytes of text", i);
    sb_eng_client c;
    if (s == SB_OK) s = sb_eng_client_load(e, cid, &c);
    if (s != SB_OK) {
        json_decref(o);
        return s;
    }
    if (has_name) {
        c.name = name && *name ? sb_eng_strndup(&c.arena, name, strlen(name)) : NULL;
        if (name && *name && !c.name) s = SB_ERR_NOMEM;
    }
    if (s == SB_OK && has_phone) s = contact(e, &c, &c.phone, "phone", phone && *phone ? pn : NULL);
    if (s == SB_OK && has_email) s = contact(e, &c, &c.email, "email", email && *email ? em : NULL);
    json_t *attrs = json_object_get(o, "attributes");
    if (s == SB_OK && attrs) {
        const char *const *k, *const *vv;
        size_t n;
        s = sb_eng_attrs_merge(&c.arena, c.attr_keys, c.attr_vals, c.n_attrs, attrs, "attributes",
                               &k, &vv, &n, err, errlen);
        if (s == SB_OK) {
            c.attr_keys = k;
            c.attr_vals = vv;
            c.n_attrs = n;
        }
    }
    if (s == SB_OK && tags) {
        size_t n = json_array_size(tags), m = 0;
        const char **t = n ? sb_eng_alloc(&c.arena, n * sizeof *t) : NULL;
        if (n && !t) s = SB_ERR_NOMEM;
        for (i = 0; s == SB_OK && i < n; i++) {
            const char *tv = json_string_value(json_array_get(tags, i));
            bool dup = false;
            for (size_t j = 0; j < m && !dup; j++) dup = strcmp(t[j], tv) == 0;
            if (!dup && !(t[m++] = sb_eng_strndup(&c.arena, tv, strlen(tv)))) s = SB_ERR_NOMEM;
        }
        c.tags = t;
        c.n_tags = m;
    }
    json_decref(o);
    c.dirty = true;
    if (s == SB_OK) s = sb_eng_client_commit(e, &c);
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_client_json(&c), out);
    sb_eng_client_clear(&c);
    return s;
}
