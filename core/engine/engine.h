/* The conversation engine: clients and identities, conversations, messages,
 * the outbox, and the event stream. Routing (operators, groups, queues,
 * strategies, timers, templates, conversation actions, client search,
 * merge, erase, audit) is declared in engine/routing.h, which this header
 * includes at its end: include either. Knows the store and the loop's timers;
 * knows nothing of HTTP, sockets or the plugin loader (channels are reached
 * through the sender callback the host installs; the API and plugins learn
 * what happened through events).
 *
 * Thread: loop thread only. Every function may be called from an event or
 * send callback of this engine, except sb_engine_free.
 *
 * Durability: every state change is written to the store in the current
 * batch together with an event appended to the durable event log. Events
 * are delivered to subscribers only after their batch commits, in log
 * order. Nothing is acknowledged (inbound `done`) before the commit, and
 * nothing is handed to a channel before the commit that stored it.
 *
 * Events (sb_event.json is the whole object, type included):
 *   client.created, client.updated           {"type","client":{client}}
 *   conversation.created, conversation.updated {"type","conversation":{..}}
 *   message.created, message.updated         {"type","conversation_id","message":{..}}
 * (message.updated: a delivery outcome.) Shapes are api.md's, with these
 * additions: message {instance, button_id (a pressed button), event ("edit"
 * | "contact", for type "event"), edit_of (message id or null), sent_at
 * (the channel's time for inbound, the send time for outbound)}; inbound
 * messages have "delivery": null; client {identities[].unreachable,
 * open_conversation_id}.
 *
 * Identity rules: a channel account (plugin, instance, external_id) names
 * one client. A new account whose phone (digits only) or e-mail
 * (lowercased) is already known joins that client, as does a new account
 * whose inbound links it to a known account of another channel
 * (sb_inbound.link_*: a web-chat visitor who followed the site's deep link). A client keeps at most
 * 64 channel accounts in its record; past that a new account gets its own
 * profile. A client has one open conversation, shared by its channels:
 * replies go to the account it wrote from last.
 */
#ifndef SB_ENGINE_H
#define SB_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h>
#include "store/store.h"

struct ev_loop;
typedef struct sb_engine sb_engine;

/* Names of the tables the engine uses, to pass to sb_store_open together
 * with the host's; *n set to the count. The engine finds its tables by name
 * through sb_engine_new's `first_table` (its tables are consecutive,
 * starting at that index, in this order). */
const char *const *sb_engine_table_names(size_t *n);

/* Zero fields take the defaults below. retry_max_ms and send_timeout_ms
 * are capped at 7 days, dedup_ttl_ms at 10 years; retry_base_ms at most
 * retry_max_ms. */
typedef struct sb_engine_options {
    int64_t dedup_ttl_ms;        /* how long inbound dedup keys live; default 7 days */
    uint64_t retry_base_ms;      /* outbox backoff base; default 1000 */
    uint64_t retry_max_ms;       /* backoff cap; default 300000 */
    uint32_t max_attempts;       /* then failed; default 20 */
    uint64_t max_text;           /* bytes of one message's text; default 64KiB */
    uint64_t send_timeout_ms;    /* an accepted send without a result by then
                                    counts as a transient failure; default 60000 */
    uint64_t offline_grace_ms;   /* an operator gone offline keeps its
                                    conversations this long; default 60000,
                                    capped at 1 day (routing.h) */
    const char *rating_text;     /* the rating request sent at a close that asks
                                    for one; default Russian text; borrowed for
                                    the engine's life */
} sb_engine_options;

/* opt may be NULL (all defaults). NULL on no memory or a NULL loop/store.
 * The store must outlive the engine. */
sb_engine *sb_engine_new(struct ev_loop *loop, sb_store *st, sb_table first_table,
                         const sb_engine_options *opt);
/* Stops timers; pending outbox entries stay stored and resume at next start.
 * Work waiting for the store's next commit is detached, not lost: inbound
 * `done` callbacks still run at that commit (or with SB_ERR_CANCELLED at
 * sb_store_close); events of that batch stay in the log but are not
 * dispatched. Not from inside an engine callback. */
void sb_engine_free(sb_engine *e);

/* ---- channels: the host's side ------------------------------------------ */
/* Hands a stored outbound message to its channel instance. Returns
 * SB_SEND_ACCEPTED (the channel will report through
 * sb_engine_send_result(op, ...)) or SB_SEND_REJECTED. `msg` is borrowed
 * for the call. When the instance is not running, return SB_SEND_REJECTED
 * with *transient = true: the outbox retries later. */
typedef sb_send_accept (*sb_channel_send_fn)(void *ud, const char *plugin,
                                             const char *instance,
                                             const sb_outbound *msg, uint64_t op,
                                             bool *transient);
void sb_engine_set_sender(sb_engine *e, sb_channel_send_fn fn, void *ud);

/* Per channel instance outbound rate limit (messages per second, 0 = none),
 * set by the host from the plugin's config (`rate_limit`). Copies names.
 * Sends are spaced evenly (no burst): a message over the rate reserves the
 * next free slot and waits for it on the timer. */
void sb_engine_set_rate(sb_engine *e, const char *plugin, const char *instance,
                        double per_second);

/* Stores one inbound message from channel (plugin, instance): dedup on
 * (plugin, instance, dedup_key); finds or creates the client by identity
 * (and by phone/e-mail when given); finds the client's open conversation or
 * opens a new one ("queued"); stores the message; emits events. done(ud,
 * status, message_id, duplicate) runs after the commit (never inside this
 * call), also for a duplicate (with the original id); message_id is ""
 * when status is not SB_OK (the batch failed: nothing was stored).
 * `msg` and the names are borrowed for the call.
 * Returns an error at once (done never runs) for invalid input:
 *   SB_ERR_INVALID  NULL/empty plugin, instance, external_id or dedup_key;
 *                   struct_size smaller than this header's; unknown kind;
 *                   text that is not UTF-8; a phone that is not 3..20
 *                   digits (with + ( ) - . and spaces allowed) or an e-mail
 *                   without one '@'; unknown attachment kind or no ref;
 *                   a message with nothing in it (MESSAGE: text, button_id
 *                   or attachments; EDIT: edit_of and text or attachments;
 *                   CONTACT: phone or email); sent_at_ms < 0;
 *   SB_ERR_TOO_BIG  plugin/instance > 64 bytes, external_id, dedup_key,
 *                   button_id, edit_of > 256, name > 1024, text > max_text,
 *                   more than 20 attachments;
 * or a storage error. SB_IN_CONTACT replaces the client's phone/e-mail
 * (other kinds only fill them in) and stores a type "event" message. */
sb_status sb_engine_inbound(sb_engine *e, const char *plugin, const char *instance,
                            const sb_inbound *msg, sb_inbound_done done, void *ud);

/* The outcome of a send the channel accepted (may be called from inside
 * the sender). remote_id and error are copied (cut to 256 / 512 bytes).
 * Unknown op, or one whose send already timed out -> SB_ERR_HANDLE; a
 * status out of range -> SB_ERR_INVALID (the op stays open).
 * Retries (SB_SEND_RETRY, a transient reject, no sender, timeout) wait
 * max(retry_after, backoff), backoff = min(retry_max, base * 2^(attempt-1))
 * +-20%; after max_attempts, or on SB_SEND_FAILED / SB_SEND_UNREACHABLE /
 * a permanent reject, the message's delivery becomes "failed" with the
 * error (UNREACHABLE also marks the identity unreachable in the client). */
sb_status sb_engine_send_result(sb_engine *e, uint64_t op, sb_send_status status,
                                const char *remote_id, uint64_t retry_after_ms,
                                const char *error);

/* Starts the outbox: loads pending entries and schedules them (each not
 * before its stored next_at; sends that were in flight go again once their
 * deadline passes), and the expiry of old dedup keys (every minute). Call once
 * the channels are started; before it, replies are stored and queued only. */
void sb_engine_start(sb_engine *e);

/* ---- operators' and bots' side ---------------------------------------- */
typedef struct sb_reply {
    const char *conversation_id;
    const char *author_kind;   /* "operator" | "bot" | "system" */
    const char *author_id;     /* may be NULL */
    const char *text;
    const sb_button *buttons;
    size_t n_buttons;
} sb_reply;

/* Stores an outbound message in the conversation and enqueues it in the
 * outbox of the conversation's channel instance (delivery "pending"; a
 * message.created event now, message.updated when delivered or failed).
 * On success writes the new message as JSON (api.md shape, malloc'ed,
 * caller frees) into *json. SB_ERR_NOT_FOUND for an unknown conversation,
 * SB_ERR_STATE for a closed one, SB_ERR_INVALID for an author_kind not in
 * the list, no text and no buttons, text not UTF-8, a button without id or
 * title; SB_ERR_TOO_BIG for text > max_text, more than 20 buttons. */
sb_status sb_engine_reply(sb_engine *e, const sb_reply *r, char **json);

/* ---- reads, for the API (JSON in api.md shapes, malloc'ed) ----------- */
/* One message / conversation / client as JSON; SB_ERR_NOT_FOUND (also for
 * an id that is not a number). */
sb_status sb_engine_message_json(sb_engine *e, const char *id, char **json);
sb_status sb_engine_conversation_json(sb_engine *e, const char *id, char **json);
sb_status sb_engine_client_json(sb_engine *e, const char *id, char **json);
/* A page of a conversation's messages, or of a client's history across
 * every channel, newest first, older than `before` (a message id, or NULL
 * or ""), at most `limit` (0 = 50, more than 500 = 500). Writes
 * {"items":[...],"next_cursor":".."|null}: next_cursor is the last item's
 * id when older messages exist, to pass as `before`. SB_ERR_NOT_FOUND for
 * an unknown conversation/client, SB_ERR_INVALID for a bad cursor. */
sb_status sb_engine_conversation_messages(sb_engine *e, const char *conv_id,
                                          const char *before, size_t limit, char **json);
sb_status sb_engine_client_messages(sb_engine *e, const char *client_id,
                                    const char *before, size_t limit, char **json);

/* ---- events --------------------------------------------------------------
 * cb runs for each committed event whose type starts with prefix (NULL or
 * "" = all), in log order; `ev` is borrowed for the call. Owner groups
 * subscriptions for removal. A subscription made from a callback sees the
 * next event on; one removed from a callback gets no further call. */
sb_status sb_engine_subscribe(sb_engine *e, const char *prefix, sb_event_cb cb,
                              void *ud, const void *owner);
void sb_engine_unsubscribe_owner(sb_engine *e, const void *owner);

/* ---- stats for /metrics ---------------------------------------------- */
typedef struct sb_outbox_stats {
    const char *plugin, *instance;
    uint64_t pending, sent, retries, failures;
} sb_outbox_stats;
/* Calls cb once per channel instance seen by the outbox (since start, or
 * with entries waiting at start). pending is stored (right across
 * restarts); sent, retries and failures count since this process began. */
void sb_engine_outbox_stats(sb_engine *e, void (*cb)(void *ud, const sb_outbox_stats *s),
                            void *ud);

#include "engine/routing.h"

#endif
