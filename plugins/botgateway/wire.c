#include "wire.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* ---- out ------------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static int set(json_t *o, const char *key, json_t *v)
{
    return v ? json_object_set_new(o, key, v) : -1;
}

static json_t *rfc3339(int64_t ms)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    char buf[80];
    if (!gmtime_r(&sec, &tm)) return json_null();
    snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return json_string(buf);
}

static json_t *message(const sb_bot_event *ev)
{
    json_t *m = json_object();
    if (!m || set(m, "id", str_or_null(ev->message_id)) || set(m, "text", str_or_null(ev->text)) ||
        set(m, "button_id", str_or_null(ev->button_id))) {
        json_decref(m);
        return NULL;
    }
    /* Media the client sent: the bot may want to look at it or hand off. */
    json_t *stored = ev->message_json ? json_loads(ev->message_json, 0, NULL) : NULL;
    json_t *att = json_object_get(stored, "attachments");
    if (json_is_array(att) && json_array_size(att) > 0) json_object_set(m, "attachments", att);
    json_decref(stored);
    return m;
}

char *bg_event_json(const bg_event_in *in)
{
    const sb_bot_event *ev = in->ev;
    json_t *snap = in->snapshot ? json_loads(in->snapshot, 0, NULL) : NULL;
    json_t *client = json_object_get(snap, "client"), *conv = json_object_get(snap, "conversation");
    json_t *o = json_object(), *ch = json_object();
    int bad = !o || !ch;
    bad = bad || set(ch, "name", str_or_null(ev->channel)) ||
          set(ch, "instance", str_or_null(ev->instance));
    bad = bad || set(o, "event", json_string(ev->kind == SB_BOT_START ? "conversation.started"
                                                                      : "message"));
    bad = bad || set(o, "bot", json_string(in->bot_instance)) ||
          set(o, "conversation_id", str_or_null(ev->conversation_id));
    bad = bad || json_object_set(o, "channel", ch);
    if (!bad && json_is_object(client)) {
        bad = json_object_set(o, "client", client);
    } else if (!bad) {
        json_t *c = json_object();
        bad = set(o, "client", c) || set(c, "id", str_or_null(ev->client_id));
    }
    if (!bad && json_is_object(conv)) bad = json_object_set(o, "conversation", conv);
    bad = bad || set(o, "message", message(ev)) || set(o, "sent_at", rfc3339(in->now_ms));
    char *out = bad ? NULL : json_dumps(o, JSON_COMPACT);
    json_decref(ch);
    json_decref(o);
    json_decref(snap);
    return out;
}

/* ---- in ------------------------------------------------------------------- */

typedef struct perr {
    char *buf;
    size_t len;
} perr;

static bg_parse_result fail(perr *e, bg_parse_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bg_parse_result fail(perr *e, bg_parse_result r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (e->len) vsnprintf(e->buf, e->len, fmt, ap);
    va_end(ap);
    return r;
}

/* A string member of 1..max bytes: 1 when present and valid, 0 when absent
 * (and !required), -1 (err set) otherwise. */
static int str(perr *e, const char *where, json_t *obj, const char *key, size_t max, bool required,
               const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || (json_is_null(v) && !required)) {
        if (!required) return 0;
        fail(e, BG_PARSE_INVALID, "%s.%s: required", where, key);
        return -1;
    }
    size_t n = json_string_length(v);
    if (!json_is_string(v) || n == 0 || n > max) {
        fail(e, BG_PARSE_INVALID, "%s.%s: expected a string of 1 to %zu bytes", where, key, max);
        return -1;
    }
    *out = json_string_value(v);
    return 1;
}

/* Only `allowed` (NULL-terminated) may appear besides "type". */
static int known_keys(perr *e, const char *where, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = strcmp(key, "type") == 0;
        for (size_t i = 0; !ok && allowed[i]; i++) ok = strcmp(key, allowed[i]) == 0;
        if (!ok) {
            fail(e, BG_PARSE_INVALID, "%s.%s: unknown field", where, key);
            return -1;
        }
    }
    return 0;
}

static int scope(perr *e, const char *where, json_t *obj, sb_scope *out)
{
    const char *s;
    int r = str(e, where, obj, "scope", 32, false, &s);
    if (r < 0) return -1;
    *out = SB_SCOPE_CONVERSATION;
    if (r == 0 || strcmp(s, "conversation") == 0) return 0;
    if (strcmp(s, "client") == 0) {
        *out = SB_SCOPE_CLIENT;
        return 0;
    }
    fail(e, BG_PARSE_INVALID, "%s.scope: expected \"client\" or \"conversation\"", where);
    return -1;
}

static int reply(perr *e, const char *where, json_t *obj, bg_action *a)
{
    static const char *const keys[] = {"text", "buttons", NULL};
    if (known_keys(e, where, obj, keys) || str(e, where, obj, "text", BG_MAX_TEXT, false, &a->text) < 0)
        return -1;
    json_t *bs = json_object_get(obj, "buttons");
    if (bs && !json_is_null(bs)) {
        if (!json_is_array(bs) || json_array_size(bs) > BG_MAX_BUTTONS) {
            fail(e, BG_PARSE_INVALID, "%s.buttons: expected an array of at most %d buttons", where,
                 BG_MAX_BUTTONS);
            return -1;
        }
        size_t i;
        json_t *b;
        json_array_foreach(bs, i, b) {
            static const char *const bkeys[] = {"id", "title", NULL};
            char bw[96];
            snprintf(bw, sizeof bw, "%s.buttons[%zu]", where, i);
            if (!json_is_object(b)) {
                fail(e, BG_PARSE_INVALID, "%s: expected an object {id, title}", bw);
                return -1;
            }
            if (known_keys(e, bw, b, bkeys) < 0 ||
                str(e, bw, b, "id", BG_MAX_BUTTON_ID, true, &a->buttons[i].id) < 0 ||
                str(e, bw, b, "title", BG_MAX_TITLE, true, &a->buttons[i].title) < 0)
                return -1;
        }
        a->n_buttons = json_array_size(bs);
    }
    if (!a->text && a->n_buttons == 0) {
        fail(e, BG_PARSE_INVALID, "%s.text: required when there are no buttons", where);
        return -1;
    }
    return 0;
}

static int attributes(perr *e, const char *where, json_t *obj, bg_action *a)
{
    static const char *const keys[] = {"scope", "attributes", NULL};
    if (known_keys(e, where, obj, keys) || scope(e, where, obj, &a->scope)) return -1;
    json_t *at = json_object_get(obj, "attributes");
    if (!json_is_object(at) || json_object_size(at) == 0 || json_object_size(at) > BG_MAX_ATTRS) {
        fail(e, BG_PARSE_INVALID, "%s.attributes: expected an object of 1 to %d keys", where,
             BG_MAX_ATTRS);
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(at, k, v) {
        size_t kl = strlen(k);
        if (kl == 0 || kl > BG_MAX_KEY) {
            fail(e, BG_PARSE_INVALID, "%s.attributes: keys must be 1 to %d bytes", where, BG_MAX_KEY);
            return -1;
        }
        bool ok = json_is_null(v) || json_is_boolean(v) || json_is_number(v) ||
                  (json_is_string(v) && json_string_length(v) <= BG_MAX_VALUE);
        if (!ok) {
            fail(e, BG_PARSE_INVALID,
                 "%s.attributes.%s: expected a string (at most %d bytes), number, boolean or null",
                 where, k, BG_MAX_VALUE);
            return -1;
        }
    }
    a->attributes = at;
    return 0;
}

static int tag(perr *e, const char *where, json_t *obj, bg_action *a)
{
    static const char *const keys[] = {"scope", "tag", NULL};
    if (known_keys(e, where, obj, keys) || scope(e, where, obj, &a->scope) ||
        str(e, where, obj, "tag", BG_MAX_TAG, true, &a->tag) < 0)
        return -1;
    return 0;
}

static int handoff(perr *e, const char *where, json_t *obj, bg_action *a)
{
    static const char *const keys[] = {"group", "skill", "skill_level", "reason", NULL};
    if (known_keys(e, where, obj, keys) || str(e, where, obj, "group", BG_MAX_ID, false, &a->group) < 0 ||
        str(e, where, obj, "skill", BG_MAX_ID, false, &a->skill) < 0 ||
        str(e, where, obj, "reason", BG_MAX_REASON, false, &a->reason) < 0)
        return -1;
    json_t *lv = json_object_get(obj, "skill_level");
    a->skill_level = 1;
    if (lv && !json_is_null(lv)) {
        if (!json_is_integer(lv) || json_integer_value(lv) < 0 ||
            json_integer_value(lv) > BG_MAX_SKILL_LEVEL || !a->skill) {
            fail(e, BG_PARSE_INVALID, "%s.skill_level: expected an integer 0 to %d, with a skill",
                 where, BG_MAX_SKILL_LEVEL);
            return -1;
        }
        a->skill_level = (int)json_integer_value(lv);
    }
    return 0;
}

static int close_(perr *e, const char *where, json_t *obj, bg_action *a)
{
    static const char *const keys[] = {"ask_rating", NULL};
    if (known_keys(e, where, obj, keys)) return -1;
    json_t *r = json_object_get(obj, "ask_rating");
    if (r && !json_is_null(r) && !json_is_boolean(r)) {
        fail(e, BG_PARSE_INVALID, "%s.ask_rating: expected true or false", where);
        return -1;
    }
    a->ask_rating = json_is_true(r);
    return 0;
}

static int action(perr *e, size_t i, json_t *obj, bg_action *a)
{
    static const struct {
        const char *name;
        bg_action_type type;
        int (*parse)(perr *, const char *, json_t *, bg_action *);
    } kinds[] = {{"reply", BG_REPLY, reply},
                 {"set_attributes", BG_SET_ATTRIBUTES, attributes},
                 {"add_tag", BG_ADD_TAG, tag},
                 {"handoff", BG_HANDOFF, handoff},
                 {"close", BG_CLOSE, close_}};
    char where[32];
    snprintf(where, sizeof where, "actions[%zu]", i);
    if (!json_is_object(obj)) {
        fail(e, BG_PARSE_INVALID, "%s: expected an object with a \"type\"", where);
        return -1;
    }
    const char *type;
    if (str(e, where, obj, "type", 32, true, &type) < 0) return -1;
    memset(a, 0, sizeof *a);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (strcmp(type, kinds[k].name) == 0) {
            a->type = kinds[k].type;
            return kinds[k].parse(e, where, obj, a);
        }
    fail(e, BG_PARSE_INVALID,
         "%s.type: unknown action \"%.32s\" (reply, set_attributes, add_tag, handoff, close)", where,
         type);
    return -1;
}

static bool blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return false;
    return true;
}

bg_parse_result bg_actions_parse(const char *body, size_t len, bg_actions *out, char *err,
                                 size_t errlen)
{
    perr e = {err, errlen};
    if (errlen) err[0] = 0;
    out->root = NULL;
    out->n = 0;
    if (!body || blank(body, len)) return BG_PARSE_OK;
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fail(&e, BG_PARSE_MALFORMED, "body: not valid JSON: %s (line %d)", je.text,
                    je.line);
    if (!json_is_object(root)) {
        json_decref(root);
        return fail(&e, BG_PARSE_MALFORMED, "body: expected a JSON object {\"actions\":[...]}");
    }
    json_t *acts = json_object_get(root, "actions");
    bg_parse_result r = BG_PARSE_OK;
    if (acts && !json_is_null(acts) &&
        (!json_is_array(acts) || json_array_size(acts) > BG_MAX_ACTIONS)) {
        r = fail(&e, BG_PARSE_INVALID, "actions: expected an array of at most %d actions",
                 BG_MAX_ACTIONS);
    } else if (json_is_array(acts)) {
        size_t i;
        json_t *a;
        json_array_foreach(acts, i, a) {
            if (i > 0 && (out->v[i - 1].type == BG_HANDOFF || out->v[i - 1].type == BG_CLOSE)) {
                r = fail(&e, BG_PARSE_INVALID, "actions[%zu]: nothing may follow a %s", i,
                         bg_action_name(out->v[i - 1].type));
                break;
            }
            if (action(&e, i, a, &out->v[i]) < 0) {
                r = BG_PARSE_INVALID;
                break;
            }
        }
        if (r == BG_PARSE_OK) out->n = json_array_size(acts);
    }
    if (r != BG_PARSE_OK) {
        json_decref(root);
        out->n = 0;
        return r;
    }
    out->root = root;
    return BG_PARSE_OK;
}

void bg_actions_free(bg_actions *a)
{
    json_decref(a->root);
    a->root = NULL;
    a->n = 0;
}

const char *bg_action_name(bg_action_type t)
{
    switch (t) {
    case BG_REPLY: return "reply";
    case BG_SET_ATTRIBUTES: return "set_attributes";
    case BG_ADD_TAG: return "add_tag";
    case BG_HANDOFF: return "handoff";
    case BG_CLOSE: return "close";
    }
    return "unknown";
}

bool bg_actions_reply(const bg_actions *a)
{
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].type == BG_REPLY) return true;
    return false;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_seq(const unsigned char *p)
{
    unsigned c = p[0];
    size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                        : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (n <= 1) return n;
    uint32_t cp = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0; /* also stops at the NUL */
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

void bg_text_clean(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0) {
            *p++ = '?';
        } else {
            if (*p < 0x20 || *p == 0x7F) *p = ' ';
            p += n;
        }
    }
}
