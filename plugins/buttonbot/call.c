/* Outbound calls: the API step (a company's HTTP API, templated from the
 * conversation, answer fields extracted into attributes) and the text
 * bot's knowledge-base search. URLs and headers may carry secrets: they
 * are never logged, only the step id and the outcome. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

static void api_done(void *ud, uint64_t call_id, const sb_http_response *res);

/* Header values lose CR and LF: a templated value must not add headers. */
static void strip_crlf(char *s)
{
    for (char *p = s; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
}

static sb_status api_failed(bb_conv *c, const char *why)
{
    const bb_step *st = &c->sc->steps[c->step];
    bb_state *s = c->s;
    s->host->log(s->ctx, SB_LOG_WARN, "conversation %s: api step \"%s\" failed: %s", c->id,
                 st->id, why);
    s->host->metric_add(s->ctx, "api_errors_total", 1);
    if (st->on_error.ix >= 0) return bb_enter(c, st->on_error.ix, NULL);
    char reason[400];
    snprintf(reason, sizeof reason, "the bot's API step \"%s\" failed: %s", st->id, why);
    return bb_handoff_error(c, NULL, reason);
}

sb_status bb_api_start(bb_conv *c)
{
    bb_state *s = c->s;
    const bb_step *st = &c->sc->steps[c->step];
    char *url = bb_render(c, st->url, BB_ESC_URL);
    char *body = st->body ? bb_render(c, st->body, BB_ESC_JSON) : NULL;
    char *hv[BB_MAX_PAIRS] = {0};
    sb_header hs[BB_MAX_PAIRS + 1];
    size_t nh = 0;
    sb_status r = url && (!st->body || body) ? SB_OK : SB_ERR_NOMEM;
    for (size_t i = 0; r == SB_OK && i < st->n_headers; i++) {
        if (!(hv[i] = bb_render(c, st->headers[i].value, BB_ESC_NONE))) r = SB_ERR_NOMEM;
        else {
            strip_crlf(hv[i]);
            hs[nh++] = (sb_header){st->headers[i].key, hv[i]};
        }
    }
    if (r == SB_OK && body) hs[nh++] = (sb_header){"Content-Type", "application/json"};
    if (r == SB_OK) {
        c->tries++;
        sb_http_call call = {
            .struct_size = sizeof call,
            .method = st->method ? st->method : "GET",
            .url = url,
            .headers = hs,
            .n_headers = nh,
            .body = body,
            .body_len = body ? strlen(body) : 0,
            .timeout_ms = st->timeout_ms,
            .max_response = BB_API_MAX_RESPONSE,
        };
        c->call_id = s->host->http_call(s->ctx, &call, api_done, c);
    }
    free(url);
    free(body);
    for (size_t i = 0; i < st->n_headers; i++) free(hv[i]);
    if (r != SB_OK) return r;
    if (!c->call_id) return api_failed(c, "the call could not start (bad URL?)");
    return SB_OK;
}

/* Extracts every field; returns NULL or what went wrong (static text in
 * why). */
static int extract(bb_conv *c, const bb_step *st, json_t *root, char *why, size_t cap)
{
    for (size_t i = 0; i < st->n_extract; i++) {
        json_t *v = bb_jpath(root, st->extract[i].value);
        if (!v) {
            snprintf(why, cap, "the answer has no %s", st->extract[i].value);
            return -1;
        }
        char *txt = bb_json_text(v);
        sb_status r = txt ? bb_set_value(c, st->extract[i].key, txt) : SB_ERR_NOMEM;
        free(txt);
        if (r != SB_OK) {
            snprintf(why, cap, "storing %s: %s", st->extract[i].key, c->s->host->strstatus(r));
            return -1;
        }
    }
    return 0;
}

static void api_done(void *ud, uint64_t call_id, const sb_http_response *res)
{
    bb_conv *c = ud;
    bb_state *s = c->s;
    (void)call_id;
    c->call_id = 0;
    if (res->status == SB_ERR_CANCELLED) return;  /* stopping, or the conversation left */
    bb_convs_reap(s);
    const bb_step *st = &c->sc->steps[c->step];
    char why[300];
    int transient = res->status != SB_OK || res->http_status >= 500 || res->http_status == 429;
    if (res->status != SB_OK)
        snprintf(why, sizeof why, "%s", s->host->strstatus(res->status));
    else if (res->http_status < 200 || res->http_status > 299)
        snprintf(why, sizeof why, "HTTP %ld", res->http_status);
    else
        why[0] = 0;
    if (why[0] && transient && c->tries <= st->retries) {
        s->host->log(s->ctx, SB_LOG_INFO, "conversation %s: api step \"%s\": %s, retrying",
                     c->id, st->id, why);
        if (bb_api_start(c) != SB_OK && !c->dead)
            bb_handoff_error(c, NULL, "the bot's API step failed");
        return;
    }
    if (why[0]) {
        api_failed(c, why);
        return;
    }
    json_error_t jerr;
    json_t *root = json_loadb(res->body, res->body_len, 0, &jerr);
    if (!root && st->n_extract) {
        api_failed(c, "the answer is not JSON");
        return;
    }
    int bad = extract(c, st, root, why, sizeof why);
    json_decref(root);
    if (bad) {
        api_failed(c, why);
        return;
    }
    s->host->metric_add(s->ctx, "api_calls_total", 1);
    sb_status r = SB_OK;
    if (st->text) {
        char *t = bb_render(c, st->text, BB_ESC_NONE);
        r = t ? s->host->bot_reply(s->ctx, c->id, t, NULL, 0) : SB_ERR_NOMEM;
        free(t);
    }
    if (r == SB_OK) r = bb_enter(c, st->next.ix, NULL);
    /* Nothing the client could see: hand off rather than go silent. */
    if (r != SB_OK && !c->dead) bb_handoff_error(c, NULL, "the bot could not go on");
}

/* ---- the text bot: POST {url}/api/v1/kb/{kb}/search ----------------------- */
static void kb_done(void *ud, uint64_t call_id, const sb_http_response *res);

static sb_status kb_start(bb_conv *c, const char *method, const char *path, const char *body,
                          int article)
{
    bb_state *s = c->s;
    if (!s->tb_url) return bb_handoff_error(c, s->texts.textbot_error, "no text bot configured");
    size_t n = strlen(s->tb_url) + strlen(path) + 1;
    char *url = malloc(n), auth[600];
    if (!url) return SB_ERR_NOMEM;
    snprintf(url, n, "%s%s", s->tb_url, path);
    snprintf(auth, sizeof auth, "Bearer %s", s->tb_token ? s->tb_token : "");
    sb_header hs[2] = {{"Authorization", auth}, {"Content-Type", "application/json"}};
    sb_http_call call = {
        .struct_size = sizeof call, .method = method, .url = url, .headers = hs,
        .n_headers = body ? 2 : 1, .body = body, .body_len = body ? strlen(body) : 0,
        .timeout_ms = 5000, .max_response = BB_API_MAX_RESPONSE,
    };
    c->tries = article;
    c->call_id = s->host->http_call(s->ctx, &call, kb_done, c);
    free(url);
    if (!c->call_id) return bb_handoff_error(c, s->texts.textbot_error, "the text bot's call could not start");
    return SB_OK;
}

sb_status bb_kb_search(bb_conv *c, const char *query)
{
    bb_state *s = c->s;
    const bb_step *st = &c->sc->steps[c->step];
    char path[400];
    snprintf(path, sizeof path, "/api/v1/kb/%s/search", s->tb_kb ? s->tb_kb : "");
    size_t n = strnlen(query, 1000);
    while (n && ((unsigned char)query[n] & 0xC0) == 0x80) n--;  /* whole characters */
    json_t *q = json_pack("{s:s%, s:i}", "query", query, n, "limit", st->limit);
    char *body = q ? json_dumps(q, JSON_COMPACT) : NULL;
    json_decref(q);
    if (!body) {  /* not UTF-8 */
        bb_choice op = {s->texts.operator_title, "op"};
        return bb_send_menu(c, s->texts.textbot_none, &op, 1);
    }
    sb_status r = kb_start(c, "POST", path, body, 0);
    free(body);
    return r;
}

sb_status bb_kb_article(bb_conv *c, const char *id)
{
    char path[400];
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-' || *p == '_') || p - id > 64)
            return bb_kb_search(c, id);  /* not an id we made: treat as a question */
    snprintf(path, sizeof path, "/api/v1/kb/%s/articles/%s", c->s->tb_kb ? c->s->tb_kb : "", id);
    return kb_start(c, "GET", path, NULL, 1);
}

static sb_status kb_results(bb_conv *c, json_t *root)
{
    bb_state *s = c->s;
    const char *op_title = c->sc->operator_title ? c->sc->operator_title : s->texts.operator_title;
    json_t *items = json_object_get(root, "items"), *ids = json_array();
    bb_choice ch[12];
    size_t n = 0;
    for (size_t i = 0; ids && i < json_array_size(items) && n < 10; i++) {
        json_t *it = json_array_get(items, i);
        const char *id = json_string_value(json_object_get(it, "id"));
        const char *title = json_string_value(json_object_get(it, "title"));
        if (!id || !title || strlen(id) > 64) continue;
        ch[n].title = title;
        snprintf(ch[n].id, sizeof ch[n].id, "kb:%s", id);
        json_array_append_new(ids, json_string(id));
        n++;
    }
    json_object_set_new(c->vars, "_kb", ids ? ids : json_array());
    bb_conv_save(c);
    ch[n].title = op_title;
    snprintf(ch[n].id, sizeof ch[n].id, "op");
    const char *text = n ? c->sc->steps[c->step].text : s->texts.textbot_none;
    if (n && !text) text = s->texts.textbot_prompt;
    char *t = bb_render(c, text, BB_ESC_NONE);
    sb_status r = t ? bb_send_menu(c, t, ch, n + 1) : SB_ERR_NOMEM;
    free(t);
    return r;
}

static sb_status kb_show(bb_conv *c, json_t *root)
{
    bb_state *s = c->s;
    const char *title = json_string_value(json_object_get(root, "title"));
    const char *body = json_string_value(json_object_get(root, "body"));
    if (!title || !body) return SB_ERR_INVALID;
    size_t n = strlen(title) + strlen(body) + 3;
    char *t = malloc(n);
    if (!t) return SB_ERR_NOMEM;
    snprintf(t, n, "%s\n\n%s", title, body);
    if (n > 8000) {  /* a message, not a manual: cut on a character boundary */
        n = 8000;
        while (n && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
        t[n] = 0;
    }
    sb_status r = s->host->bot_reply(s->ctx, c->id, t, NULL, 0);
    free(t);
    if (r != SB_OK) return r;
    return bb_enter(c, c->sc->steps[c->step].next.ix, NULL);
}

static void kb_done(void *ud, uint64_t call_id, const sb_http_response *res)
{
    bb_conv *c = ud;
    bb_state *s = c->s;
    (void)call_id;
    c->call_id = 0;
    if (res->status == SB_ERR_CANCELLED) return;
    bb_convs_reap(s);
    int article = c->tries;
    const bb_step *st = &c->sc->steps[c->step];
    json_t *root = res->status == SB_OK && res->http_status >= 200 && res->http_status <= 299
                       ? json_loadb(res->body, res->body_len, 0, NULL) : NULL;
    sb_status r = root ? (article ? kb_show(c, root) : kb_results(c, root)) : SB_ERR_IO;
    json_decref(root);
    if (r == SB_OK) return;
    s->host->log(s->ctx, SB_LOG_WARN, "conversation %s: text bot step \"%s\": %s (HTTP %ld)",
                 c->id, st->id, res->status != SB_OK ? s->host->strstatus(res->status)
                 : root ? s->host->strstatus(r) : "bad answer", res->http_status);
    if (c->dead) return;  /* already handed off */
    if (st->on_error.ix >= 0 && bb_enter(c, st->on_error.ix, NULL) == SB_OK) return;
    if (!c->dead)
        bb_handoff_error(c, s->texts.textbot_error, "the text bot's knowledge base did not answer");
}
