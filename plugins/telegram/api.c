/* Calls to the Bot API through the host's HTTP client, and keeping the
 * token (part of every URL) out of logs and stored errors. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tg.h"

static const sb_header k_json[] = {{"Content-Type", "application/json"}};

static uint64_t call(tg_state *s, const char *method, const char *url, const char *body,
                     uint32_t timeout_ms, size_t max_response, sb_http_done done, void *ud)
{
    sb_http_call c = {.struct_size = sizeof c, .method = method, .url = url,
                      .headers = body ? k_json : NULL, .n_headers = body ? 1 : 0,
                      .body = body, .body_len = body ? strlen(body) : 0,
                      .timeout_ms = timeout_ms, .max_response = max_response};
    return s->h->http_call(s->ctx, &c, done, ud);
}

uint64_t tg_api_call(tg_state *s, const char *method, const char *json, uint32_t timeout_ms,
                     size_t max_response, sb_http_done done, void *ud)
{
    char url[TG_MAX_URL + TG_MAX_TOKEN + 64];
    int n = snprintf(url, sizeof url, "%s/bot%s/%s", s->cfg.api_url, s->cfg.token, method);
    if (n < 0 || (size_t)n >= sizeof url) return 0;
    return call(s, "POST", url, json, timeout_ms, max_response, done, ud);
}

uint64_t tg_api_download(tg_state *s, const char *path, uint32_t timeout_ms,
                         size_t max_response, sb_http_done done, void *ud)
{
    char url[2 * TG_MAX_URL + TG_MAX_TOKEN + 64];
    int n = snprintf(url, sizeof url, "%s/file/bot%s/%s", s->cfg.api_url, s->cfg.token, path);
    if (n < 0 || (size_t)n >= sizeof url) return 0;
    return call(s, "GET", url, NULL, timeout_ms, max_response, done, ud);
}

void tg_redact(const tg_state *s, const char *in, char *out, size_t cap)
{
    const char *tok = s->cfg.token;
    size_t tl = strlen(tok), o = 0;
    if (!cap) return;
    while (*in && o + 1 < cap) {
        if (tl && strncmp(in, tok, tl) == 0) {
            static const char mark[] = "<token>";
            for (size_t i = 0; mark[i] && o + 1 < cap; i++) out[o++] = mark[i];
            in += tl;
        } else {
            out[o++] = *in++;
        }
    }
    out[o] = '\0';
}

void tg_log(tg_state *s, sb_log_level level, const char *fmt, ...)
{
    char raw[1024], clean[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    tg_redact(s, raw, clean, sizeof clean);
    s->h->log(s->ctx, level, "%s", clean);
}

void tg_describe(tg_state *s, const sb_http_response *res, const char *description, char *out,
                 size_t cap)
{
    char raw[512];
    if (res->status != SB_OK)
        snprintf(raw, sizeof raw, "%s", res->error && *res->error ? res->error
                                                                   : s->h->strstatus(res->status));
    else if (description && *description)
        snprintf(raw, sizeof raw, "HTTP %ld (%s)", res->http_status, description);
    else
        snprintf(raw, sizeof raw, "HTTP %ld", res->http_status);
    tg_redact(s, raw, out, cap);
}
