#include "wire.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Optional string field: absent or null -> NULL; anything else must be a
 * string within max bytes. */
static int opt_str(json_t *o, const char *key, size_t max, bool required, const char **out,
                   char *err, size_t errlen)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (!required) return 0;
        snprintf(err, errlen, "%s: required, a string of 1-%zu bytes", key, max);
        return -1;
    }
    if (!json_is_string(v) || json_string_length(v) > max ||
        (required && json_string_length(v) == 0) || strlen(json_string_value(v)) != json_string_length(v)) {
        snprintf(err, errlen, "%s: expected a string of %s%zu bytes", key,
                 required ? "1-" : "at most ", max);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

/* The kinds the core stores (sb_attachment in plugin.h); it refuses any
 * other with a bare SB_ERR_INVALID, so the field is named here instead. */
static bool kind_known(const char *k)
{
    static const char *const kinds[] = {"image", "file", "audio", "video", "voice"};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (strcmp(k, kinds[i]) == 0) return true;
    return false;
}

/* A phone the core can normalise: digits with "+()-. " between, 3 to 20
 * digits. Anything else the core refuses without saying which field. */
static bool phone_ok(const char *p)
{
    size_t digits = 0;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') digits++;
        else if (!strchr("+()-. ", *p)) return false;
    }
    return digits >= 3 && digits <= 20;
}

/* One '@' with something on both sides, no spaces or control bytes: the
 * same test the core applies before storing the identity. */
static bool email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    if (!at || at == e || at[1] == 0 || strchr(at + 1, '@')) return false;
    for (; *e; e++)
        if ((unsigned char)*e <= ' ' || *e == 0x7f) return false;
    return true;
}

static int parse_attachments(json_t *arr, ac_inbound *in, char *err, size_t errlen)
{
    if (!arr || json_is_null(arr)) return 0;
    if (!json_is_array(arr) || json_array_size(arr) > AC_MAX_ATTACHMENTS) {
        snprintf(err, errlen, "attachments: expected an array of at most %d items",
                 AC_MAX_ATTACHMENTS);
        return -1;
    }
    for (size_t i = 0; i < json_array_size(arr); i++) {
        json_t *a = json_array_get(arr, i);
        sb_attachment *at = &in->att[i];
        char field[64], sub[256];
        snprintf(field, sizeof field, "attachments[%zu]", i);
        if (!json_is_object(a)) {
            snprintf(err, errlen, "%s: expected an object", field);
            return -1;
        }
        at->struct_size = sizeof *at;
        if (opt_str(a, "url", 2048, true, &at->ref, sub, sizeof sub) ||
            opt_str(a, "kind", 16, false, &at->kind, sub, sizeof sub) ||
            opt_str(a, "name", 256, false, &at->name, sub, sizeof sub) ||
            opt_str(a, "mime", 128, false, &at->mime, sub, sizeof sub)) {
            snprintf(err, errlen, "%s.%s", field, sub);
            return -1;
        }
        json_t *size = json_object_get(a, "size");
        if (size && !json_is_null(size) && (!json_is_integer(size) || json_integer_value(size) < 0)) {
            snprintf(err, errlen, "%s.size: expected a non-negative integer", field);
            return -1;
        }
        at->size = size ? (uint64_t)json_integer_value(size) : 0;
        if (!at->kind) {
            at->kind = "file";
        } else if (!kind_known(at->kind)) {
            snprintf(err, errlen, "%s.kind: expected one of image, file, audio, video, voice",
                     field);
            return -1;
        }
    }
    in->msg.attachments = in->att;
    in->msg.n_attachments = json_array_size(arr);
    return 0;
}

int ac_parse_inbound(const char *body, size_t len, ac_inbound *in, char *err, size_t errlen)
{
    memset(in, 0, sizeof *in);
    json_error_t je;
    in->root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!in->root) {
        snprintf(err, errlen, "body: not valid JSON at line %d column %d: %s", je.line,
                 je.column, je.text);
        return -1;
    }
    if (!json_is_object(in->root)) {
        snprintf(err, errlen, "body: expected a JSON object");
        goto fail;
    }
    sb_inbound *m = &in->msg;
    m->struct_size = sizeof *m;
    m->kind = SB_IN_MESSAGE;
    if (opt_str(in->root, "external_id", AC_MAX_ID, true, &m->external_id, err, errlen) ||
        opt_str(in->root, "message_id", AC_MAX_ID, true, &m->dedup_key, err, errlen) ||
        opt_str(in->root, "name", 256, false, &m->name, err, errlen) ||
        opt_str(in->root, "phone", 32, false, &m->phone, err, errlen) ||
        opt_str(in->root, "email", 254, false, &m->email, err, errlen) ||
        opt_str(in->root, "text", 65536, false, &m->text, err, errlen) ||
        opt_str(in->root, "button_id", AC_MAX_ID, false, &m->button_id, err, errlen) ||
        parse_attachments(json_object_get(in->root, "attachments"), in, err, errlen))
        goto fail;
    /* "" is what an app sends for "unknown"; the core ignores it too. */
    if (m->phone && *m->phone && !phone_ok(m->phone)) {
        snprintf(err, errlen, "phone: expected 3-20 digits, optionally with + ( ) - . and spaces");
        goto fail;
    }
    if (m->email && *m->email && !email_ok(m->email)) {
        snprintf(err, errlen, "email: expected an address like name@example.com");
        goto fail;
    }
    /* An empty text or button_id carries nothing: the core refuses such a
     * message, so it must fail here with the field named. */
    if ((!m->text || !*m->text) && (!m->button_id || !*m->button_id) && !m->n_attachments) {
        snprintf(err, errlen, "text: required (or button_id, or attachments)");
        goto fail;
    }
    return 0;
fail:
    json_decref(in->root);
    in->root = NULL;
    return -1;
}

void ac_inbound_free(ac_inbound *in)
{
    json_decref(in->root);
    in->root = NULL;
}

char *ac_outbound_json(const sb_outbound *m)
{
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "message_id", json_string(m->message_id));
    json_object_set_new(o, "external_id", json_string(m->external_id));
    json_object_set_new(o, "text", m->text ? json_string(m->text) : json_null());
    json_object_set_new(o, "conversation_id", json_string(m->conversation_id));
    if (m->n_buttons) {
        json_t *b = json_array();
        for (size_t i = 0; i < m->n_buttons; i++)
            json_array_append_new(b, json_pack("{s:s, s:s}", "id", m->buttons[i].id, "title",
                                               m->buttons[i].title));
        json_object_set_new(o, "buttons", b);
    }
    if (m->n_attachments) {
        json_t *a = json_array();
        for (size_t i = 0; i < m->n_attachments; i++) {
            const sb_attachment *at = &m->attachments[i];
            json_array_append_new(a, json_pack("{s:s, s:s, s:s?, s:s?, s:I}", "kind",
                                               at->kind ? at->kind : "file", "url", at->ref,
                                               "name", at->name, "mime", at->mime, "size",
                                               (json_int_t)at->size));
        }
        json_object_set_new(o, "attachments", a);
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}
