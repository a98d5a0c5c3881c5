/* The bot gateway: third-party bots behind a signed HTTP interface.
 * Descriptor, configuration and lifecycle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "botgateway.h"

#define DEFAULT_HANDOFF_TEXT "Соединяю вас с оператором, пожалуйста, подождите."

/* A present key of the wrong type was already recorded by the host. */
static bool bad(sb_status st)
{
    return st != SB_OK && st != SB_ERR_NOT_FOUND;
}

static bool required(bg_state *s, sb_status st, const char *key, const char *v)
{
    if (st == SB_ERR_NOT_FOUND || (st == SB_OK && !*v)) {
        s->host->config_error(s->ctx, key, "required");
        return false;
    }
    return st == SB_OK;
}

static bool in_range(bg_state *s, sb_status st, const char *key, int64_t v, int64_t lo, int64_t hi,
                     const char *what)
{
    if (st != SB_OK || (v >= lo && v <= hi)) return !bad(st);
    s->host->config_error(s->ctx, key, what);
    return false;
}

/* Reads every key even after an error, so that all problems are reported
 * at once and none is also called unknown for being left unread. */
static sb_status read_config(bg_state *s)
{
    const sb_host *h = s->host;
    sb_ctx *c = s->ctx;
    s->url = s->secret = s->token = "";
    s->handoff_group = NULL;
    s->handoff_text = DEFAULT_HANDOFF_TEXT;
    s->timeout_ms = 5000;
    s->silence_ms = 30000;
    s->max_errors = 3;
    s->max_conversations = 10000;
    sb_status url = h->config_string(c, "url", &s->url);
    sb_status sec = h->config_string(c, "secret", &s->secret);
    sb_status tok = h->config_string(c, "token", &s->token);
    sb_status grp = h->config_string(c, "handoff_group", &s->handoff_group);
    sb_status txt = h->config_string(c, "texts.handoff", &s->handoff_text);
    sb_status tmo = h->config_duration(c, "timeout", &s->timeout_ms);
    sb_status sil = h->config_duration(c, "silence_timeout", &s->silence_ms);
    sb_status err = h->config_int(c, "max_errors", &s->max_errors);
    sb_status mc = h->config_int(c, "max_conversations", &s->max_conversations);

    bool ok = required(s, url, "url", s->url) & required(s, sec, "secret", s->secret) &
              required(s, tok, "token", s->token) & !bad(grp) & !bad(txt);
    if (url == SB_OK && *s->url && strncmp(s->url, "http://", 7) != 0 &&
        strncmp(s->url, "https://", 8) != 0) {
        h->config_error(c, "url", "expected an http:// or https:// URL");
        ok = false;
    }
    if (grp == SB_OK && !*s->handoff_group) s->handoff_group = NULL;
    if (txt == SB_OK && (!*s->handoff_text || strlen(s->handoff_text) > BG_MAX_TEXT)) {
        h->config_error(c, "texts.handoff", "expected a text of 1 to 4096 bytes");
        ok = false;
    }
    ok &= in_range(s, tmo, "timeout", (int64_t)s->timeout_ms, 100, 300000,
                   "expected a duration from 100ms to 5m");
    ok &= in_range(s, sil, "silence_timeout", (int64_t)s->silence_ms, 100, 86400000,
                   "expected a duration from 100ms to 24h");
    ok &= in_range(s, err, "max_errors", s->max_errors, 1, 1000, "expected 1 to 1000");
    ok &= in_range(s, mc, "max_conversations", s->max_conversations, 1, 10000000,
                   "expected 1 to 10000000");
    return ok ? SB_OK : SB_ERR_INVALID;
}

static bool has_bot_api(const sb_host *h)
{
    return SB_HOST_HAS(h, bot_reply) && SB_HOST_HAS(h, bot_set_attributes) &&
           SB_HOST_HAS(h, bot_add_tag) && SB_HOST_HAS(h, bot_handoff) &&
           SB_HOST_HAS(h, bot_close) && SB_HOST_HAS(h, conversation_get);
}

static sb_status bg_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    if (!has_bot_api(host)) {
        host->log(ctx, SB_LOG_ERROR, "needs a host with the bot API (ABI 1.1), this one is %u.%u",
                  (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return SB_ERR_UNSUPPORTED;
    }
    bg_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    *state = s;
    sb_status st = read_config(s);
    char path[300];
    snprintf(path, sizeof path, "/bots/%s/%s/conversations", host->plugin_name(ctx),
             host->instance_name(ctx));
    /* No AUTH flag: the bot's own token is checked by the handler. */
    if (st == SB_OK)
        st = host->http_route(ctx, "POST", path, SB_ROUTE_API | SB_ROUTE_PREFIX, bg_rest_actions, s);
    if (st == SB_OK) st = host->subscribe(ctx, "conversation.", bg_conv_event, s);
    return st;
}

static sb_status bg_reload(void *state)
{
    bg_state *s = state, old = *s;
    sb_status st = read_config(s);
    if (st != SB_OK) {
        /* Only the config part goes back: the table may not be copied. */
        s->url = old.url;
        s->secret = old.secret;
        s->token = old.token;
        s->handoff_group = old.handoff_group;
        s->handoff_text = old.handoff_text;
        s->timeout_ms = old.timeout_ms;
        s->silence_ms = old.silence_ms;
        s->max_errors = old.max_errors;
        s->max_conversations = old.max_conversations;
    }
    return st;
}

static void bg_stop(void *state)
{
    bg_conv_free_all(state);
}

static void bg_destroy(void *state)
{
    bg_conv_free_all(state);
    free(state);
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("botgateway", "1.0.0", SB_KIND_BOT),
    .init = bg_init,
    .reload = bg_reload,
    .stop = bg_stop,
    .destroy = bg_destroy,
    .bot_event = bg_bot_event,
};

SB_PLUGIN_EXPORT(k_desc)
