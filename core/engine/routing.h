/* Routing and the people side of the engine: operators, groups, queues,
 * strategies, timers (auto-close, reassign, offline grace), templates,
 * conversation actions (take, assign, transfer, close, tags, attributes),
 * client search, patch, merge (by hand and automatic), undo, erasure, and
 * the audit trail. The rest of the engine's contract is in engine.h; this
 * header only adds to it.
 *
 * Thread: loop thread only, like engine.h. Every function may be called
 * from an event callback of this engine.
 *
 * Ownership: every `char **out` receives a malloc'ed, NUL-terminated JSON
 * text the caller frees (NULL when nothing was written). Input JSON is
 * borrowed for the call (`json`, `len` bytes, need not be NUL-terminated).
 * `err` (may be NULL) receives a one-line message naming the field on
 * SB_ERR_INVALID ("max_conversations: must be an integer 1..1000").
 *
 * Status mapping for the API: SB_ERR_NOT_FOUND 404, SB_ERR_INVALID 400,
 * SB_ERR_TOO_BIG 400/413, SB_ERR_EXISTS 409 (a taken login or id),
 * SB_ERR_STATE 409 -- then *out holds the current object (the conversation,
 * the audit record) so the client sees why. Anything else is 500.
 *
 * Ids: operators, conversations, clients, templates and audit records have
 * 64-bit ids rendered as decimal strings. Group ids are strings
 * [A-Za-z0-9_-]{1,64}: the config's (`support`) or one given at create, or
 * a generated decimal one.
 *
 * Durability: as engine.h. Every change is written in the current batch
 * together with its events; events are dispatched after the commit.
 * Queues, operator loads and timers are rebuilt from the store at
 * sb_engine_new, so a restart (kill -9 included) keeps them.
 *
 * Events added here (sb_event.json is the whole object):
 *   operator.created|updated|deleted  {"operator":{operator}}
 *   operator.status                   {"operator":{operator}, "previous": "online"|...}
 *   group.created|updated|deleted     {"group":{group}}
 *   template.created|updated|deleted  {"template":{template}}
 *   conversation.queued               {"conversation":{..}, "target_operator_id": id|null}
 *   conversation.assigned             {"conversation":{..}, "previous_operator_id": id|null,
 *                                      "by": id|null, "reason": "route"|"take"|"assign"
 *                                      |"transfer"|"reassign"|"sticky"}
 *   conversation.transferred          {"conversation":{..}, "from_operator_id", "from_group_id",
 *                                      "to_operator_id", "to_group_id", "by", "queued": bool}
 *   conversation.closed               {"conversation":{..}, "by": id|null, "reason":
 *                                      "operator" (by given) | "api" (no by) | "idle"
 *                                      | "erased"}
 *   conversation.updated              tags, attributes, priority (engine.h's event)
 *   client.merged                     {"client":{target}, "source_id", "audit_id", "by"}
 *   client.unmerged                   {"client":{target}, "restored":{source}, "audit_id"}
 *   client.erased                     {"client_id", "audit_id"}
 *   client.forget                     {"client_id", "identities": [{channel, instance,
 *                                      external_id}]}: with an erasure, never in the
 *                                      durable log (seq 0); plugins drop what they keep
 *                                      of these accounts
 *   queue.stats                       {"group_id", "waiting", "longest_wait_s",
 *                                      "online_operators"}  (when a figure changes;
 *                                      coalesced: at most one per group per call)
 * The WebSocket layer filters with sb_engine_operator_sees(): a conversation
 * event names group_id and operator_id; transferred also names both
 * operators so that each of them is told.
 *
 * Shapes (api.md plus):
 *   operator  {id, login, name, role, groups:[group ids], max_conversations,
 *              skills:{name: level 0..10}, status: "online"|"away"|"offline",
 *              load, status_since, last_assigned_at, created_at}
 *              (the password hash is never rendered)
 *   group     {id, name, strategy, max_per_operator, reassign_after, close_after,
 *              close_message, queue_message, offline_message, bot,
 *              business_hours: null | {"utc_offset": "+03:00",
 *                  "mon": "09:00-18:00", ..., "sun": null},
 *              required_skill: null | {"name": "english", "level": 3},
 *              waiting, longest_wait_s, online_operators}
 *              durations in ms, 0 = off. queue_message may use {position}
 *              and {wait} (minutes); defaults are built in.
 *   template  {id, title, text, hotkey, created_at}
 *   conversation as api.md, with group_id a group id string, queue_position
 *              (1-based, null when not queued), priority, queued_for_operator_id.
 *   audit     {id, kind: "merge"|"erase"|"undo", at, by, target_id, source_id,
 *              undone_at, ...} never holding personal data of an erased client.
 */
#ifndef SB_ENGINE_ROUTING_H
#define SB_ENGINE_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/engine.h"

struct sb_config;

/* ---- wiring: main and the host ------------------------------------------ */
/* Takes routing.default_group and creates each routing.groups[] entry that
 * is not stored yet (a stored group keeps what admins changed through the
 * API). Call after sb_engine_new, before sb_engine_start; again at SIGHUP
 * (new groups are created, the default group follows the file). cfg is
 * borrowed. A default_group that names no group yet is kept (the API may
 * create it) and logged; until it exists new conversations wait unrouted
 * (status queued, group_id null) for a take or an assign. */
sb_status sb_engine_configure_routing(sb_engine *e, const struct sb_config *cfg,
                                      char *err, size_t errlen);
/* New conversations of this channel instance go to group_id (copied; NULL
 * or "" = routing.default_group). The group need not exist yet: an unknown
 * group at routing time falls back to the default group. */
sb_status sb_engine_set_instance_group(sb_engine *e, const char *plugin,
                                       const char *instance, const char *group_id);

/* ---- bots ----------------------------------------------------------------
 * A channel instance may name a bot ("plugin/instance", from `bot:` in its
 * config section) that meets its new conversations, else the group they go
 * to may (group "bot", API or config): they start with status
 * "bot" and conversation.bot set, sit in no queue, and each client message
 * in them is emitted after the commit, but not into the durable log (seq 0:
 * the message is there already, as message.created), as
 *   bot.input {"bot", "kind": "start"|"message", "conversation_id",
 *              "client_id", "channel", "instance", "message": {..}}
 * which the host hands to that bot plugin. The bot leaves by a hand-off
 * (routed like a new conversation, with a history note naming the reason)
 * or a close. Operators may still transfer or close such a conversation. */
sb_status sb_engine_set_instance_bot(sb_engine *e, const char *plugin, const char *instance,
                                     const char *bot);
/* SB_OK when `bot` (NULL = any bot) holds the open conversation;
 * SB_ERR_STATE when not (handed off, closed, another bot); SB_ERR_NOT_FOUND. */
sb_status sb_engine_bot_holds(sb_engine *e, const char *conv_id, const char *bot);

typedef struct sb_handoff {
    const char *bot;        /* the bot that must hold it; NULL = any (the core) */
    const char *group_id;   /* NULL/"" = the group it was created in */
    const char *skill;      /* NULL = none; else the skill and level required */
    int skill_level;        /* 0..10 */
    const char *reason;     /* <= 512 bytes, in the history note; may be NULL */
} sb_handoff;
/* Hands a bot's conversation to operators. *out: the conversation.
 * SB_ERR_NOT_FOUND unknown conversation or group; SB_ERR_STATE not held;
 * SB_ERR_TOO_BIG a long reason or skill. */
sb_status sb_engine_bot_handoff(sb_engine *e, const char *conv_id, const sb_handoff *h,
                                char **out);
/* sb_engine_conversation_close, and with ask_rating the client first gets
 * the rating request (options.rating_text, buttons "sb:rate:1".."5"). A
 * press of one of them within a day of the close sets the closed
 * conversation's rating (once) instead of opening a new conversation. */
sb_status sb_engine_conversation_close_ex(sb_engine *e, const char *conv_id, const char *by,
                                          bool ask_rating, char **out);
/* What the client of channel account (plugin, instance, external_id) is
 * typing: a `typing` event {conversation_id, group_id, operator_id, text}
 * delivered to subscribers at once and never stored (seq 0). Text cut at
 * 1024 bytes. SB_ERR_NOT_FOUND without an open conversation. */
sb_status sb_engine_typing(sb_engine *e, const char *plugin, const char *instance,
                           const char *external_id, const char *text);

/* ---- operators (admin) ---------------------------------------------------
 * Body {login, name, role, groups, max_conversations, skills}: login
 * [A-Za-z0-9._@-]{1,64}, unique (SB_ERR_EXISTS); role admin|supervisor|
 * operator (default operator); groups: ids of existing groups; max 1..1000
 * (default 5); skills {name: 0..10}. "password" is ignored here: the API
 * hashes it and passes password_hash (an opaque string <= 512 bytes,
 * stored, never rendered; NULL on update = keep). Unknown members ->
 * SB_ERR_INVALID naming them. Update is a PATCH: absent members keep their
 * value. *out: the operator. New operators are offline. */
sb_status sb_engine_operator_create(sb_engine *e, const char *json, size_t len,
                                    const char *password_hash, char **out,
                                    char *err, size_t errlen);
sb_status sb_engine_operator_update(sb_engine *e, const char *id, const char *json,
                                    size_t len, const char *password_hash, char **out,
                                    char *err, size_t errlen);
/* Its open conversations go back to their queues at once. */
sb_status sb_engine_operator_delete(sb_engine *e, const char *id);
sb_status sb_engine_operator_json(sb_engine *e, const char *id, char **out);
/* {"items":[operator...],"next_cursor"}, by id; cursor = last id seen. */
sb_status sb_engine_operators_list(sb_engine *e, const char *cursor, size_t limit,
                                   char **out);

typedef struct sb_operator_auth {
    char id[24];
    char role[16];
    char *hash;   /* malloc'ed; caller frees; "" when none was ever set */
} sb_operator_auth;
/* For login: SB_ERR_NOT_FOUND when no operator has the login. */
sb_status sb_engine_operator_by_login(sb_engine *e, const char *login,
                                      sb_operator_auth *out);
/* "online" | "away" (keeps its conversations, takes no new ones) |
 * "offline" (its conversations go back to the queue after the grace
 * period, sb_engine_options.offline_grace_ms, unless it comes back).
 * Emits operator.status when it changes; online drains the queues of its
 * groups up to its limit. *out (may be NULL): the operator. */
sb_status sb_engine_operator_set_status(sb_engine *e, const char *id, const char *status,
                                        char **out);
/* In-memory, O(groups of the operator): may operator_id see a
 * conversation of group_id assigned to conv_operator_id (either may be NULL
 * or "")? True when it is assigned to it, queued for it, or the group is
 * one of its groups. Roles are the API's business (supervisors see all). */
bool sb_engine_operator_sees(sb_engine *e, const char *operator_id, const char *group_id,
                             const char *conv_operator_id);
/* The same for a stored conversation: SB_ERR_NOT_FOUND, else SB_OK with
 * *visible set. */
sb_status sb_engine_conversation_visible(sb_engine *e, const char *conv_id,
                                         const char *operator_id, bool *visible);

/* ---- groups (admin) --------------------------------------------------------
 * Body: the group shape without the computed members; "id" only at create.
 * strategy least_busy|round_robin|longest_idle|skills|manual; max_per_operator
 * 1..1000; durations 0..30 days in ms; messages <= 4096 bytes. Delete:
 * SB_ERR_STATE while it is the default group or open conversations are in
 * it; operators lose it from their groups. */
sb_status sb_engine_group_create(sb_engine *e, const char *json, size_t len, char **out,
                                 char *err, size_t errlen);
sb_status sb_engine_group_update(sb_engine *e, const char *id, const char *json, size_t len,
                                 char **out, char *err, size_t errlen);
sb_status sb_engine_group_delete(sb_engine *e, const char *id);
sb_status sb_engine_group_json(sb_engine *e, const char *id, char **out);
sb_status sb_engine_groups_list(sb_engine *e, char **out); /* every group, by id */
/* {"items":[{group_id, waiting, longest_wait_s, online_operators}]}, one
 * group or all (group_id NULL). */
sb_status sb_engine_queue_stats(sb_engine *e, const char *group_id, char **out);

/* ---- templates (quick replies) ------------------------------------------
 * {title (1..256), text (1..4096), hotkey (optional, <= 32)}; update
 * replaces (PUT). */
sb_status sb_engine_template_create(sb_engine *e, const char *json, size_t len, char **out,
                                    char *err, size_t errlen);
sb_status sb_engine_template_update(sb_engine *e, const char *id, const char *json,
                                    size_t len, char **out, char *err, size_t errlen);
sb_status sb_engine_template_delete(sb_engine *e, const char *id);
sb_status sb_engine_template_json(sb_engine *e, const char *id, char **out);
sb_status sb_engine_templates_list(sb_engine *e, const char *cursor, size_t limit,
                                   char **out);

/* ---- conversations ---------------------------------------------------- */
typedef struct sb_conv_filter {
    const char *status;      /* bot|queued|assigned|closed, NULL/"" = any */
    const char *group_id;    /* NULL/"" = any */
    const char *operator_id;
    const char *client_id;   /* includes conversations merged into it */
    const char *cursor;      /* next_cursor of the previous page */
    size_t limit;            /* 0 = 50, > 500 = 500 */
} sb_conv_filter;
/* Newest first. Bounded work per call: a page may hold fewer than `limit`
 * items while next_cursor is not null (keep paging). SB_ERR_INVALID for a
 * bad status or cursor (err names it). */
sb_status sb_engine_conversations_list(sb_engine *e, const sb_conv_filter *f, char **out,
                                       char *err, size_t errlen);

/* The acting operator/user id `by` may be NULL (an API token). Every action
 * below writes *out = the conversation on SB_OK, and on SB_ERR_STATE the
 * current conversation (why it failed: closed, already taken...). */

/* An operator takes a queued conversation (also one queued for another
 * operator), or one a bot holds (the bot lets go; a history note says so). Exactly one of two takes wins; the other gets SB_ERR_STATE.
 * Limits do not apply to an explicit take. SB_ERR_NOT_FOUND for an unknown
 * conversation or operator. */
sb_status sb_engine_conversation_take(sb_engine *e, const char *conv_id,
                                      const char *operator_id, char **out);
/* A supervisor assigns a queued or assigned conversation to an operator
 * (limits do not apply; the operator need not be online). */
sb_status sb_engine_conversation_assign(sb_engine *e, const char *conv_id,
                                        const char *operator_id, const char *by, char **out);

typedef struct sb_transfer {
    const char *operator_id; /* exactly one of the two */
    const char *group_id;
    const char *by;          /* who transfers, may be NULL */
    const char *note;        /* optional, kept in the history (<= 1024 bytes) */
} sb_transfer;
/* Moves an open conversation to an operator (assigned when it is online
 * and below its limit, else queued for that operator, first in line when it
 * frees up) or to a group (routed there by its strategy, else queued with
 * transfer priority). A system event message records it in the history.
 * *out: {"conversation":{..}, "result":"assigned"|"queued",
 * "reason": null|"offline"|"away"|"full"|"nobody_online"|"manual"}.
 * SB_ERR_INVALID both/neither target; SB_ERR_NOT_FOUND unknown target. */
sb_status sb_engine_conversation_transfer(sb_engine *e, const char *conv_id,
                                          const sb_transfer *t, char **out,
                                          char *err, size_t errlen);
/* Closes an open conversation (SB_ERR_STATE when already closed). */
sb_status sb_engine_conversation_close(sb_engine *e, const char *conv_id, const char *by,
                                       char **out);
/* Replaces the tags: a JSON array of 0..64 strings of 1..64 bytes. */
sb_status sb_engine_conversation_set_tags(sb_engine *e, const char *conv_id, const char *json,
                                          size_t len, char **out, char *err, size_t errlen);
/* Merges {k: "v" | number | bool | null}: null removes k; numbers and
 * booleans keep their JSON type. <= 64 keys, key <= 64 bytes, value <=
 * 1024 bytes (a string may not start with the byte 0x01). Client
 * attributes (sb_engine_client_patch) follow the same rules. */
sb_status sb_engine_conversation_patch_attributes(sb_engine *e, const char *conv_id,
                                                  const char *json, size_t len, char **out,
                                                  char *err, size_t errlen);
/* 0 (default) .. 9: higher is served first within its group queue. */
sb_status sb_engine_conversation_set_priority(sb_engine *e, const char *conv_id,
                                              int priority, char **out);

/* ---- clients ------------------------------------------------------------ */
/* By name (word prefix, case-insensitive incl. Cyrillic), phone (digits
 * prefix), e-mail (prefix) and external id (exact). At most `limit`
 * clients (0 = 20, max 100): {"items":[client...],"next_cursor":null}.
 * SB_ERR_INVALID for an empty query or one over 256 bytes. */
sb_status sb_engine_clients_search(sb_engine *e, const char *query, size_t limit,
                                   char **out);
/* {name, phone, email, attributes:{k: v|null}, tags:[...]}: name/phone/
 * email null clears them; attributes merge; tags replace. A phone or
 * e-mail another client owns -> SB_ERR_EXISTS (merge them instead). */
sb_status sb_engine_client_patch(sb_engine *e, const char *id, const char *json, size_t len,
                                 char **out, char *err, size_t errlen);
/* source_id's profile joins target_id's: identities, phone/e-mail, history
 * (client_msgs), conversations, attributes and tags the target lacks. The
 * source profile goes; an audit record keeps what undo needs. *out:
 * {"client":{target}, "audit_id"}. SB_ERR_INVALID same client or too many
 * identities (64), SB_ERR_NOT_FOUND either unknown. Automatic merges (an
 * inbound phone/e-mail naming another client) do the same with by "auto". */
sb_status sb_engine_client_merge(sb_engine *e, const char *target_id, const char *source_id,
                                 const char *by, char **out, char *err, size_t errlen);
/* Undoes a merge by its audit id: the source profile comes back with its
 * identities, contacts, conversations (with their messages) and the
 * attributes/tags it brought; the two are not merged automatically again
 * (a merge by hand still can). SB_ERR_STATE (with *out the audit record)
 * when already undone, not a merge, or the target is gone. *out: the audit
 * record. */
sb_status sb_engine_audit_undo(sb_engine *e, const char *audit_id, const char *by,
                               char **out);
sb_status sb_engine_audit_json(sb_engine *e, const char *audit_id, char **out);
/* Newest first: {"items":[audit...],"next_cursor"}. */
sb_status sb_engine_audit_list(sb_engine *e, const char *cursor, size_t limit, char **out);
/* Erasure: the profile, identities and contact keys, search keys, every
 * conversation of the client (closed first if open) with its messages,
 * history keys and pending outbox entries; merge audit records naming it
 * lose their snapshots (they can no longer be undone). Leaves an audit
 * record {kind:"erase", client_id, counts} without personal data. *out:
 * that record. Note: the durable event log keeps what was emitted before. */
sb_status sb_engine_client_erase(sb_engine *e, const char *id, const char *by, char **out);

#endif
