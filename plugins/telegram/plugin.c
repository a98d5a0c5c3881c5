/* The Telegram channel plugin: descriptor, configuration and lifecycle.
 *
 * Config (one instance per bot):
 *   token: "123:ABC"         required
 *   api_url: https://api.telegram.org
 *   mode: poll | webhook      default poll
 *   secret_token: "..."       1-256 of A-Za-z0-9_-, required for webhook
 *   public_url: https://...   webhook: where /hooks/telegram/<instance> is reachable
 *   poll_timeout: 25s         getUpdates long-poll timeout (0s..60s)
 *   max_file: 20MiB           largest attachment served by GET .../file/<file_id>
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg.h"

#define MAX_FILE_LIMIT (512ull * 1024 * 1024)

static const char k_token_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_-";
static const char k_secret_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

static bool only(const char *s, const char *chars, size_t max)
{
    size_t n = strlen(s);
    return n >= 1 && n <= max && strspn(s, chars) == n;
}

/* An http(s) URL of printable ASCII without spaces, copied without a
 * trailing '/'. */
static bool url_ok(const char *u, char *out, size_t cap)
{
    size_t n = strlen(u);
    if ((strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0) || n >= cap) return false;
    for (size_t i = 0; i < n; i++)
        if (u[i] <= ' ' || u[i] > '~' || u[i] == '"' || u[i] == '\\') return false;
    while (n > 8 && u[n - 1] == '/') n--;
    memcpy(out, u, n);
    out[n] = '\0';
    return true;
}

static bool failed(sb_status st) { return st != SB_OK && st != SB_ERR_NOT_FOUND; }

/* Reads every key (so all problems show at once and none is "unknown"). */
sb_status tg_read_config(tg_state *s, tg_config *c)
{
    const sb_host *h = s->h;
    sb_ctx *x = s->ctx;
    const char *token = NULL, *api = "https://api.telegram.org", *mode = "poll";
    const char *secret = NULL, *pub = NULL, *start = NULL;
    memset(c, 0, sizeof *c);
    c->poll_timeout_ms = 25000;
    c->max_file = 20ull * 1024 * 1024;
    sb_status st[8] = {
        h->config_string(x, "token", &token),
        h->config_string(x, "api_url", &api),
        h->config_string(x, "mode", &mode),
        h->config_string(x, "secret_token", &secret),
        h->config_string(x, "public_url", &pub),
        h->config_duration(x, "poll_timeout", &c->poll_timeout_ms),
        h->config_size(x, "max_file", &c->max_file),
        h->config_string(x, "start_url", &start),
    };
    bool bad = false;
    for (int i = 0; i < 8; i++) bad |= failed(st[i]); /* the host said why */
    if (start && !url_ok(start, c->start_url, sizeof c->start_url)) {
        h->config_error(x, "start_url", "expected an http:// or https:// URL");
        bad = true;
    }
    if (!token) {
        h->config_error(x, "token", "required: the bot's token from @BotFather");
        bad = true;
    } else if (!only(token, k_token_chars, TG_MAX_TOKEN)) {
        h->config_error(x, "token", "expected a bot token: 1-256 of A-Za-z0-9:_-");
        bad = true;
    } else {
        strcpy(c->token, token);
    }
    if (!url_ok(api, c->api_url, sizeof c->api_url)) {
        h->config_error(x, "api_url", "expected an http:// or https:// URL");
        bad = true;
    }
    if (strcmp(mode, "poll") == 0) {
        c->mode = TG_MODE_POLL;
    } else if (strcmp(mode, "webhook") == 0) {
        c->mode = TG_MODE_WEBHOOK;
    } else {
        h->config_error(x, "mode", "expected webhook or poll");
        bad = true;
    }
    if (secret && !only(secret, k_secret_chars, TG_MAX_SECRET)) {
        h->config_error(x, "secret_token", "expected 1-256 characters of A-Za-z0-9_-");
        bad = true;
    } else if (secret) {
        strcpy(c->secret, secret);
    } else if (c->mode == TG_MODE_WEBHOOK) {
        h->config_error(x, "secret_token", "required in webhook mode: 1-256 of A-Za-z0-9_-");
        bad = true;
    }
    if (pub && !url_ok(pub, c->public_url, sizeof c->public_url)) {
        h->config_error(x, "public_url", "expected an http:// or https:// URL");
        bad = true;
    } else if (!pub && c->mode == TG_MODE_WEBHOOK) {
        h->config_error(x, "public_url", "required in webhook mode: the base URL Telegram "
                        "reaches this server at");
        bad = true;
    }
    if (c->poll_timeout_ms > 60000) {
        h->config_error(x, "poll_timeout", "expected 0s to 60s");
        bad = true;
    }
    if (c->max_file == 0 || c->max_file > MAX_FILE_LIMIT) {
        h->config_error(x, "max_file", "expected 1 byte to 512MiB");
        bad = true;
    }
    return bad ? SB_ERR_INVALID : SB_OK;
}

void tg_files_path(tg_state *s, char *out, size_t cap)
{
    snprintf(out, cap, "/channels/telegram/%s/files", s->h->instance_name(s->ctx));
}

/* ---- the setWebhook / getUpdates machinery ------------------------------- */

static void transport_fire(void *ud, uint64_t id)
{
    (void)id;
    tg_state *s = ud;
    s->timer = 0;
    if (s->running && s->again) s->again(s);
}

void tg_transport_timer(tg_state *s, uint64_t ms, void (*again)(tg_state *))
{
    if (s->timer) s->h->timer_stop(s->ctx, s->timer);
    s->again = again;
    s->timer = s->h->timer_start(s->ctx, ms, 0, transport_fire, s);
    if (!s->timer) tg_log(s, SB_LOG_ERROR, "no timer: updates stop until a restart");
}

uint64_t tg_transport_retry(tg_state *s, uint64_t at_least_ms, void (*again)(tg_state *))
{
    uint64_t ms = s->backoff_ms ? s->backoff_ms * 2 : TG_BACKOFF_MIN_MS;
    if (ms > TG_BACKOFF_MAX_MS) ms = TG_BACKOFF_MAX_MS;
    s->backoff_ms = ms;
    if (at_least_ms > ms) ms = at_least_ms;
    tg_transport_timer(s, ms, again);
    return ms;
}

void tg_transport_stop(tg_state *s)
{
    if (s->timer) s->h->timer_stop(s->ctx, s->timer);
    s->timer = 0;
    if (s->call) s->h->http_cancel(s->ctx, s->call); /* its done runs now */
    s->call = 0;
    s->batch++; /* the running batch's dones are ignored */
    s->batch_waiting = 0;
    s->backoff_ms = 0;
}

static void transport_start(tg_state *s)
{
    if (s->cfg.mode == TG_MODE_WEBHOOK) tg_webhook_start(s);
    else tg_poll_start(s);
}

/* ---- lifecycle ------------------------------------------------------------- */

static sb_status tg_init(const sb_host *h, sb_ctx *ctx, void **state)
{
    tg_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->h = h;
    s->ctx = ctx;
    s->jobs_tail = &s->jobs;
    s->offset = -1;
    s->limit = TG_POLL_LIMIT;
    *state = s; /* set first: when init fails the core still calls destroy */
    sb_status st = tg_read_config(s, &s->cfg);
    if (st == SB_OK) st = h->http_route(ctx, "POST", "", SB_ROUTE_HOOK, tg_webhook, s);
    /* Clients' files are for operators only: an API route, behind a token
     * (the workspace passes it in the query for <img> and links). */
    char files[TG_MAX_URL];
    tg_files_path(s, files, sizeof files);
    if (st == SB_OK)
        st = h->http_route(ctx, "GET", files, SB_ROUTE_API | SB_ROUTE_PREFIX | SB_ROUTE_AUTH_OPERATOR,
                           tg_file_route, s);
    return st;
}

static sb_status tg_start(void *state)
{
    tg_state *s = state;
    s->running = true;
    tg_key_load(s);
    tg_log(s, SB_LOG_INFO, "starting in %s mode against %s",
           s->cfg.mode == TG_MODE_WEBHOOK ? "webhook" : "poll", s->cfg.api_url);
    transport_start(s);
    return SB_OK;
}

static sb_status tg_reload(void *state)
{
    tg_state *s = state;
    tg_config c;
    sb_status st = tg_read_config(s, &c);
    if (st != SB_OK) return st;
    bool restart = strcmp(c.token, s->cfg.token) != 0 || strcmp(c.api_url, s->cfg.api_url) != 0 ||
                   c.mode != s->cfg.mode || strcmp(c.secret, s->cfg.secret) != 0 ||
                   strcmp(c.public_url, s->cfg.public_url) != 0 ||
                   c.poll_timeout_ms != s->cfg.poll_timeout_ms;
    if (restart && s->running) tg_transport_stop(s);
    s->cfg = c;
    if (restart && s->running) transport_start(s);
    return SB_OK;
}

static void tg_stop(void *state)
{
    tg_state *s = state;
    s->running = false;
    tg_transport_stop(s);
    tg_send_stop(s);
    tg_file_stop(s);
}

static void tg_destroy(void *state)
{
    tg_state *s = state;
    tg_send_free(s);
    tg_file_free(s);
    tg_ingest_free_all(s);
    free(s);
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("telegram", "1.0.0", SB_KIND_CHANNEL),
    .init = tg_init,
    .start = tg_start,
    .reload = tg_reload,
    .stop = tg_stop,
    .destroy = tg_destroy,
    .send = tg_send,
};

SB_PLUGIN_EXPORT(k_desc)
