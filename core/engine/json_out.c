#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The api.md shapes. Every builder returns NULL when memory runs out; a
 * NULL member makes the whole object NULL (set() below), so callers check
 * once. */

json_t *sb_eng_json_id(uint64_t id)
{
    char buf[21];
    return id ? json_string(sb_id_str(id, buf)) : json_null();
}

json_t *sb_eng_json_time(int64_t ms)
{
    if (ms <= 0) return json_null();
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm)) return json_null();
    char buf[40];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, sizeof buf - n, ".%03dZ", (int)(ms % 1000));
    return json_string(buf);
}

json_t *sb_eng_json_str(const char *s)
{
    if (!s) return json_null();
    json_t *j = json_string(s);
    if (j) return j;
    /* Stored text is checked on the way in; this covers older data. */
    char *clean = sb_eng_sanitize(s, strlen(s));
    j = clean ? json_string(clean) : NULL;
    free(clean);
    return j;
}

static bool set(json_t *o, const char *k, json_t *v, bool ok)
{
    if (!o || !v) {
        json_decref(v);
        return false;
    }
    return json_object_set_new(o, k, v) == 0 && ok;
}

static json_t *done(json_t *o, bool ok)
{
    if (ok) return o;
    json_decref(o);
    return NULL;
}

static json_t *str_array(const char *const *items, size_t n)
{
    json_t *a = json_array();
    bool ok = a != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(a, sb_eng_json_str(items[i] ? items[i] : "")) == 0;
    return done(a, ok);
}

json_t *sb_eng_json_attr(const char *v)
{
    if (v && v[0] == SB_ENG_TYPED) {
        json_t *j = json_loads(v + 1, JSON_DECODE_ANY, NULL);
        if (j && (json_is_number(j) || json_is_boolean(j))) return j;
        json_decref(j);
        return sb_eng_json_str(v + 1);
    }
    return sb_eng_json_str(v);
}

static json_t *str_map(const char *const *keys, const char *const *vals, size_t n)
{
    json_t *o = json_object();
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++) ok = set(o, keys[i], sb_eng_json_attr(vals[i]), ok);
    return done(o, ok);
}

json_t *sb_eng_msg_json(const sb_eng_msg *m)
{
    json_t *o = json_object(), *author = json_object(), *buttons = json_array(),
           *atts = json_array(), *delivery = NULL;
    bool ok = true;
    ok = set(author, "kind", sb_eng_json_str(m->author_kind), ok);
    ok = set(author, "id", sb_eng_json_str(m->author_id), ok);
    for (size_t i = 0; ok && i < m->n_buttons; i++) {
        json_t *b = json_object();
        bool bok = set(b, "id", sb_eng_json_str(m->buttons[i].id), true);
        bok = set(b, "title", sb_eng_json_str(m->buttons[i].title), bok);
        ok = json_array_append_new(buttons, done(b, bok)) == 0;
    }
    for (size_t i = 0; ok && i < m->n_atts; i++) {
        const sb_attachment *at = &m->atts[i];
        json_t *a = json_object();
        bool aok = set(a, "kind", sb_eng_json_str(at->kind), true);
        aok = set(a, "url", sb_eng_json_str(at->ref), aok);
        aok = set(a, "name", sb_eng_json_str(at->name), aok);
        aok = set(a, "mime", sb_eng_json_str(at->mime), aok);
        json_int_t size = at->size > INT64_MAX ? INT64_MAX : (json_int_t)at->size;
        aok = set(a, "size", size ? json_integer(size) : json_null(), aok);
        ok = json_array_append_new(atts, done(a, aok)) == 0;
    }
    if (m->delivery_status) {
        delivery = json_object();
        ok = set(delivery, "status", sb_eng_json_str(m->delivery_status), ok);
        ok = set(delivery, "error", sb_eng_json_str(m->delivery_error), ok);
    } else {
        delivery = json_null(); /* inbound: nothing to deliver */
    }
    ok = set(o, "id", sb_eng_json_id(m->id), ok);
    ok = set(o, "conversation_id", sb_eng_json_id(m->conv_id), ok);
    ok = set(o, "client_id", sb_eng_json_id(m->client_id), ok);
    ok = set(o, "channel", sb_eng_json_str(m->plugin), ok);
    ok = set(o, "instance", sb_eng_json_str(m->instance), ok);
    ok = set(o, "direction", sb_eng_json_str(m->direction), ok);
    ok = set(o, "author", author, ok);
    ok = set(o, "type", sb_eng_json_str(m->type), ok);
    ok = set(o, "text", sb_eng_json_str(m->text), ok);
    ok = set(o, "buttons", buttons, ok);
    ok = set(o, "attachments", atts, ok);
    if (m->button_id) ok = set(o, "button_id", sb_eng_json_str(m->button_id), ok);
    if (m->event) ok = set(o, "event", sb_eng_json_str(m->event), ok);
    if (m->event && strcmp(m->event, "edit") == 0)
        ok = set(o, "edit_of", sb_eng_json_id(m->edit_of), ok);
    ok = set(o, "created_at", sb_eng_json_time(m->created_at), ok);
    ok = set(o, "sent_at", sb_eng_json_time(m->sent_at), ok);
    ok = set(o, "delivery", delivery, ok);
    return done(o, ok);
}

json_t *sb_eng_conv_json(sb_engine *e, const sb_eng_conv *c)
{
    const rt_conv *rc = strcmp(c->status, "queued") == 0 ? sb_eng_rt_conv(e, c->id) : NULL;
    size_t pos = rc ? sb_eng_rt_position(e, rc) : 0;
    json_t *o = json_object();
    bool ok = true;
    ok = set(o, "id", sb_eng_json_id(c->id), ok);
    ok = set(o, "client_id", sb_eng_json_id(c->client_id), ok);
    ok = set(o, "channel", sb_eng_json_str(c->plugin), ok);
    ok = set(o, "instance", sb_eng_json_str(c->instance), ok);
    ok = set(o, "status", sb_eng_json_str(c->status), ok);
    ok = set(o, "group_id", sb_eng_json_str(c->group), ok);
    ok = set(o, "operator_id", sb_eng_json_id(c->operator_id), ok);
    ok = set(o, "queue_position", pos ? json_integer((json_int_t)pos) : json_null(), ok);
    ok = set(o, "queued_for_operator_id", sb_eng_json_id(c->target_op), ok);
    ok = set(o, "priority", json_integer((json_int_t)c->priority), ok);
    ok = set(o, "created_at", sb_eng_json_time(c->created_at), ok);
    ok = set(o, "assigned_at", sb_eng_json_time(c->assigned_at), ok);
    ok = set(o, "first_response_at", sb_eng_json_time(c->first_response_at), ok);
    ok = set(o, "closed_at", sb_eng_json_time(c->closed_at), ok);
    ok = set(o, "tags", str_array(c->tags, c->n_tags), ok);
    ok = set(o, "attributes", str_map(c->attr_keys, c->attr_vals, c->n_attrs), ok);
    ok = set(o, "bot", sb_eng_json_str(c->bot), ok);
    ok = set(o, "rating", c->rating ? json_integer((json_int_t)c->rating) : json_null(), ok);
    return done(o, ok);
}

json_t *sb_eng_client_json(const sb_eng_client *c)
{
    json_t *o = json_object(), *ids = json_array();
    bool ok = true;
    for (size_t i = 0; ok && i < c->n_ids; i++) {
        json_t *id = json_object();
        bool iok = set(id, "channel", sb_eng_json_str(c->ids[i].plugin), true);
        iok = set(id, "instance", sb_eng_json_str(c->ids[i].instance), iok);
        iok = set(id, "external_id", sb_eng_json_str(c->ids[i].external_id), iok);
        iok = set(id, "unreachable", json_boolean(c->ids[i].unreachable), iok);
        ok = json_array_append_new(ids, done(id, iok)) == 0;
    }
    ok = set(o, "id", sb_eng_json_id(c->id), ok);
    ok = set(o, "name", sb_eng_json_str(c->name), ok);
    ok = set(o, "phone", sb_eng_json_str(c->phone), ok);
    ok = set(o, "email", sb_eng_json_str(c->email), ok);
    ok = set(o, "attributes", str_map(c->attr_keys, c->attr_vals, c->n_attrs), ok);
    ok = set(o, "tags", str_array(c->tags, c->n_tags), ok);
    ok = set(o, "identities", ids, ok);
    ok = set(o, "open_conversation_id", sb_eng_json_id(c->open_conv), ok);
    ok = set(o, "created_at", sb_eng_json_time(c->created_at), ok);
    return done(o, ok);
}

json_t *sb_eng_page_json(json_t *items, uint64_t next_cursor)
{
    json_t *o = json_object();
    bool ok = set(o, "items", items, true);
    ok = set(o, "next_cursor", sb_eng_json_id(next_cursor), ok);
    return done(o, ok);
}

sb_status sb_eng_page_out(sb_status s, json_t *items, uint64_t next_cursor, char **out)
{
    if (s == SB_OK) return sb_eng_json_take(sb_eng_page_json(items, next_cursor), out);
    json_decref(items);
    return s;
}

sb_status sb_eng_json_take(json_t *j, char **out)
{
    *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return *out ? SB_OK : SB_ERR_NOMEM;
}
