/* The bot's REST route: POST .../conversations/{id}/actions with the bot
 * token, for bots that answer later than in the POST's response. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "botgateway.h"
#include "signature.h"

#define BG_MAX_BODY (256 * 1024)
#define BG_MAX_CONV_ID 64

static const char *header(const sb_http_request *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

/* "/{id}/actions" -> id into out; false for any other shape. */
static bool conversation_id(const char *subpath, char out[BG_MAX_CONV_ID + 1])
{
    if (*subpath == '/') subpath++;
    const char *slash = strchr(subpath, '/');
    size_t n = slash ? (size_t)(slash - subpath) : 0;
    if (n == 0 || n > BG_MAX_CONV_ID || strcmp(slash, "/actions") != 0) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = subpath[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              ch == '-' || ch == '_'))
            return false;
    }
    memcpy(out, subpath, n);
    out[n] = 0;
    return true;
}

/* The conversation's status ("bot", "queued", ...) into out; the host's
 * answer otherwise (SB_ERR_NOT_FOUND for an unknown id). */
static sb_status status_of(bg_state *s, const char *conv, char *out, size_t cap)
{
    sb_status st;
    char *snap = bg_snapshot(s, conv, &st);
    if (snap) {
        json_t *root = json_loads(snap, 0, NULL);
        const char *v = json_string_value(
            json_object_get(json_object_get(root, "conversation"), "status"));
        snprintf(out, cap, "%s", v ? v : "");
        json_decref(root);
        free(snap);
    }
    return st;
}

static int http_for(sb_status st, const char **code)
{
    switch (st) {
    case SB_ERR_NOT_FOUND: *code = "not_found"; return 404;
    case SB_ERR_STATE: *code = "conflict"; return 409;
    case SB_ERR_INVALID: *code = "bad_request"; return 400;
    case SB_ERR_TOO_BIG: *code = "too_large"; return 413;
    default: *code = "unavailable"; return 503;
    }
}

void bg_rest_actions(void *ud, const sb_http_request *req)
{
    bg_state *s = ud;
    const sb_host *h = s->host;
    uint64_t rid = req->reply_id;
    if (!sbp_bearer_ok(s->token, header(req, "Authorization"))) {
        h->http_error(s->ctx, rid, 401, "unauthorized", "Authorization: expected Bearer <bot token>");
        return;
    }
    char conv[BG_MAX_CONV_ID + 1];
    if (!conversation_id(req->subpath, conv)) {
        h->http_error(s->ctx, rid, 404, "not_found", "expected .../conversations/{id}/actions");
        return;
    }
    if (req->body_len > BG_MAX_BODY) {
        h->http_error(s->ctx, rid, 413, "too_large", "body: over 256 KiB");
        return;
    }
    char err[300];
    bg_actions acts;
    if (bg_actions_parse(req->body, req->body_len, &acts, err, sizeof err) != BG_PARSE_OK) {
        h->http_error(s->ctx, rid, 400, "bad_request", err);
        return;
    }
    char status[32], msg[200];
    const char *code;
    sb_status st = status_of(s, conv, status, sizeof status);
    if (st == SB_OK && strcmp(status, "bot") != 0) {
        snprintf(msg, sizeof msg, "conversation %s is %s, no longer with the bot", conv,
                 *status ? status : "in an unknown state");
        h->http_error(s->ctx, rid, 409, "conflict", msg);
    } else if (st != SB_OK) {
        int http = http_for(st, &code);
        snprintf(msg, sizeof msg, "conversation %s: %s", conv, h->strstatus(st));
        h->http_error(s->ctx, rid, http, code, msg);
    } else {
        json_t *results = json_array();
        bg_applied ap;
        bg_apply(s, conv, &acts, results, &ap);
        h->metric_add(s->ctx, "actions_total", (double)ap.done);
        if (ap.ended) bg_conv_ended(s, conv);
        else if (ap.replied) bg_conv_replied(s, conv);
        if (ap.done == 0 && ap.failed != SB_OK) {
            /* Nothing happened: an error status says so plainly. */
            int http = http_for(ap.failed, &code);
            snprintf(msg, sizeof msg, "actions[0] (%s): %s", bg_action_name(acts.v[0].type),
                     ap.failed == SB_ERR_STATE ? "the conversation is not held by this bot"
                                               : h->strstatus(ap.failed));
            h->http_error(s->ctx, rid, http, code, msg);
        } else {
            json_t *o = json_pack("{s:s, s:o}", "conversation_id", conv, "results", results);
            results = NULL;
            char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
            if (body) h->http_reply(s->ctx, rid, 200, "application/json", NULL, 0, body, strlen(body));
            else h->http_error(s->ctx, rid, 503, "unavailable", "out of memory");
            free(body);
            json_decref(o);
        }
        json_decref(results);
    }
    bg_actions_free(&acts);
}
