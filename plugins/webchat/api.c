/* The visitor API and the pages, all under /webchat (documented in
 * README.md): every call names its site by `k` (the site key) and, past
 * the session, its visitor by `v` (the credential the session issued). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "wc.h"

#define WC_MAX_WAIT_MS 30000

typedef struct wc_pending {
    struct wc_pending *next;
    wc_state *s;
    uint64_t reply_id;
    char vid[WC_VID_HEX + 1];
    char origin[257];
    json_t *item;     /* the history item to add once stored */
} wc_pending;

static const char *str_or(const char *s, const char *dflt)
{
    return s ? s : dflt;
}

static bool id_ok(const char *id, size_t max)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > max) return false;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
              (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
            return false;
    return true;
}

/* The site (and, when `visitor`, the visitor) of a request; answers the
 * refusal itself and returns NULL when either is missing or wrong. */
static wc_state *site_of(wc_state *owner, const sb_http_request *r, bool visitor,
                         char vid[WC_VID_HEX + 1])
{
    const sb_host *h = owner->host;
    char key[160], cred[WC_VISITOR_LEN + 2];
    wc_state *s = wc_query(r->query, "k", key, sizeof key) ? wc_registry_find(key) : NULL;
    if (!s) {
        wc_reply_error(h, owner->ctx, r, NULL, 403, "forbidden", "k (site key): missing or unknown");
        return NULL;
    }
    sb_header hdr[4];
    bool allowed;
    wc_cors(s, r, hdr, &allowed);
    if (!allowed) {
        wc_reply_error(h, owner->ctx, r, NULL, 403, "forbidden", "Origin: not allowed for this site");
        return NULL;
    }
    if (!s->ready) {
        wc_reply_error(h, owner->ctx, r, s, 503, "unavailable", "the chat is starting, retry");
        return NULL;
    }
    if (visitor && !(wc_query(r->query, "v", cred, sizeof cred) && wc_visitor_check(s, cred, vid))) {
        wc_reply_error(h, owner->ctx, r, s, 403, "bad_visitor", "v (visitor): missing or invalid");
        return NULL;
    }
    return s;
}

static json_t *body_json(const sb_http_request *r)
{
    if (r->body_len == 0 || r->body_len > 64 * 1024) return NULL;
    json_t *j = json_loadb(r->body, r->body_len, 0, NULL);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* ---- session --------------------------------------------------------------- */

/* The omnibutton's entries, with {token} replaced by the visitor's start
 * token for the messengers. */
static json_t *channels_json(wc_state *s, const char *vid)
{
    json_t *arr = json_array();
    char token[WC_TOKEN_LEN + 1] = "";
    for (size_t i = 0; i < s->cfg.n_channels; i++) {
        const wc_channel *c = &s->cfg.channels[i];
        const char *at = strstr(c->url, "{token}");
        char url[600];
        if (at && !*token && !wc_token_for(s, vid, token)) at = NULL;
        if (at)
            snprintf(url, sizeof url, "%.*s%s%s", (int)(at - c->url), c->url, token, at + 7);
        else
            snprintf(url, sizeof url, "%s", c->url);
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s}", "kind", c->kind, "title", c->title,
                                             "url", url));
    }
    return arr;
}

static void on_session(wc_state *owner, const sb_http_request *r)
{
    char vid[WC_VID_HEX + 1], cred[WC_VISITOR_LEN + 1];
    wc_state *s = site_of(owner, r, false, vid);
    if (!s) return;
    json_t *b = body_json(r);
    const char *given = json_string_value(json_object_get(b, "visitor"));
    /* A forged or foreign credential starts a new visitor, not an error:
     * the visitor only loses a history it could not prove was its own. */
    if (given && wc_visitor_check(s, given, vid)) snprintf(cred, sizeof cred, "%s", given);
    else if (!wc_visitor_new(s, vid, cred)) {
        json_decref(b);
        wc_reply_error(s->host, owner->ctx, r, s, 503, "unavailable", "no randomness");
        return;
    }
    json_decref(b);
    json_t *hist = wc_history_load(s, vid);
    if (!hist) {
        wc_reply_error(s->host, owner->ctx, r, s, 503, "unavailable", "history unreadable");
        return;
    }
    json_t *types = json_array();
    for (size_t i = 0; i < s->cfg.n_types; i++)
        json_array_append_new(types, json_string(s->cfg.types[i]));
    json_t *cfg = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o}", "title", s->cfg.title, "lang",
                            s->cfg.lang, "position", s->cfg.position, "max_file",
                            (json_int_t)s->cfg.max_file, "file_types", types, "channels",
                            channels_json(s, vid));
    json_t *out = json_pack("{s:s,s:o,s:o,s:I,s:b}", "visitor", cred, "config", cfg, "messages",
                            wc_history_after(hist, 0), "seq", (json_int_t)wc_history_seq(hist),
                            "ws", SB_HOST_HAS(s->host, ws_accept));
    json_decref(hist);
    wc_reply_json(s->host, owner->ctx, r, s, 200, out);
}

/* ---- messages in ---------------------------------------------------------- */

static void pending_unlink(wc_pending *p)
{
    wc_pending **pp = &p->s->pending;
    while (*pp && *pp != p) pp = &(*pp)->next;
    if (*pp) *pp = p->next;
}

void wc_pending_free(wc_state *s)
{
    while (s->pending) {
        wc_pending *p = s->pending;
        s->pending = p->next;
        json_decref(p->item);
        free(p);
    }
}

static void stored(void *ud, sb_status st, const char *message_id, int duplicate)
{
    wc_pending *p = ud;
    wc_state *s = p->s;
    wc_state *o = wc_registry_owner();
    pending_unlink(p);
    const char *origin = *p->origin ? p->origin : NULL;
    json_t *hist = st == SB_OK ? wc_history_load(s, p->vid) : NULL;
    if (!hist) {
        if (o) s->host->http_error(o->ctx, p->reply_id, 503, "unavailable",
                                   st == SB_OK ? "history unreadable" : s->host->strstatus(st));
    } else {
        const char *id = json_string_value(json_object_get(p->item, "id"));
        json_t *have = duplicate ? wc_history_find(hist, id, "in") : NULL;
        if (have) {
            if (o) wc_reply_to(s->host, o->ctx, p->reply_id, origin, 200,
                               json_pack("{s:O,s:b}", "message", have, "duplicate", 1));
        } else {
            json_object_set_new(p->item, "message_id", json_string(message_id));
            json_t *item = json_incref(p->item);
            if (wc_history_append(s, p->vid, hist, item, NULL, NULL)) {
                if (o) wc_reply_to(s->host, o->ctx, p->reply_id, origin, 200,
                                   json_pack("{s:O,s:b}", "message", item, "duplicate",
                                             duplicate != 0));
                wc_live_notify(s, p->vid, hist);
            } else if (o) {
                s->host->http_error(o->ctx, p->reply_id, 503, "unavailable", "history not stored");
            }
        }
        json_decref(hist);
    }
    json_decref(p->item);
    free(p);
}

/* Hands one visitor message to the core; the answer waits for the commit. */
static void send_inbound(wc_state *owner, wc_state *s, const sb_http_request *r, const char *vid,
                         const char *id, const char *text, const char *button_id,
                         const sb_attachment *att, json_t *item)
{
    const sb_host *h = s->host;
    char dedup[WC_VID_HEX + 80];
    snprintf(dedup, sizeof dedup, "%s:%s", vid, id);
    wc_pending *p = calloc(1, sizeof *p);
    if (!p) {
        json_decref(item);
        wc_reply_error(h, owner->ctx, r, s, 503, "unavailable", "out of memory");
        return;
    }
    p->s = s;
    p->reply_id = r->reply_id;
    p->item = item;
    memcpy(p->vid, vid, sizeof p->vid);
    sb_header hdr[4];
    bool allowed;
    const char *origin = wc_cors(s, r, hdr, &allowed) ? wc_header(r, "Origin") : NULL;
    if (origin && strlen(origin) < sizeof p->origin) strcpy(p->origin, origin);
    sb_inbound in = {.struct_size = sizeof in, .kind = SB_IN_MESSAGE, .external_id = vid,
                     .dedup_key = dedup, .text = text, .button_id = button_id,
                     .attachments = att, .n_attachments = att ? 1 : 0};
    sb_status st = h->inbound(s->ctx, &in, stored, p);
    if (st == SB_OK) {
        p->next = s->pending;
        s->pending = p;
        return;
    }
    json_decref(item);
    free(p);
    if (st == SB_ERR_TOO_BIG)
        wc_reply_error(h, owner->ctx, r, s, 413, "too_large", "message over the server's limit");
    else
        wc_reply_error(h, owner->ctx, r, s, st == SB_ERR_INVALID ? 400 : 503,
                       st == SB_ERR_INVALID ? "bad_request" : "unavailable", h->strstatus(st));
}

static void on_message(wc_state *owner, const sb_http_request *r)
{
    char vid[WC_VID_HEX + 1];
    wc_state *s = site_of(owner, r, true, vid);
    if (!s) return;
    json_t *b = body_json(r);
    const char *id = json_string_value(json_object_get(b, "id"));
    const char *text = json_string_value(json_object_get(b, "text"));
    const char *button = json_string_value(json_object_get(b, "button_id"));
    const char *err = NULL;
    if (!b) err = "body: expected a JSON object";
    else if (!id_ok(id, 64)) err = "id: required, 1..64 of [A-Za-z0-9_-]";
    else if (json_object_get(b, "text") && !text) err = "text: expected a string";
    else if (text && strlen(text) > WC_MAX_TEXT) err = "text: at most 4096 bytes";
    else if (json_object_get(b, "button_id") && !(button && *button && strlen(button) <= 256))
        err = "button_id: expected 1..256 bytes";
    else if (!button && (!text || strspn(text, " \t\r\n") == strlen(text)))
        err = "text: required (non-blank) unless button_id is given";
    if (err) {
        json_decref(b);
        wc_reply_error(s->host, owner->ctx, r, s, 400, "bad_request", err);
        return;
    }
    json_t *item = json_pack("{s:s,s:s,s:s*,s:s*,s:I}", "id", id, "dir", "in", "text", text,
                             "button_id", button, "ts", (json_int_t)s->host->now_ms(s->ctx));
    send_inbound(owner, s, r, vid, id, text, button, NULL, item);
    json_decref(b);
}

/* ---- files ----------------------------------------------------------------- */

#define WC_CHUNK (512u * 1024u)

static bool type_allowed(const wc_state *s, const char *mime)
{
    for (size_t i = 0; i < s->cfg.n_types; i++)
        if (strcmp(s->cfg.types[i], mime) == 0) return true;
    return false;
}

static void on_upload(wc_state *owner, const sb_http_request *r)
{
    char vid[WC_VID_HEX + 1], id[80], name[200], mime[128] = "";
    wc_state *s = site_of(owner, r, true, vid);
    if (!s) return;
    const sb_host *h = s->host;
    const char *ct = wc_header(r, "Content-Type");
    if (ct) snprintf(mime, sizeof mime, "%.*s", (int)strcspn(ct, "; "), ct);
    if (!wc_query(r->query, "id", id, sizeof id) || !id_ok(id, 64)) {
        wc_reply_error(h, owner->ctx, r, s, 400, "bad_request", "id: required, 1..64 of [A-Za-z0-9_-]");
        return;
    }
    if (!wc_query(r->query, "name", name, sizeof name) || !*name || strlen(name) > 128) {
        wc_reply_error(h, owner->ctx, r, s, 400, "bad_request", "name: required, 1..128 bytes");
        return;
    }
    for (char *c = name; *c; c++)
        if ((unsigned char)*c < ' ' || *c == '/' || *c == '\\' || *c == '"') *c = '_';
    if (r->body_len == 0) {
        wc_reply_error(h, owner->ctx, r, s, 400, "bad_request", "body: the file is empty");
        return;
    }
    if (r->body_len > s->cfg.max_file) {
        char msg[96];
        snprintf(msg, sizeof msg, "file: over the limit of %llu bytes",
                 (unsigned long long)s->cfg.max_file);
        wc_reply_error(h, owner->ctx, r, s, 413, "too_large", msg);
        return;
    }
    if (!type_allowed(s, mime)) {
        wc_reply_error(h, owner->ctx, r, s, 415, "unsupported_type",
                       "Content-Type: this file type is not accepted");
        return;
    }
    char fid[WC_VID_HEX + 1], key[64];
    if (!wc_hex_id(fid, WC_VID_HEX / 2)) {
        wc_reply_error(h, owner->ctx, r, s, 503, "unavailable", "no randomness");
        return;
    }
    size_t chunks = (r->body_len + WC_CHUNK - 1) / WC_CHUNK;
    sb_status st = SB_OK;
    for (size_t i = 0; i < chunks && st == SB_OK; i++) {
        int kl = snprintf(key, sizeof key, "f:%s:%zu", fid, i);
        size_t off = i * WC_CHUNK, len = r->body_len - off < WC_CHUNK ? r->body_len - off : WC_CHUNK;
        st = h->kv_put(s->ctx, key, (size_t)kl, r->body + off, len, NULL, NULL);
    }
    json_t *meta = json_pack("{s:s,s:s,s:s,s:I,s:I}", "vid", vid, "name", name, "mime", mime,
                             "size", (json_int_t)r->body_len, "chunks", (json_int_t)chunks);
    char *mt = st == SB_OK && meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    int kl = snprintf(key, sizeof key, "f:%s", fid);
    if (mt) st = h->kv_put(s->ctx, key, (size_t)kl, mt, strlen(mt), NULL, NULL);
    free(mt);
    if (st != SB_OK || !mt) {
        wc_reply_error(h, owner->ctx, r, s, 503, "unavailable", "the file could not be stored");
        return;
    }
    char url[160];
    snprintf(url, sizeof url, "/webchat/api/file/%s/%s", h->instance_name(s->ctx), fid);
    const char *kind = strncmp(mime, "image/", 6) == 0 ? "image" : "file";
    sb_attachment att = {.struct_size = sizeof att, .kind = kind, .ref = url, .name = name,
                         .mime = mime, .size = r->body_len};
    json_t *item = json_pack("{s:s,s:s,s:[{s:s,s:s,s:s,s:s,s:I}],s:I}", "id", id, "dir", "in",
                             "attachments", "kind", kind, "url", url, "name", name, "mime", mime,
                             "size", (json_int_t)r->body_len, "ts",
                             (json_int_t)h->now_ms(s->ctx));
    send_inbound(owner, s, r, vid, id, NULL, NULL, &att, item);
}

/* GET /webchat/api/file/<instance>/<fid>: the id is the capability (128
 * random bits), so that the operator's workspace opens it by URL. */
static void on_file(wc_state *owner, const sb_http_request *r, const char *rest)
{
    const sb_host *h = owner->host;
    char inst[128], fid[WC_VID_HEX + 1];
    const char *slash = strchr(rest, '/');
    wc_state *s = NULL;
    if (slash && (size_t)(slash - rest) < sizeof inst && strlen(slash + 1) == WC_VID_HEX &&
        strspn(slash + 1, "0123456789abcdef") == WC_VID_HEX) {
        snprintf(inst, sizeof inst, "%.*s", (int)(slash - rest), rest);
        snprintf(fid, sizeof fid, "%s", slash + 1);
        s = wc_registry_by_name(inst);
    }
    char key[64], mbuf[1024];
    size_t len = 0;
    int kl = s ? snprintf(key, sizeof key, "f:%s", fid) : 0;
    json_t *meta = NULL;
    if (s && h->kv_get(s->ctx, key, (size_t)kl, mbuf, sizeof mbuf, &len) == SB_OK)
        meta = json_loadb(mbuf, len, 0, NULL);
    size_t size = (size_t)json_integer_value(json_object_get(meta, "size"));
    size_t chunks = (size_t)json_integer_value(json_object_get(meta, "chunks"));
    const char *mime = json_string_value(json_object_get(meta, "mime"));
    const char *name = json_string_value(json_object_get(meta, "name"));
    char *data = meta && mime && name && size ? malloc(size) : NULL;
    size_t got = 0;
    for (size_t i = 0; data && i < chunks; i++) {
        kl = snprintf(key, sizeof key, "f:%s:%zu", fid, i);
        if (got >= size || h->kv_get(s->ctx, key, (size_t)kl, data + got, size - got, &len) != SB_OK)
            break;
        got += len;
    }
    if (!data || got != size) {
        free(data);
        json_decref(meta);
        h->http_error(owner->ctx, r->reply_id, 404, "not_found", "no such file");
        return;
    }
    char disp[400];
    snprintf(disp, sizeof disp, "%s; filename=\"%s\"",
             strncmp(mime, "image/", 6) == 0 ? "inline" : "attachment", name);
    /* An upload is never run as a page of this origin, whatever its type. */
    sb_header hdr[] = {{"Content-Disposition", disp},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Content-Security-Policy", "sandbox; default-src 'none'"},
                       {"Cache-Control", "private, max-age=86400"}};
    h->http_reply(owner->ctx, r->reply_id, 200, mime, hdr, 4, data, size);
    free(data);
    json_decref(meta);
}

/* ---- live, typing, start tokens --------------------------------------------- */

static uint64_t query_u64(const sb_http_request *r, const char *name, uint64_t dflt, uint64_t max)
{
    char v[24], *end;
    if (!wc_query(r->query, name, v, sizeof v) || !*v) return dflt;
    unsigned long long n = strtoull(v, &end, 10);
    return *end || v[0] == '-' ? dflt : (n > max ? max : n);
}

static void on_poll(wc_state *owner, const sb_http_request *r, bool ws)
{
    char vid[WC_VID_HEX + 1];
    wc_state *s = site_of(owner, r, true, vid);
    if (!s) return;
    uint64_t after = query_u64(r, "after", 0, UINT64_MAX);
    if (!ws) {
        wc_poll_park(s, r, vid, after, query_u64(r, "wait", 25000, WC_MAX_WAIT_MS));
    } else if (!SB_HOST_HAS(s->host, ws_accept)) {
        wc_reply_error(s->host, owner->ctx, r, s, 501, "not_supported",
                       "WebSockets need a newer server: use poll");
    } else {
        wc_ws_open(s, r->reply_id, vid, after);
    }
}

static void on_typing(wc_state *owner, const sb_http_request *r)
{
    char vid[WC_VID_HEX + 1];
    wc_state *s = site_of(owner, r, true, vid);
    if (!s) return;
    json_t *b = body_json(r);
    const char *text = json_string_value(json_object_get(b, "text"));
    if (!text || strlen(text) > 8192) {
        json_decref(b);
        wc_reply_error(s->host, owner->ctx, r, s, 400, "bad_request", "text: required, at most 8192 bytes");
        return;
    }
    wc_typing(s, vid, text);
    json_decref(b);
    wc_reply_json(s->host, owner->ctx, r, s, 200, json_pack("{s:b}", "ok", 1));
}

/* GET /webchat/api/start/<token>: which web visitor a messenger's start
 * parameter names, for the messenger's plugin to continue that history. */
static void on_start_token(wc_state *owner, const sb_http_request *r, const char *token)
{
    char vid[WC_VID_HEX + 1];
    for (size_t i = 0;; i++) {
        wc_state *s = wc_registry_at(i);
        if (!s) break;
        if (s->ready && wc_token_lookup(s, token, vid)) {
            wc_reply_json(owner->host, owner->ctx, r, NULL, 200,
                          json_pack("{s:s,s:s,s:s}", "channel", "webchat", "instance",
                                    s->host->instance_name(s->ctx), "external_id", vid));
            return;
        }
    }
    owner->host->http_error(owner->ctx, r->reply_id, 404, "not_found", "token: unknown or expired");
}

/* ---- pages ------------------------------------------------------------------- */

static void on_asset(wc_state *owner, const sb_http_request *r, const char *type,
                     const char *data, size_t len, bool demo)
{
    char *page = NULL;
    if (demo) { /* the demo embeds the first site's key */
        const char *at = strstr(data, "{{SITE_KEY}}");
        size_t kl = strlen(owner->cfg.site_key);
        page = at ? malloc(len + kl) : NULL;
        if (page) {
            size_t pre = (size_t)(at - data);
            memcpy(page, data, pre);
            memcpy(page + pre, owner->cfg.site_key, kl);
            memcpy(page + pre + kl, at + 12, len - pre - 12);
            data = page;
            len = len - 12 + kl;
        }
    }
    sb_header hdr[] = {{"Cache-Control", demo ? "no-store" : "public, max-age=300"},
                       {"X-Content-Type-Options", "nosniff"},
                       {"Access-Control-Allow-Origin", "*"}};
    owner->host->http_reply(owner->ctx, r->reply_id, 200, type, hdr, demo ? 2 : 3, data, len);
    free(page);
}

void wc_http(void *ud, const sb_http_request *req)
{
    wc_state *owner = ud;
    const sb_host *h = owner->host;
    const char *p = req->subpath, *m = req->method;
    bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    if (strcmp(m, "OPTIONS") == 0 && strncmp(p, "/api/", 5) == 0) {
        sb_header hdr[5];
        bool allowed;
        size_t n = wc_cors(NULL, req, hdr, &allowed);
        hdr[n++] = (sb_header){"Access-Control-Max-Age", "600"};
        h->http_reply(owner->ctx, req->reply_id, 204, NULL, hdr, n, NULL, 0);
    } else if (get && strcmp(p, "/widget.js") == 0) {
        on_asset(owner, req, "application/javascript; charset=utf-8", wc_widget_js,
                 wc_widget_js_len, false);
    } else if (get && (strcmp(p, "/demo") == 0 || strcmp(p, "/demo/") == 0)) {
        on_asset(owner, req, "text/html; charset=utf-8", wc_demo_html, wc_demo_html_len, true);
    } else if (post && strcmp(p, "/api/session") == 0) {
        on_session(owner, req);
    } else if (post && strcmp(p, "/api/message") == 0) {
        on_message(owner, req);
    } else if (post && strcmp(p, "/api/upload") == 0) {
        on_upload(owner, req);
    } else if (post && strcmp(p, "/api/typing") == 0) {
        on_typing(owner, req);
    } else if (get && strcmp(p, "/api/poll") == 0) {
        on_poll(owner, req, false);
    } else if (get && strcmp(p, "/api/ws") == 0) {
        on_poll(owner, req, true);
    } else if (get && strncmp(p, "/api/file/", 10) == 0) {
        on_file(owner, req, p + 10);
    } else if (get && strncmp(p, "/api/start/", 11) == 0) {
        on_start_token(owner, req, p + 11);
    } else {
        h->http_error(owner->ctx, req->reply_id, 404, "not_found", "no such web-chat resource");
    }
}

/* ---- messages out ------------------------------------------------------------ */

typedef struct {
    wc_state *s;
    uint64_t op;
    char vid[WC_VID_HEX + 1];
    char message_id[64];
} wc_out;

static void out_stored(void *ud, sb_status st)
{
    wc_out *o = ud;
    if (st == SB_OK) {
        o->s->host->send_result(o->s->ctx, o->op, SB_SENT, o->message_id, 0, NULL);
        wc_live_notify(o->s, o->vid, NULL);
    } else {
        o->s->host->send_result(o->s->ctx, o->op, SB_SEND_RETRY, NULL, 0, "history not stored");
    }
    free(o);
}

/* An attempt already in the history (a retry after a lost result) is
 * reported again from a timer: send_result must not run inside send(). */
static void out_again(void *ud, uint64_t timer_id)
{
    (void)timer_id;
    out_stored(ud, SB_OK);
}

/* The history could not be read or written now: the core retries later. */
static void out_failed(void *ud, uint64_t timer_id)
{
    (void)timer_id;
    out_stored(ud, SB_ERR_IO);
}

sb_send_accept wc_send(void *state, const sb_outbound *msg, uint64_t op)
{
    wc_state *s = state;
    const char *x = msg->external_id;
    if (!x || strlen(x) != WC_VID_HEX || strspn(x, "0123456789abcdef") != WC_VID_HEX)
        return SB_SEND_REJECTED;
    if (!msg->text && !msg->n_buttons && !msg->n_attachments) return SB_SEND_REJECTED;
    wc_out *o = calloc(1, sizeof *o);
    if (!o) return SB_SEND_REJECTED;
    o->s = s;
    o->op = op;
    memcpy(o->vid, x, sizeof o->vid);
    snprintf(o->message_id, sizeof o->message_id, "%s", msg->message_id);
    json_t *hist = wc_history_load(s, x);
    sb_timer_cb later = !hist ? out_failed
                              : wc_history_find(hist, o->message_id, "out") ? out_again : NULL;
    if (later) {
        json_decref(hist);
        if (s->host->timer_start(s->ctx, 0, 0, later, o)) return SB_SEND_ACCEPTED;
        free(o);
        return SB_SEND_REJECTED;
    }
    json_t *buttons = json_array(), *atts = json_array();
    for (size_t i = 0; i < msg->n_buttons; i++)
        json_array_append_new(buttons, json_pack("{s:s,s:s}", "id", str_or(msg->buttons[i].id, ""),
                                                 "title", str_or(msg->buttons[i].title, "")));
    for (size_t i = 0; i < msg->n_attachments; i++) {
        const sb_attachment *a = &msg->attachments[i];
        json_array_append_new(atts, json_pack("{s:s,s:s,s:s*,s:s*,s:I}", "kind", str_or(a->kind, "file"),
                                              "url", str_or(a->ref, ""), "name", a->name, "mime",
                                              a->mime, "size", (json_int_t)a->size));
    }
    json_t *item = json_pack("{s:s,s:s,s:s*,s:o,s:o,s:I}", "id", o->message_id, "dir", "out",
                             "text", msg->text, "buttons", buttons, "attachments", atts, "ts",
                             (json_int_t)s->host->now_ms(s->ctx));
    uint64_t seq = item ? wc_history_append(s, x, hist, item, out_stored, o) : 0;
    json_decref(hist);
    if (seq || s->host->timer_start(s->ctx, 0, 0, out_failed, o)) return SB_SEND_ACCEPTED;
    free(o);
    return SB_SEND_REJECTED;
}
