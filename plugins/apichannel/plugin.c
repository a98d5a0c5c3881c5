/* The API channel plugin: descriptor, configuration and lifecycle. */
#include <stdlib.h>
#include <string.h>

#include "apichannel.h"

/* Reads every key even after an error, so that all problems are reported
 * at once and no key is also called unknown for being left unread. */
static sb_status read_config(ac_state *s)
{
    const sb_host *h = s->host;
    s->secret = "";
    s->callback_url = "";
    s->timeout_ms = 10000;
    sb_status a = h->config_string(s->ctx, "secret", &s->secret);
    sb_status b = h->config_string(s->ctx, "callback_url", &s->callback_url);
    sb_status c = h->config_duration(s->ctx, "timeout", &s->timeout_ms);
    sb_status st = SB_OK;
    /* The host has already recorded why a key is of the wrong type. */
    if ((a != SB_OK && a != SB_ERR_NOT_FOUND) || (b != SB_OK && b != SB_ERR_NOT_FOUND) ||
        (c != SB_OK && c != SB_ERR_NOT_FOUND))
        st = SB_ERR_INVALID;
    if (b == SB_OK && *s->callback_url && strncmp(s->callback_url, "http://", 7) != 0 &&
        strncmp(s->callback_url, "https://", 8) != 0) {
        h->config_error(s->ctx, "callback_url", "expected an http:// or https:// URL");
        st = SB_ERR_INVALID;
    }
    if (c == SB_OK && (s->timeout_ms == 0 || s->timeout_ms > 300000)) {
        h->config_error(s->ctx, "timeout", "expected a duration from 1ms to 5m");
        st = SB_ERR_INVALID;
    }
    return st;
}

static sb_status ac_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    ac_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    *state = s;
    sb_status st = read_config(s);
    if (st == SB_OK) st = host->http_route(ctx, "POST", "", 0, ac_webhook, s);
    if (st == SB_OK && !*s->secret)
        host->log(ctx, SB_LOG_WARN, "no secret set: inbound requests are not authenticated");
    return st;
}

static sb_status ac_reload(void *state)
{
    ac_state *s = state, old = *s;
    sb_status st = read_config(s);
    if (st != SB_OK) *s = old;
    return st;
}

static void ac_destroy(void *state)
{
    ac_free_pending(state);
    free(state);
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("apichannel", "1.0.0", SB_KIND_CHANNEL),
    .init = ac_init,
    .reload = ac_reload,
    .destroy = ac_destroy,
    .send = ac_send,
};

SB_PLUGIN_EXPORT(k_desc)
