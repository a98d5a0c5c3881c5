#include "wire.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *k_allowed[] = {"message", "edited_message", "callback_query"};

/* ---- small helpers --------------------------------------------------------- */

/* A string member without NUL bytes inside, else NULL. */
static const char *str_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) return NULL;
    const char *s = json_string_value(v);
    return strlen(s) == json_string_length(v) ? s : NULL;
}

static int int_of(json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) return -1;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* Appends src to dst (cap bytes with the NUL), cut at a UTF-8 boundary. */
static void append_utf8(char *dst, size_t cap, const char *src)
{
    size_t have = strlen(dst), n = strlen(src);
    if (have + 1 >= cap) return;
    if (n > cap - 1 - have) {
        n = cap - 1 - have;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--;
    }
    memcpy(dst + have, src, n);
    dst[have + n] = '\0';
}

static void person_name(json_t *p, char *out, size_t cap)
{
    const char *first = p ? str_of(p, "first_name") : NULL;
    const char *last = p ? str_of(p, "last_name") : NULL;
    out[0] = '\0';
    if (first) append_utf8(out, cap, first);
    if (last && *last) {
        if (out[0]) append_utf8(out, cap, " ");
        append_utf8(out, cap, last);
    }
}

int tg_normalise_phone(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    if (cap < 22) return -1;
    out[n++] = '+';
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n > 20) return -1;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return n >= 4 ? 0 : -1;
}

int tg_parse_chat(const char *s, int64_t *out)
{
    const char *d = s && *s == '-' ? s + 1 : s;
    size_t n = d ? strlen(d) : 0;
    if (n == 0 || n > 19 || strspn(d, "0123456789") != n) return -1;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno) return -1;
    *out = (int64_t)v;
    return 0;
}

/* ---- updates ----------------------------------------------------------------- */

static tg_upd_kind bad(tg_update *u, const char *fmt, const char *what)
{
    snprintf(u->why, sizeof u->why, fmt, what);
    return TG_UPD_BAD;
}

static tg_upd_kind skip(tg_update *u, const char *fmt, const char *what)
{
    snprintf(u->why, sizeof u->why, fmt, what);
    return TG_UPD_SKIP;
}

/* A file object ({file_id, file_size, ...}) into u->att; -1 when file_id
 * is missing or unusable. */
static int file_of(json_t *f, tg_update *u, const char *kind, const char *mime)
{
    const char *id = json_is_object(f) ? str_of(f, "file_id") : NULL;
    if (!id || !*id || strlen(id) > TG_MAX_FILE_ID) return -1;
    int64_t size = 0;
    if (int_of(f, "file_size", &size) != 0 || size < 0) size = 0;
    const char *m = str_of(f, "mime_type");
    u->att = (sb_attachment){.struct_size = sizeof u->att, .kind = kind, .ref = id,
                             .name = str_of(f, "file_name"), .mime = m ? m : mime,
                             .size = (uint64_t)size};
    u->msg.attachments = &u->att;
    u->msg.n_attachments = 1;
    return 0;
}

/* Telegram lists a photo's sizes; the largest is the one to keep. */
static json_t *largest_photo(json_t *sizes)
{
    json_t *best = NULL;
    int64_t best_px = -1, best_bytes = -1;
    size_t n = json_array_size(sizes);
    for (size_t i = 0; i < n && i < 100; i++) {
        json_t *p = json_array_get(sizes, i);
        int64_t w = 0, h = 0, bytes = 0;
        if (!json_is_object(p)) continue;
        int_of(p, "width", &w);
        int_of(p, "height", &h);
        int_of(p, "file_size", &bytes);
        int64_t px = w > 0 && h > 0 && w < 100000 && h < 100000 ? w * h : 0;
        if (px > best_px || (px == best_px && bytes >= best_bytes)) {
            best = p;
            best_px = px;
            best_bytes = bytes;
        }
    }
    return best;
}

static tg_upd_kind media_of(json_t *m, tg_update *u, const char *where)
{
    static const struct {
        const char *field, *kind, *mime;
    } k[] = {{"document", "file", NULL},
             {"video", "video", "video/mp4"},
             {"voice", "voice", "audio/ogg"},
             {"audio", "audio", NULL},
             {"video_note", "video", "video/mp4"}};
    json_t *photo = json_object_get(m, "photo");
    if (photo) {
        if (!json_is_array(photo) || file_of(largest_photo(photo), u, "image", "image/jpeg"))
            return bad(u, "%s.photo: expected sizes with a file_id", where);
        return TG_UPD_INBOUND;
    }
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        json_t *f = json_object_get(m, k[i].field);
        if (!f) continue;
        if (file_of(f, u, k[i].kind, k[i].mime) != 0) {
            snprintf(u->why, sizeof u->why, "%s.%s.file_id: expected a string of 1-%d bytes",
                     where, k[i].field, TG_MAX_FILE_ID);
            return TG_UPD_BAD;
        }
        return TG_UPD_INBOUND;
    }
    return TG_UPD_SKIP;
}

/* A shared contact: the client's own phone (SB_IN_CONTACT), or someone
 * else's card, which is just a message to the operator. */
static tg_upd_kind contact_of(json_t *c, json_t *from, tg_update *u)
{
    const char *phone = json_is_object(c) ? str_of(c, "phone_number") : NULL;
    if (!phone) return bad(u, "%s", "message.contact.phone_number: expected a string");
    if (tg_normalise_phone(phone, u->phone, sizeof u->phone) != 0)
        return skip(u, "%s", "a contact without a usable phone number");
    int64_t owner = 0, sender = 0;
    bool other = int_of(c, "user_id", &owner) == 0 && from &&
                 int_of(from, "id", &sender) == 0 && owner != sender;
    if (!other) {
        u->msg.kind = SB_IN_CONTACT;
        u->msg.phone = u->phone;
        return TG_UPD_INBOUND;
    }
    char who[TG_MAX_NAME + 1];
    person_name(c, who, sizeof who);
    snprintf(u->contact_text, sizeof u->contact_text, "%s%s%s", who, *who ? ": " : "", u->phone);
    u->msg.text = u->contact_text;
    return TG_UPD_INBOUND;
}

/* Finds the chat of a message and checks it is a private one. */
static tg_upd_kind chat_of(json_t *m, tg_update *u, const char *where)
{
    json_t *chat = json_object_get(m, "chat");
    if (!json_is_object(chat) || int_of(chat, "id", &u->chat) != 0)
        return bad(u, "%s.chat.id: expected an integer", where);
    const char *type = str_of(chat, "type");
    if (type && strcmp(type, "private") != 0)
        return skip(u, "a message in a %.40s chat: only private chats are served", type);
    snprintf(u->external_id, sizeof u->external_id, "%" PRId64, u->chat);
    return TG_UPD_INBOUND;
}

static tg_upd_kind message_of(json_t *m, tg_update *u, bool edit)
{
    const char *where = edit ? "edited_message" : "message";
    if (!json_is_object(m)) return bad(u, "%s: expected an object", where);
    int64_t id = 0, date = 0;
    if (int_of(m, "message_id", &id) != 0 || id <= 0)
        return bad(u, "%s.message_id: expected a positive integer", where);
    tg_upd_kind k = chat_of(m, u, where);
    if (k != TG_UPD_INBOUND) return k;
    json_t *from = json_object_get(m, "from");
    if (!json_is_object(from)) from = NULL;
    person_name(from ? from : json_object_get(m, "chat"), u->name, sizeof u->name);
    if (edit && int_of(m, "edit_date", &date) != 0) int_of(m, "date", &date);
    if (!edit) int_of(m, "date", &date);
    if (date > 0 && date < INT64_MAX / 1000) u->msg.sent_at_ms = date * 1000;

    u->msg.text = str_of(m, "text");
    if (!u->msg.text) u->msg.text = str_of(m, "caption");
    k = media_of(m, u, where);
    if (k == TG_UPD_BAD) return k;
    if (edit) {
        u->msg.kind = SB_IN_EDIT;
        u->edited_id = id;
    } else {
        u->message_id = id;
        json_t *c = json_object_get(m, "contact");
        if (c && !u->msg.text && !u->msg.n_attachments) {
            k = contact_of(c, from, u);
            if (k != TG_UPD_INBOUND) return k;
        }
    }
    if (!u->msg.text && !u->msg.n_attachments && !u->msg.phone)
        return skip(u, "a %s without text, media or contact (not supported)", where);
    return TG_UPD_INBOUND;
}

static tg_upd_kind callback_of(json_t *q, tg_update *u)
{
    if (!json_is_object(q)) return bad(u, "%s", "callback_query: expected an object");
    const char *id = str_of(q, "id");
    if (!id || !*id || strlen(id) > 256)
        return bad(u, "%s", "callback_query.id: expected a string of 1-256 bytes");
    json_t *from = json_object_get(q, "from");
    int64_t user = 0;
    if (!json_is_object(from) || int_of(from, "id", &user) != 0)
        return bad(u, "%s", "callback_query.from.id: expected an integer");
    u->callback_id = id;
    json_t *m = json_object_get(q, "message");
    json_t *chat = json_is_object(m) ? json_object_get(m, "chat") : NULL;
    if (chat && json_object_get(chat, "id")) {
        tg_upd_kind k = chat_of(m, u, "callback_query.message");
        if (k != TG_UPD_INBOUND) return k;
    } else {
        u->chat = user;
        snprintf(u->external_id, sizeof u->external_id, "%" PRId64, user);
    }
    person_name(from, u->name, sizeof u->name);
    json_t *data = json_object_get(q, "data");
    if (!data) return skip(u, "%s", "a callback_query without data (a game): nothing to store");
    u->callback_data = str_of(q, "data");
    if (!u->callback_data || !*u->callback_data || strlen(u->callback_data) > 256)
        return bad(u, "%s", "callback_query.data: expected a string of 1-256 bytes");
    return TG_UPD_INBOUND;
}

tg_upd_kind tg_parse_update(json_t *upd, tg_update *u)
{
    memset(u, 0, sizeof *u);
    u->msg.struct_size = sizeof u->msg;
    u->msg.kind = SB_IN_MESSAGE;
    if (!json_is_object(upd)) return bad(u, "%s", "update: expected a JSON object");
    if (int_of(upd, "update_id", &u->update_id) != 0 || u->update_id < 0)
        return bad(u, "%s", "update_id: expected a non-negative integer");
    snprintf(u->dedup_key, sizeof u->dedup_key, "u%" PRId64, u->update_id);
    u->msg.dedup_key = u->dedup_key;
    u->msg.external_id = u->external_id;
    tg_upd_kind k;
    json_t *v;
    if ((v = json_object_get(upd, "message"))) k = message_of(v, u, false);
    else if ((v = json_object_get(upd, "edited_message"))) k = message_of(v, u, true);
    else if ((v = json_object_get(upd, "callback_query"))) k = callback_of(v, u);
    else {
        const char *key = "nothing";
        void *it = json_object_iter(upd);
        while (it && strcmp(json_object_iter_key(it), "update_id") == 0)
            it = json_object_iter_next(upd, it);
        if (it) key = json_object_iter_key(it);
        return skip(u, "an update of type %.60s: not handled", key);
    }
    if (k == TG_UPD_INBOUND && u->name[0]) u->msg.name = u->name;
    return k;
}

/* ---- answers ------------------------------------------------------------------ */

void tg_parse_result(const char *body, size_t len, long http_status, tg_result *r)
{
    memset(r, 0, sizeof *r);
    r->code = http_status;
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *ok = json_object_get(root, "ok");
    if (!json_is_object(root) || !json_is_boolean(ok)) {
        json_decref(root);
        snprintf(r->description, sizeof r->description, "not a Bot API answer");
        return;
    }
    r->root = root;
    r->ok = json_is_true(ok) && http_status >= 200 && http_status < 300;
    r->result = json_object_get(root, "result");
    int64_t code;
    if (int_of(root, "error_code", &code) == 0 && code >= 100 && code <= 999) r->code = (long)code;
    const char *d = str_of(root, "description");
    if (d) append_utf8(r->description, sizeof r->description, d);
    int64_t ra;
    json_t *params = json_object_get(root, "parameters");
    if (json_is_object(params) && int_of(params, "retry_after", &ra) == 0 && ra > 0)
        r->retry_after_s = ra > 86400 ? 86400 : (uint64_t)ra;
}

void tg_result_free(tg_result *r)
{
    json_decref(r->root);
    r->root = NULL;
    r->result = NULL;
}

/* ---- requests ------------------------------------------------------------------ */

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static json_t *keyboard(const tg_button_out *b, size_t nb)
{
    json_t *rows = json_array();
    for (size_t i = 0; rows && i < nb; i++) {
        json_t *row = json_pack("[{s:s, s:s}]", "text", b[i].title, "callback_data", b[i].data);
        if (!row || json_array_append_new(rows, row) != 0) {
            json_decref(rows);
            return NULL;
        }
    }
    return rows ? json_pack("{s:o}", "inline_keyboard", rows) : NULL;
}

static json_t *with_keyboard(json_t *o, const tg_button_out *b, size_t nb)
{
    if (!o || !nb) return o;
    json_t *kb = keyboard(b, nb);
    if (!kb || json_object_set_new(o, "reply_markup", kb) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *tg_json_send_message(int64_t chat, const char *text, size_t len, const tg_button_out *b,
                           size_t nb)
{
    json_t *t = json_stringn(text, len);
    if (!t) return NULL;
    return dump(with_keyboard(json_pack("{s:I, s:o}", "chat_id", (json_int_t)chat, "text", t),
                              b, nb));
}

char *tg_json_send_media(int64_t chat, const char *field, const char *ref,
                         const tg_button_out *b, size_t nb)
{
    return dump(with_keyboard(json_pack("{s:I, s:s}", "chat_id", (json_int_t)chat, field, ref),
                              b, nb));
}

char *tg_json_answer_callback(const char *callback_id)
{
    return dump(json_pack("{s:s}", "callback_query_id", callback_id));
}

static json_t *allowed(void)
{
    return json_pack("[s,s,s]", k_allowed[0], k_allowed[1], k_allowed[2]);
}

char *tg_json_set_webhook(const char *url, const char *secret)
{
    return dump(json_pack("{s:s, s:s, s:o}", "url", url, "secret_token", secret,
                          "allowed_updates", allowed()));
}

char *tg_json_get_updates(int64_t offset, unsigned limit, unsigned timeout_s)
{
    json_t *o = json_pack("{s:i, s:i, s:o}", "limit", (int)limit, "timeout", (int)timeout_s,
                          "allowed_updates", allowed());
    if (o && offset >= 0 && json_object_set_new(o, "offset", json_integer(offset)) != 0) {
        json_decref(o);
        return NULL;
    }
    return dump(o);
}

char *tg_json_get_file(const char *file_id)
{
    return dump(json_pack("{s:s}", "file_id", file_id));
}
