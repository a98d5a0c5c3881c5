/* GET /hooks/telegram/<instance>/file/<file_id>: an attachment's bytes, for
 * operators. getFile names the file (and its size: over max_file is 413
 * before any download), then the file is fetched whole (the host's client
 * keeps at most max_file bytes) and answered. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg.h"
#include "wire.h"

#define FILE_TIMEOUT_MS 120000
#define MAX_PATH 512

struct tg_fetch {
    tg_fetch *next;
    tg_state *s;
    uint64_t reply_id;
    uint64_t call;
    const char *ctype;
};

static const char k_id_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

static void finish(tg_fetch *f)
{
    for (tg_fetch **p = &f->s->fetches; *p; p = &(*p)->next)
        if (*p == f) {
            *p = f->next;
            break;
        }
    free(f);
}

static void fail(tg_fetch *f, int status, const char *code, const char *msg)
{
    f->s->h->http_error(f->s->ctx, f->reply_id, status, code, msg);
    finish(f);
}

/* By the extension of Telegram's file_path ("photos/file_1.jpg"). */
static const char *content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } k[] = {{".jpg", "image/jpeg"},  {".jpeg", "image/jpeg"}, {".png", "image/png"},
             {".webp", "image/webp"}, {".gif", "image/gif"},   {".mp4", "video/mp4"},
             {".oga", "audio/ogg"},   {".ogg", "audio/ogg"},   {".mp3", "audio/mpeg"},
             {".pdf", "application/pdf"}, {".txt", "text/plain; charset=utf-8"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof k / sizeof k[0]; i++)
        if (strcmp(dot, k[i].ext) == 0) return k[i].type;
    return "application/octet-stream";
}

static bool path_ok(const char *p)
{
    static const char chars[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./";
    size_t n = p ? strlen(p) : 0;
    return n >= 1 && n <= MAX_PATH && strspn(p, chars) == n && !strstr(p, "..") && p[0] != '/';
}

static void too_big(tg_fetch *f, uint64_t size)
{
    char msg[160];
    if (size)
        snprintf(msg, sizeof msg, "the file is %" PRIu64 " bytes, over max_file (%" PRIu64
                 " bytes)", size, f->s->cfg.max_file);
    else
        snprintf(msg, sizeof msg, "the file is over max_file (%" PRIu64 " bytes)",
                 f->s->cfg.max_file);
    fail(f, 413, "too_large", msg);
}

static void got_bytes(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_fetch *f = ud;
    tg_state *s = f->s;
    f->call = 0;
    char why[400], msg[460];
    if (res->status == SB_ERR_TOO_BIG) {
        too_big(f, 0);
    } else if (res->status == SB_OK && res->http_status == 200) {
        static const sb_header cache[] = {{"Cache-Control", "private, max-age=3600"}};
        s->h->http_reply(s->ctx, f->reply_id, 200, f->ctype, cache, 1, res->body, res->body_len);
        finish(f);
    } else {
        tg_describe(s, res, NULL, why, sizeof why);
        snprintf(msg, sizeof msg, "download failed: %s", why);
        if (res->status != SB_ERR_CANCELLED) tg_log(s, SB_LOG_WARN, "file %s", msg);
        fail(f, res->status == SB_ERR_CANCELLED ? 503 : 502, "bad_gateway", msg);
    }
}

static void got_info(void *ud, uint64_t id, const sb_http_response *res)
{
    (void)id;
    tg_fetch *f = ud;
    tg_state *s = f->s;
    f->call = 0;
    tg_result r;
    tg_parse_result(res->body, res->body_len, res->http_status, &r);
    char why[400], msg[460];
    tg_describe(s, res, r.description, why, sizeof why);
    snprintf(msg, sizeof msg, "getFile: %s", why);
    json_t *size = json_object_get(r.result, "file_size");
    const char *path = json_string_value(json_object_get(r.result, "file_path"));
    if (res->status == SB_ERR_CANCELLED) {
        fail(f, 503, "unavailable", "the channel is stopping");
    } else if (res->status != SB_OK) {
        fail(f, 502, "bad_gateway", msg);
    } else if (!r.ok && r.code == 400 && strstr(r.description, "too big")) {
        too_big(f, 0); /* Telegram's own limit for bots (20 MB) */
    } else if (!r.ok && r.code == 400) {
        fail(f, 404, "not_found", msg);
    } else if (!r.ok || !json_is_object(r.result)) {
        fail(f, 502, "bad_gateway", msg);
    } else if (json_is_integer(size) && json_integer_value(size) > 0 &&
               (uint64_t)json_integer_value(size) > s->cfg.max_file) {
        too_big(f, (uint64_t)json_integer_value(size));
    } else if (!path_ok(path)) {
        fail(f, 502, "bad_gateway", "getFile: no usable file_path in the answer");
    } else {
        f->ctype = content_type(path);
        f->call = tg_api_download(s, path, FILE_TIMEOUT_MS, (size_t)s->cfg.max_file, got_bytes, f);
        if (!f->call) fail(f, 503, "unavailable", "the download could not start");
    }
    tg_result_free(&r);
}

void tg_file_route(void *ud, const sb_http_request *req)
{
    tg_state *s = ud;
    const char *id = req->subpath[0] == '/' ? req->subpath + 1 : req->subpath;
    size_t n = strlen(id);
    if (n == 0 || n > TG_MAX_FILE_ID || strspn(id, k_id_chars) != n) {
        s->h->http_error(s->ctx, req->reply_id, 400, "bad_request",
                         "expected .../files/<file_id>: 1-256 of A-Za-z0-9_-");
        return;
    }
    tg_fetch *f = s->running ? calloc(1, sizeof *f) : NULL;
    char *body = f ? tg_json_get_file(id) : NULL;
    if (f) {
        f->s = s;
        f->reply_id = req->reply_id;
        f->next = s->fetches;
        s->fetches = f;
        f->call = body ? tg_api_call(s, "getFile", body, TG_API_TIMEOUT_MS, 64 * 1024, got_info, f)
                       : 0;
    }
    free(body);
    if (!f || !f->call) {
        s->h->http_error(s->ctx, req->reply_id, 503, "unavailable",
                         "the channel cannot fetch files now");
        if (f) finish(f);
    }
}

void tg_file_stop(tg_state *s)
{
    for (;;) {
        tg_fetch *f = s->fetches;
        while (f && !f->call) f = f->next;
        if (!f) return;
        uint64_t call = f->call;
        f->call = 0;
        s->h->http_cancel(s->ctx, call); /* its done answers and frees f */
    }
}

void tg_file_free(tg_state *s)
{
    while (s->fetches) finish(s->fetches);
}
