/* The callback-request channel: a visitor asks to be called back, now or
 * at a slot within business hours; the request lands in the operators'
 * queue as a conversation of channel `callback` with the client found or
 * created by phone. Nothing can be texted back: send() refuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cb.h"

static bool bad(sb_status st) { return st != SB_OK && st != SB_ERR_NOT_FOUND; }

static bool read_hours(cb_state *s)
{
    static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    const sb_host *h = s->host;
    bool ok = true;
    const char *off = NULL;
    sb_status st = h->config_string(s->ctx, "hours.utc_offset", &off);
    s->hours.offset_min = 180; /* Moscow, unless said */
    if (bad(st)) ok = false;
    else if (st == SB_OK && !cb_hours_parse_offset(off, &s->hours.offset_min)) {
        h->config_error(s->ctx, "hours.utc_offset", "expected +HH:MM or -HH:MM, e.g. +03:00");
        ok = false;
    }
    size_t n = 0;
    bool any = h->config_count(s->ctx, "hours", &n) == SB_OK;
    for (int d = 0; d < 7; d++) {
        char path[32];
        snprintf(path, sizeof path, "hours.%s", days[d]);
        const char *v = NULL;
        /* Without an hours section: weekdays 09:00-18:00. */
        s->hours.open[d] = any || d >= 5 ? -1 : 540;
        s->hours.close[d] = any || d >= 5 ? -1 : 1080;
        st = h->config_string(s->ctx, path, &v);
        if (bad(st)) ok = false;
        else if (st == SB_OK && strcmp(v, "closed") != 0 &&
                 !cb_hours_parse_range(v, &s->hours.open[d], &s->hours.close[d])) {
            h->config_error(s->ctx, path, "expected HH:MM-HH:MM (e.g. 09:00-18:00) or closed");
            ok = false;
        }
    }
    return ok;
}

sb_status cb_config_read(cb_state *s)
{
    const sb_host *h = s->host;
    int64_t slot = 30;
    s->days_ahead = 7;
    s->per_ip = 5;
    s->n_origins = 0;
    bool ok = read_hours(s);
    sb_status a = h->config_int(s->ctx, "slot_minutes", &slot);
    sb_status b = h->config_int(s->ctx, "days_ahead", &s->days_ahead);
    sb_status c = h->config_int(s->ctx, "per_ip", &s->per_ip);
    if (bad(a) || bad(b) || bad(c)) ok = false;
    if (a == SB_OK && (slot < 5 || slot > 240)) {
        h->config_error(s->ctx, "slot_minutes", "expected 5..240");
        ok = false;
    }
    s->hours.slot_min = (int)slot;
    if (b == SB_OK && (s->days_ahead < 1 || s->days_ahead > 30)) {
        h->config_error(s->ctx, "days_ahead", "expected 1..30");
        ok = false;
    }
    if (c == SB_OK && (s->per_ip < 1 || s->per_ip > 1000)) {
        h->config_error(s->ctx, "per_ip", "expected 1..1000 requests per 10 minutes");
        ok = false;
    }
    size_t n = 0;
    sb_status st = h->config_count(s->ctx, "allowed_origins", &n);
    if (bad(st)) ok = false;
    if (n > CB_MAX_ORIGINS) {
        h->config_error(s->ctx, "allowed_origins", "at most 32 entries");
        ok = false;
    }
    for (size_t i = 0; st == SB_OK && i < n; i++) {
        char path[40];
        snprintf(path, sizeof path, "allowed_origins[%zu]", i);
        const char *v = NULL;
        sb_status e = h->config_string(s->ctx, path, &v);
        if (e != SB_OK) {
            if (e == SB_ERR_NOT_FOUND) h->config_error(s->ctx, path, "expected a string");
            ok = false;
        } else if (i < CB_MAX_ORIGINS) {
            s->origins[s->n_origins++] = v;
        }
    }
    return ok ? SB_OK : SB_ERR_INVALID;
}

static sb_status cb_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    cb_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    *state = s;
    sb_status st = cb_config_read(s);
    if (st == SB_OK) st = host->http_route(ctx, NULL, "", SB_ROUTE_HOOK | SB_ROUTE_PREFIX, cb_http, s);
    return st;
}

static sb_status cb_reload(void *state)
{
    cb_state *s = state;
    cb_hours hours = s->hours;
    int64_t days = s->days_ahead, per_ip = s->per_ip;
    size_t n = s->n_origins;
    const char *origins[CB_MAX_ORIGINS];
    memcpy(origins, s->origins, sizeof origins);
    sb_status st = cb_config_read(s);
    if (st != SB_OK) { /* keep running on the old values */
        s->hours = hours;
        s->days_ahead = days;
        s->per_ip = per_ip;
        s->n_origins = n;
        memcpy(s->origins, origins, sizeof origins);
    }
    return st;
}

static void cb_destroy(void *state)
{
    cb_pending_free(state);
    free(state);
}

/* A phone cannot be texted: every outbound message (an operator's note to
 * the client, a rating request at close) is refused, so the core marks it
 * failed "rejected by the channel" instead of pretending it was delivered. */
static sb_send_accept cb_send(void *state, const sb_outbound *msg, uint64_t op)
{
    (void)state;
    (void)msg;
    (void)op;
    return SB_SEND_REJECTED;
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("callback", "1.0.0", SB_KIND_CHANNEL),
    .init = cb_init,
    .reload = cb_reload,
    .destroy = cb_destroy,
    .send = cb_send,
};

SB_PLUGIN_EXPORT(k_desc)
