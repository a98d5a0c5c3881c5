/* The callback-request channel: state shared by plugin.c (lifecycle,
 * config) and request.c (the form's endpoints). Loop thread only. */
#ifndef CALLBACK_CB_H
#define CALLBACK_CB_H

#include <stdbool.h>
#include <stdint.h>
#include <switchboard/plugin.h>

#include "hours.h"

#define CB_MAX_ORIGINS 32
#define CB_RATE_SLOTS 512       /* addresses tracked for the per-IP limit */
#define CB_RATE_WINDOW_MS 600000 /* the per-IP limit counts over 10 minutes */

typedef struct cb_rate {
    char ip[64];
    int64_t since;
    int count;
} cb_rate;

typedef struct cb_state {
    const sb_host *host;
    sb_ctx *ctx;
    cb_hours hours;
    int64_t days_ahead;        /* how far ahead slots are offered */
    int64_t per_ip;            /* requests per address per window */
    const char *origins[CB_MAX_ORIGINS]; /* borrowed from the config */
    size_t n_origins;          /* 0: any origin */
    cb_rate rate[CB_RATE_SLOTS];
    struct cb_pending *pending; /* requests waiting for their commit */
} cb_state;

/* plugin.c */
sb_status cb_config_read(cb_state *s);

/* request.c */
/* The form: POST "" (a request), GET "/slots" (times to offer). */
void cb_http(void *ud, const sb_http_request *req);
/* Frees requests whose commit callback will not run any more. */
void cb_pending_free(cb_state *s);
/* Normalizes a phone typed by a visitor: digits only, a leading '+' kept;
 * false unless it has 3..20 digits and only digits, spaces, + - ( ) .  */
bool cb_phone_normalize(const char *in, char *out, size_t cap);

#endif
