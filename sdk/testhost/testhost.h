/*
 * Switchboard SDK test host: the whole sb_host table in memory, so that a
 * plugin is unit-tested without the core (no loop, no sockets, no LMDB).
 *
 * ---------------------------------------------------------------------------
 * GUIDE
 * ---------------------------------------------------------------------------
 * One sb_th is one plugin instance. A test sets config, starts the plugin,
 * drives it like the core would and asserts on what it captured:
 *
 *     sb_th *th = sb_th_new("echo", "main");
 *     sb_th_config_set(th, "prefix", ">> ");
 *     assert_int_equal(sb_th_start(th, sb_plugin_entry(SB_ABI_MAJOR,
 *                                                      SB_ABI_MINOR)), SB_OK);
 *     const sb_th_reply *r = sb_th_http_request(th, "POST",
 *         "/hooks/echo/main?from=alice&id=1", NULL, 0, "hi", 2);
 *     sb_th_inbound_complete(th, 0, SB_OK);   // the core stored it
 *     assert_int_equal(r->status, 200);
 *     sb_th_free(th);                         // stops the plugin if needed
 *
 * Time does not pass by itself: sb_th_advance() moves the fake clock and
 * fires due timers. Deferred work (post() callbacks, kv and http_call
 * completions, automatic inbound completions) waits in one FIFO queue until
 * the test calls sb_th_run_pending(). Nothing the plugin triggers ever calls
 * back into it from inside the host function it called, as in the core.
 *
 * Threads: the thread that called sb_th_new() is "the loop". Every sb_th_*
 * function and every host function except post() must be called from it; a
 * plugin calling a host function from another thread aborts the test with
 * a message. post() may be called from any thread.
 *
 * Ownership: everything captured (log lines, inbound messages, replies,
 * calls, send results) is a deep copy owned by the test host and valid
 * until sb_th_free(), unless said otherwise. Buffers the host hands to the
 * plugin are freed right after the callback, so a plugin keeping a borrowed
 * pointer is caught by AddressSanitizer.
 *
 * Allocation failure inside the test host aborts (it is a test tool). To
 * test a plugin's error paths, inject failures with sb_th_fail_next().
 *
 * Build: link the plugin's sources, every .c file of sdk/testhost and the
 * test (in tree, sb_add_plugin does it; see sdk/README.md).
 */
#ifndef SWITCHBOARD_TESTHOST_H
#define SWITCHBOARD_TESTHOST_H

#include <stddef.h>
#include <stdint.h>
#include <switchboard/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_th sb_th;

/* ------------------------------------------------------------------------ */
/* Life of the test host and of the plugin instance.                        */
/* ------------------------------------------------------------------------ */

/* A host for one instance `instance` of plugin `plugin_name` (both copied).
 * The calling thread becomes the loop thread. Never NULL. */
sb_th *sb_th_new(const char *plugin_name, const char *instance);
/* Stops the instance when running (sb_th_stop), then frees everything. */
void sb_th_free(sb_th *th);

/* The host table given to init() (for calling host functions directly from
 * a test, e.g. kv_get), and the instance handle. Valid until sb_th_free. */
const sb_host *sb_th_host(sb_th *th);
sb_ctx *sb_th_ctx(sb_th *th);
/* The state init() stored; NULL when not running. */
void *sb_th_state(sb_th *th);

/* Checks the descriptor like the core and runs init then start:
 *   SB_ERR_UNSUPPORTED  p NULL or abi_major != SB_ABI_MAJOR
 *   SB_ERR_INVALID      struct_size not covering init, name not equal to
 *                       plugin_name, kind unknown, init NULL, a channel
 *                       without send, a bot without bot_event (callbacks
 *                       past struct_size count as absent); or init returned SB_OK but recorded a
 *                       config error or left a config key unread (recorded
 *                       as "<key>: unknown key")
 *   SB_ERR_STATE        already running
 *   anything init or start returned.
 * Every refusal is also a captured log line at SB_LOG_ERROR. On any error
 * the instance is torn down like sb_th_stop, but without calling stop (as
 * the core does): destroy runs only when *state was set. Config read-marks
 * and errors are reset first, so the checks cover this init only. kv
 * contents, the clock and everything captured survive, so stop + start is
 * a restart. */
sb_status sb_th_start(sb_th *th, const sb_plugin *p);
/* Calls reload, then applies the same config-error and unknown-key checks
 * as start (read-marks reset first: reload must re-read every key).
 * SB_ERR_STATE when not running, SB_ERR_UNSUPPORTED when reload is NULL. */
sb_status sb_th_reload(sb_th *th);
/* Stops a running instance, in the core's order:
 *   1. post() starts refusing with SB_ERR_STATE; every socket still open
 *      or closing gets on_close(1001);
 *   2. stop(state);
 *   3. post() callbacks accepted but not run yet are dropped: they never
 *      run (as in the core), so whatever their ud owns must be reachable
 *      from the state for destroy to free;
 *   4. every other pending completion runs with SB_ERR_CANCELLED: kv
 *      dones, http_call dones, inbound dones (including messages the test
 *      never completed; their message_id is NULL);
 *   5. timers, routes and subscriptions are removed;
 *   6. destroy(state) when state is not NULL; the ctx turns stale (host
 *      calls get SB_ERR_HANDLE).
 * No-op when not running. */
void sb_th_stop(sb_th *th);

/* ------------------------------------------------------------------------ */
/* Configuration: the instance's `config:` section as path = text pairs.    */
/* ------------------------------------------------------------------------ */

/* Sets one scalar, e.g. ("token", "abc"), ("limits.max", "10"),
 * ("items[0].id", "a"). Paths: keys [A-Za-z0-9_-]+ joined by '.', list
 * items as [n], set in order ([n] only once [n-1] exists). The text is what
 * the YAML scalar would hold; the typed getters parse it:
 *   config_string  any scalar
 *   config_int     [+-]digits, int64 range
 *   config_bool    true/false, yes/no, on/off (any case)
 *   config_size    digits with B, KB/MB/GB/TB (powers of 1000) or
 *                  KiB/MiB/GiB/TiB (powers of 1024), bare digits = bytes
 *   config_duration digits with ms, s, m, h or d (a unit is required,
 *                  except for 0)
 * config_count counts the items of a list or the keys of a map that the
 * paths imply. A getter on a map or list, or a text that does not parse,
 * returns SB_ERR_INVALID and records "<path>: expected <type>, got ..." as
 * a config error. value NULL removes the key. Returns SB_ERR_INVALID for a
 * bad path or one that contradicts an existing key ("a" scalar vs "a.b").
 * Setting an existing path replaces its text; strings handed out before
 * stay valid until sb_th_free (so a reload test is safe). */
sb_status sb_th_config_set(sb_th *th, const char *path, const char *value);
/* The first key (in the order set) no getter has read since the last
 * start, or NULL. */
const char *sb_th_unused_config(const sb_th *th);
/* Config errors recorded since the last start: by config_error() as
 * "<path>: <message>" (just "<message>" for a NULL path), by a failed
 * typed getter, and by the unknown-key check. */
size_t sb_th_config_error_count(const sb_th *th);
const char *sb_th_config_error(const sb_th *th, size_t i); /* NULL past end */

/* ------------------------------------------------------------------------ */
/* Deferred work and failures.                                               */
/* ------------------------------------------------------------------------ */

/* Runs queued work in FIFO order until the queue is empty, including work
 * queued by what runs; returns how many callbacks ran. Stops (with a log
 * line) after 1000000, to end a plugin that re-posts itself forever. */
size_t sb_th_run_pending(sb_th *th);
/* Queued callbacks not yet run. Any thread. */
size_t sb_th_pending(sb_th *th);

/* The next call of host function `host_fn` fails with `status`: one of
 * "post", "kv_put", "kv_del", "kv_get", "http_route", "http_reply",
 * "http_error", "inbound", "send_result", "subscribe", "metric_add",
 * "ws_send", "ws_close", "bot_reply", "bot_set_attributes", "bot_add_tag",
 * "bot_handoff", "bot_close", "conversation_get", "client_typing" (they
 * return `status`, and nothing happens), "http_call", "timer_start",
 * "ws_accept" (they return 0; the request stays open). One exception, as in
 * the core: ws_send failing with SB_ERR_FULL (a slow peer) also closes the
 * socket with 1008. The fault is consumed only by a call that passed the
 * argument checks. Several may be queued. SB_ERR_INVALID for another name
 * or status SB_OK. */
sb_status sb_th_fail_next(sb_th *th, const char *host_fn, sb_status status);

/* ------------------------------------------------------------------------ */
/* Clock and timers.                                                         */
/* ------------------------------------------------------------------------ */

/* now_ms(); starts at 1767225600000 (2026-01-01T00:00:00Z). */
int64_t sb_th_now(const sb_th *th);
/* Sets the clock without firing anything (may go backwards: wall time). */
void sb_th_set_now(sb_th *th, int64_t ms);
/* Moves the clock forward by ms, firing every timer that falls due, in
 * order of due time (then of creation); during a callback now_ms() is the
 * timer's due time. Repeating timers fire as often as they fall due. Timers
 * started by a callback fire in the same advance when due by then
 * (advance(th, 0) fires those due now). Returns the number fired. Does not
 * run pending work. */
size_t sb_th_advance(sb_th *th, uint64_t ms);
/* Timers started and not stopped (one-shots leave once fired). */
size_t sb_th_timer_count(sb_th *th);

/* ------------------------------------------------------------------------ */
/* Log.                                                                      */
/* ------------------------------------------------------------------------ */

/* Lines the plugin logged (and the host's own "testhost: ..." remarks),
 * formatted, without plugin name or time. Also printed to stderr when the
 * environment variable SB_TH_LOG is set. */
size_t sb_th_log_count(const sb_th *th);
/* NULL past the end; *level set when level is not NULL. */
const char *sb_th_log_line(const sb_th *th, size_t i, sb_log_level *level);
/* Index of the first line containing `needle`, or -1. */
long sb_th_log_find(const sb_th *th, const char *needle);

/* ------------------------------------------------------------------------ */
/* Key-value storage. Survives stop/start (it is the instance's database).  */
/* kv_put/kv_del change it at once; their done runs at sb_th_run_pending(). */
/* ------------------------------------------------------------------------ */

/* Seeds a value under a text key, as if stored by an earlier run. */
void sb_th_kv_set(sb_th *th, const char *key, const void *val, size_t len);
/* The value under a text key (NUL-terminated for convenience, *len its
 * length when len is not NULL), or NULL. Valid until the key changes. */
const char *sb_th_kv_peek(const sb_th *th, const char *key, size_t *len);

/* ------------------------------------------------------------------------ */
/* Channels: inbound.                                                        */
/* ------------------------------------------------------------------------ */

/* One message the plugin handed to inbound(). Duplicates (a dedup_key seen
 * before) are not captured again: their done answers duplicate=1 with the
 * original message_id once the original is completed with SB_OK (at once,
 * i.e. at the next sb_th_run_pending, when it already was); when the
 * original fails they get its status. A failed message's key is free
 * again, so a redelivery is a new message. */
typedef struct sb_th_inbound {
    sb_inbound msg;          /* deep copy; attachments too */
    const char *message_id;  /* "msg-1", "msg-2", ... */
    int completed;           /* done has run */
    sb_status status;        /* given to done, once completed */
    size_t duplicates;       /* redeliveries answered as duplicates */
} sb_th_inbound;

size_t sb_th_inbound_count(const sb_th *th);
const sb_th_inbound *sb_th_inbound_get(const sb_th *th, size_t i);
/* Plays the core's commit for message i: runs its done at once with
 * `status` (message_id NULL unless SB_OK, duplicate 0), then the done of
 * the duplicates waiting on it. SB_ERR_NOT_FOUND for a bad index,
 * SB_ERR_STATE when already completed. */
sb_status sb_th_inbound_complete(sb_th *th, size_t i, sb_status status);
/* on: every new message is completed with SB_OK at the next
 * sb_th_run_pending (off by default). */
void sb_th_inbound_autocomplete(sb_th *th, int on);

/* ------------------------------------------------------------------------ */
/* Channels: outbound.                                                       */
/* ------------------------------------------------------------------------ */

/* Calls the plugin's send() with a copy of *msg (struct_size set, attempt 1
 * when 0) and a fresh op id, stored into *op when op is not NULL. The op is
 * open for exactly one send_result() once send() returned ACCEPTED; a
 * send_result() for it from inside send() gets SB_ERR_STATE (the contract
 * is "return, then report"). Returns what send() returned; REJECTED with a
 * log line when the instance is not running or has no send(). */
sb_send_accept sb_th_send(sb_th *th, const sb_outbound *msg, uint64_t *op);

typedef struct sb_th_send_result {
    uint64_t op;
    sb_send_status status;
    const char *remote_id;   /* copy, may be NULL */
    uint64_t retry_after_ms;
    const char *error;       /* copy, may be NULL */
} sb_th_send_result;

/* Accepted send_result() calls, in order. Refused ones (unknown or closed
 * op: SB_ERR_HANDLE; bad status: SB_ERR_INVALID) are not captured but
 * logged. */
size_t sb_th_send_result_count(const sb_th *th);
const sb_th_send_result *sb_th_send_result_get(const sb_th *th, size_t i);

/* ------------------------------------------------------------------------ */
/* HTTP server side: the plugin's routes.                                    */
/* ------------------------------------------------------------------------ */

typedef struct sb_th_reply {
    int replied;              /* 0 until http_reply/http_error */
    int status;               /* HTTP status */
    const char *content_type; /* copy, may be NULL */
    const sb_header *headers; /* copies */
    size_t n_headers;
    const char *body;         /* copy, NUL-terminated, "" when none */
    size_t body_len;
} sb_th_reply;

/* Sends a request to the plugin's routes as the core would. `target` is the
 * full path with an optional query: "/hooks/<plugin>/<instance>/x?a=1",
 * "/<plugin>/asset.js", "/api/v1/kb/articles" (SB_ROUTE_API). The handler
 * of the best match runs at once (exact beats prefix, longer beats shorter)
 * with an sb_http_request borrowed for the call (peer "127.0.0.1:40000").
 * No route: replied 404; a route for the path but not the method: replied
 * 405 (both with the API's JSON error). On an SB_ROUTE_API route the
 * caller is the one set by sb_th_http_auth (auth_role/auth_user, NULL on
 * other routes) and the AUTH flags are enforced before the handler, with
 * the core's answers: no caller -> 401 "unauthorized"; an operator on an
 * SB_ROUTE_AUTH_SUPERVISOR route, or anyone but an admin on an
 * SB_ROUTE_AUTH_ADMIN route -> 403 "forbidden" (the handler does not run).
 * http_route refuses SB_ROUTE_API with SB_ROUTE_PAGE (SB_ERR_INVALID) and
 * the core's own API paths "" and "/ws" (SB_ERR_EXISTS).
 * headers/body are the test's, borrowed for the call (body may be NULL).
 * The returned reply fills in when the plugin answers, now or later (e.g.
 * after sb_th_inbound_complete or sb_th_run_pending). Never NULL. */
const sb_th_reply *sb_th_http_request(sb_th *th, const char *method,
                                      const char *target,
                                      const sb_header *headers,
                                      size_t n_headers, const void *body,
                                      size_t body_len);
/* The client went away: a later reply to r gets SB_ERR_HANDLE. */
void sb_th_http_abandon(sb_th *th, const sb_th_reply *r);
/* The caller of the following requests to SB_ROUTE_API routes, as the
 * core reads it from a valid bearer token: role "admin", "supervisor" or
 * "operator" and user (the operator's id or the API token's name), both
 * copied. role NULL: no valid token (user ignored); this is the start.
 * SB_ERR_INVALID for another role, or a role without a user. */
sb_status sb_th_http_auth(sb_th *th, const char *role, const char *user);

/* ------------------------------------------------------------------------ */
/* WebSockets (1.1). The test plays the peer.                               */
/* ------------------------------------------------------------------------ */

/* sb_th_http_request(th, "GET", target, ...) with the upgrade headers
 * (Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Key,
 * Sec-WebSocket-Version: 13). ws_accept() accepts only such a request
 * (GET, "Upgrade: websocket", a Sec-WebSocket-Key); any other request it
 * answers 400 and returns 0, as the core. Never NULL. */
const sb_th_reply *sb_th_ws_connect(sb_th *th, const char *target);

typedef struct sb_th_ws_msg {
    const char *text;  /* copy, NUL-terminated */
    size_t len;
} sb_th_ws_msg;

/* One socket the plugin accepted. The request's reply says 101. */
typedef struct sb_th_ws {
    uint64_t id;                /* what ws_accept returned */
    const sb_th_reply *request; /* the upgraded request */
    int open;                   /* 1 until on_close has run */
    int close_code;             /* what on_close got, once closed */
    int plugin_closed;          /* the plugin called ws_close */
    int plugin_code;            /* its code and reason (copy, may be NULL) */
    const char *plugin_reason;
    const sb_th_ws_msg *sent;   /* ws_send() messages, in order; the array
                                   moves when the plugin sends again: read
                                   it through this struct */
    size_t n_sent;
} sb_th_ws;

/* Accepted sockets in order; the structs stay valid until sb_th_free. */
size_t sb_th_ws_count(const sb_th *th);
const sb_th_ws *sb_th_ws_get(const sb_th *th, size_t i); /* NULL past end */
/* The socket request r was upgraded to, or NULL. */
const sb_th_ws *sb_th_ws_for(const sb_th *th, const sb_th_reply *r);
/* The peer sends one message: on_message runs at once with a copy (freed
 * after the call). SB_ERR_HANDLE when the socket is unknown or closed. */
sb_status sb_th_ws_peer_send(sb_th *th, uint64_t ws_id, int binary,
                             const char *data, size_t len);
/* The peer closes with `code` (0: sent none, on_close gets 1005):
 * on_close runs at once. SB_ERR_HANDLE when unknown or closed.
 *
 * The plugin's side: ws_send on a closed or unknown id gets SB_ERR_HANDLE,
 * once the plugin called ws_close SB_ERR_STATE. ws_close (code 0 = 1000;
 * 1000..1003, 1007..1011, 3000..4999, reason <= 123 bytes, else
 * SB_ERR_INVALID; SB_OK
 * again while closing) is recorded, and the peer completes the handshake
 * at the next sb_th_run_pending: on_close runs then with the plugin's code
 * (stop runs it as well). Sockets still open when the instance stops get
 * on_close(1001) just before stop(), as in the core. */
sb_status sb_th_ws_peer_close(sb_th *th, uint64_t ws_id, int code);

/* ------------------------------------------------------------------------ */
/* Bots (1.1).                                                              */
/* ------------------------------------------------------------------------ */

/* Calls the plugin's bot_event() with a copy of *ev (struct_size set;
 * strings copied and freed after the call) and returns what it returned.
 * When it returns an error, the core hands the conversation to operators:
 * the test host then no longer holds it (and logs so). SB_ERR_STATE when
 * the instance is not running or the conversation is no longer held;
 * SB_ERR_UNSUPPORTED for a plugin that is no bot or has no bot_event;
 * SB_ERR_INVALID without a conversation_id. */
sb_status sb_th_bot_event(sb_th *th, const sb_bot_event *ev);

typedef enum sb_th_bot_kind {
    SB_TH_BOT_REPLY = 0,      /* bot_reply: text, buttons */
    SB_TH_BOT_ATTRIBUTES = 1, /* bot_set_attributes: scope, json */
    SB_TH_BOT_TAG = 2,        /* bot_add_tag: scope, tag */
    SB_TH_BOT_HANDOFF = 3,    /* bot_handoff: group_id, skill, skill_level,
                                 reason */
    SB_TH_BOT_CLOSE = 4       /* bot_close: ask_rating */
} sb_th_bot_kind;

/* One accepted bot_* call (copies; fields of other kinds NULL/0). */
typedef struct sb_th_bot_action {
    sb_th_bot_kind kind;
    const char *conversation_id;
    const char *text;          /* REPLY, may be NULL */
    const sb_button *buttons;  /* REPLY */
    size_t n_buttons;
    sb_scope scope;            /* ATTRIBUTES, TAG */
    const char *json;          /* ATTRIBUTES */
    const char *tag;           /* TAG */
    const char *group_id;      /* HANDOFF, may be NULL */
    const char *skill;         /* HANDOFF, may be NULL */
    int skill_level;           /* HANDOFF */
    const char *reason;        /* HANDOFF, may be NULL */
    int ask_rating;            /* CLOSE */
} sb_th_bot_action;

/* The bot_* calls that were accepted, in order. Refused ones are not
 * captured: an instance that is no bot, or a conversation no longer held,
 * gets SB_ERR_STATE (logged); bad arguments SB_ERR_INVALID: a missing
 * conversation id; a reply with neither text nor buttons, more than 20
 * buttons, a button without title or with an id empty or over 256 bytes;
 * attributes that are not a JSON object of strings, numbers, booleans and
 * nulls; a tag not 1..64 bytes; a reason over 512 bytes; an unknown scope.
 * Every conversation is held until the bot's bot_handoff or bot_close
 * (or a failed bot_event, or sb_th_conversation_release). */
size_t sb_th_bot_action_count(const sb_th *th);
const sb_th_bot_action *sb_th_bot_action_get(const sb_th *th, size_t i);

/* Whether the bot still holds conversation `id` (1) or not (0). */
int sb_th_conversation_held(const sb_th *th, const char *id);
/* An operator took the conversation over: later bot_* calls on it get
 * SB_ERR_STATE. */
void sb_th_conversation_release(sb_th *th, const char *id);
/* What conversation_get() answers for `id` (json copied; NULL removes):
 * {"conversation":{..},"client":{..}} in the API's shapes. Unset ids get
 * SB_ERR_NOT_FOUND; a cap not above the length SB_ERR_TOO_BIG with *len. */
void sb_th_conversation_set(sb_th *th, const char *id, const char *json);

/* ------------------------------------------------------------------------ */
/* Typing (1.1).                                                            */
/* ------------------------------------------------------------------------ */

/* One accepted client_typing() call: copies, text cut at 1024 bytes (on a
 * UTF-8 character boundary) as the core does. external_id must be
 * non-empty and text non-NULL (SB_ERR_INVALID); every client has an open
 * conversation (inject SB_ERR_NOT_FOUND with sb_th_fail_next to test the
 * other case). */
typedef struct sb_th_typing {
    const char *external_id;
    const char *text;
} sb_th_typing;

size_t sb_th_typing_count(const sb_th *th);
const sb_th_typing *sb_th_typing_get(const sb_th *th, size_t i);

/* ------------------------------------------------------------------------ */
/* HTTP client side: scripted answers to http_call().                        */
/* ------------------------------------------------------------------------ */

/* Queues an answer for the first later call whose method equals `method`
 * (NULL: any) and whose URL starts with `url_prefix`; scripts are tried in
 * the order queued and each answers one call. The answer (SB_OK,
 * http_status, body copied, NULL = "") is delivered at the next
 * sb_th_run_pending; a body over the call's max_response (0 = 1 MiB) is
 * delivered as SB_ERR_TOO_BIG instead. A call nothing matches gets SB_ERR_IO
 * with error "no scripted response" (and a log line). */
void sb_th_http_expect(sb_th *th, const char *method, const char *url_prefix,
                       long http_status, const char *body);
/* Adds a header to the answer last queued by sb_th_http_expect. */
void sb_th_http_expect_header(sb_th *th, const char *name, const char *value);
/* Queues a transport failure instead (SB_ERR_TIMEOUT, SB_ERR_IO, ...) with
 * `error` as the response's error text. */
void sb_th_http_expect_error(sb_th *th, const char *method,
                             const char *url_prefix, sb_status status,
                             const char *error);
/* Scripts not yet consumed (assert 0 at the end of a test). */
size_t sb_th_http_expect_left(const sb_th *th);

/* One http_call() the plugin made, as it asked (copies). */
typedef struct sb_th_http_call {
    uint64_t id;              /* what http_call returned */
    const char *method;       /* "GET" when the plugin passed NULL */
    const char *url;
    const sb_header *headers;
    size_t n_headers;
    const char *body;         /* NUL-terminated, "" when none */
    size_t body_len;
    uint32_t timeout_ms;      /* as given, 0 = default */
    size_t max_response;      /* as given, 0 = default */
    int completed;            /* done has run */
    sb_status status;         /* what done got (SB_ERR_CANCELLED when
                                 http_cancel or stop ended it) */
} sb_th_http_call;

size_t sb_th_http_call_count(const sb_th *th);
const sb_th_http_call *sb_th_http_call_get(const sb_th *th, size_t i);

/* ------------------------------------------------------------------------ */
/* Events and metrics.                                                       */
/* ------------------------------------------------------------------------ */

/* Delivers an event to every subscription whose prefix starts `type`, at
 * once, with the next seq (1, 2, ...); json (NULL: "{}") borrowed for the
 * calls. Returns how many callbacks ran. */
size_t sb_th_emit_event(sb_th *th, const char *type, const char *json);
/* Sum of metric_add() deltas for `name`; 0 when never added. */
double sb_th_metric(const sb_th *th, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* SWITCHBOARD_TESTHOST_H */
