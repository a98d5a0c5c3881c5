/* The API channel's state, shared by plugin.c (lifecycle) and channel.c
 * (webhook and sending). */
#ifndef APICHANNEL_H
#define APICHANNEL_H

#include <switchboard/plugin.h>

typedef struct ac_state {
    const sb_host *host;
    sb_ctx *ctx;
    const char *secret;        /* "" = inbound not signed; borrowed from config */
    const char *callback_url;  /* "" = outbound disabled */
    uint64_t timeout_ms;
    /* Sends whose call could not start, waiting for the timer that reports
     * them; kept here because a stop drops the timer and destroy frees them. */
    struct ac_pending_out *start_failed;
} ac_state;

/* channel.c */
void ac_webhook(void *ud, const sb_http_request *req);
sb_send_accept ac_send(void *state, const sb_outbound *msg, uint64_t op);
/* Frees what ac_send left waiting on a timer that will not fire any more. */
void ac_free_pending(ac_state *s);

#endif
