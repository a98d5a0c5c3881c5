/* The bot gateway's state, shared by plugin.c (config and lifecycle),
 * conv.c (events to the bot, its answers, timers, forced hand-off),
 * actions.c (actions through the host) and rest.c (the bot's REST route).
 * Everything runs on the loop thread. */
#ifndef BOTGATEWAY_H
#define BOTGATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <switchboard/plugin.h>

#include "wire.h"

#define BG_BUCKETS 1024      /* hash buckets of the conversation table */
#define BG_MAX_QUEUED 16     /* events waiting behind the POST in flight */
#define BG_MAX_RESPONSE (256 * 1024)   /* of the bot's answer to a POST */
#define BG_MAX_SNAPSHOT (1024 * 1024)  /* of host->conversation_get */

typedef struct bg_conv bg_conv;

typedef struct bg_state {
    const sb_host *host;
    sb_ctx *ctx;
    /* Config; strings borrowed from the host until reload/destroy. */
    const char *url;            /* the bot's endpoint */
    const char *secret;         /* signs every POST */
    const char *token;          /* the bot's bearer token for the REST route */
    const char *handoff_group;  /* NULL = the channel's group / default */
    const char *handoff_text;   /* told to the client on a forced hand-off */
    uint64_t timeout_ms;        /* per POST */
    uint64_t silence_ms;        /* client message -> reply, at most */
    int64_t max_errors;         /* in a row, then hand off */
    int64_t max_conversations;  /* tracked at once */
    /* Conversations with something going on: a POST in flight, events
     * waiting, or a client message the bot has not answered yet. */
    bg_conv *buckets[BG_BUCKETS];
    size_t n_convs;
} bg_state;

/* ---- conv.c ----------------------------------------------------------------- */

/* The descriptor's bot_event: forwards the event to the bot (queued behind a
 * POST in flight) and starts the silence timer. */
sb_status bg_bot_event(void *state, const sb_bot_event *ev);
/* The bot answered through the REST route with a reply: the conversation is
 * no longer waiting (no-op when not tracked). */
void bg_conv_replied(bg_state *s, const char *conversation_id);
/* The conversation left the bot (hand-off, close, taken over): drops its
 * state, cancelling its POST and timer (no-op when not tracked). */
void bg_conv_ended(bg_state *s, const char *conversation_id);
/* Subscription to "conversation.": drops the state of conversations whose
 * status is no longer "bot" (an operator or the core took them). */
void bg_conv_event(void *ud, const sb_event *ev);
/* Drops every conversation's state (stop). */
void bg_conv_free_all(bg_state *s);

/* host->conversation_get into a malloc'd string ({"conversation":{..},
 * "client":{..}}), or NULL with *st set to the host's answer
 * (SB_ERR_NOT_FOUND for an unknown id). */
char *bg_snapshot(bg_state *s, const char *conversation_id, sb_status *st);

/* Tells the client `s->handoff_text`, then hands the conversation to
 * operators with `reason` (shown to them). Does not touch the table. */
void bg_force_handoff(bg_state *s, const char *conversation_id, const char *reason);

/* ---- actions.c -------------------------------------------------------------- */

typedef struct bg_applied {
    size_t done;          /* actions applied, in order */
    sb_status failed;     /* the host's answer to action [done], or SB_OK */
    bool replied;         /* a reply reached the client */
    bool ended;           /* handed off, closed, or no longer the bot's */
} bg_applied;

/* Applies the actions in order through host->bot_*, stopping at the first
 * the host refuses. With `results` (a jansson array, may be NULL) appends
 * {"type","status":"ok"|"error"|"skipped","error"?} per action. */
void bg_apply(bg_state *s, const char *conversation_id, const bg_actions *a,
              struct json_t *results, bg_applied *out);

/* ---- rest.c ----------------------------------------------------------------- */

/* POST /api/v1/bots/<plugin>/<instance>/conversations/{id}/actions. */
void bg_rest_actions(void *ud, const sb_http_request *req);

#endif
