/*
 * Switchboard plugin SDK — ABI version 1.
 *
 * This header is the whole contract between the Switchboard core and a
 * plugin. It is pure C11 with <stddef.h>/<stdint.h>/<stdarg.h> only: no core
 * type, no libev, curl or msgpack type appears here. A plugin includes this
 * file and nothing else of Switchboard.
 *
 * ---------------------------------------------------------------------------
 * GUIDE
 * ---------------------------------------------------------------------------
 * A plugin is a shared object exporting one symbol:
 *
 *     const sb_plugin *sb_plugin_entry(uint32_t host_major, uint32_t host_minor);
 *
 * It returns a static, const descriptor. The core checks `abi_major` (must
 * equal the host's) and `struct_size`, then creates one or more *instances*
 * of the plugin, one per entry in the `plugins:` list of the config. Every
 * instance has its own configuration section, its own private key-value
 * storage and its own webhook path `/hooks/<name>/<instance>`.
 *
 * Lifecycle of one instance (all calls on the core's loop thread):
 *
 *     init(host, ctx, &state)   read config, register routes; nothing else yet
 *     start(state)              all plugins are initialised; begin work
 *     reload(state)             config section changed (SIGHUP); re-read it
 *     stop(state)               stop timers and threads; no further callbacks
 *     destroy(state)            free everything
 *
 * If init fails, the core removes whatever the instance registered (routes,
 * timers, subscriptions) and calls destroy only when state was set.
 *
 * Threading. Every callback the core makes runs on its single event loop
 * thread, and every host function must be called from that thread — except
 * `post()`, which any thread may call to get back onto the loop. A callback
 * must not block: a plugin that needs blocking work starts its own thread
 * and returns results with `post()`. Callbacks running longer than the
 * watchdog threshold are logged with the plugin's name and instance.
 *
 * Ownership. Unless said otherwise:
 *   - pointers handed to a plugin callback are BORROWED for that call only;
 *     copy what you keep;
 *   - pointers a plugin passes to a host function are COPIED by the host
 *     before the function returns; the plugin keeps ownership.
 *
 * Channel plugins. Inbound: turn the messenger's update into sb_inbound and
 * call host->inbound(); answer the messenger (HTTP 200, next offset) only
 * from the completion callback, which runs after the message is durably
 * stored. Outbound: the core calls the descriptor's send() with a stored
 * message; send() answers at once SB_SEND_ACCEPTED or SB_SEND_REJECTED and
 * later reports the outcome with host->send_result(). Retries, backoff and
 * deadlines belong to the core's outbox.
 *
 * Versioning promise. Within ABI major 1, sb_plugin, sb_host and every
 * struct carrying `struct_size` only grow at the end. A plugin built against
 * an older minor runs on a newer host unchanged. A plugin wanting a newer
 * host function checks SB_HOST_HAS(host, field) first. A different major is
 * refused by the core with a log line naming both versions.
 *
 * Minimal plugin:
 *
 *     #include <switchboard/plugin.h>
 *     static sb_status my_init(const sb_host *h, sb_ctx *c, void **st) {
 *         h->log(c, SB_LOG_INFO, "hello");
 *         *st = NULL;
 *         return SB_OK;
 *     }
 *     static const sb_plugin desc = {
 *         SB_PLUGIN_HEADER("hello", "1.0.0", SB_KIND_SERVICE),
 *         .init = my_init,
 *     };
 *     SB_PLUGIN_EXPORT(desc)
 *
 * See sdk/README.md and sdk/examples/echo for a complete channel plugin.
 */
#ifndef SWITCHBOARD_PLUGIN_H
#define SWITCHBOARD_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_ABI_MAJOR 1
#define SB_ABI_MINOR 1

#if defined(__GNUC__)
#define SB_EXPORT __attribute__((visibility("default")))
#define SB_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SB_EXPORT
#define SB_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------------ */
/* Status codes. Zero is success; errors are negative. sb_strstatus() in   */
/* the host table turns any of them into text.                              */
/* ------------------------------------------------------------------------ */
typedef enum sb_status {
    SB_OK = 0,
    SB_ERR_INVALID = -1,     /* bad argument or malformed input */
    SB_ERR_NOMEM = -2,       /* allocation failed */
    SB_ERR_NOT_FOUND = -3,   /* no such key, route, config value */
    SB_ERR_EXISTS = -4,      /* already registered / duplicate */
    SB_ERR_FULL = -5,        /* storage or queue full */
    SB_ERR_IO = -6,          /* storage or network I/O error */
    SB_ERR_STATE = -7,       /* call not allowed in this state */
    SB_ERR_TOO_BIG = -8,     /* exceeds a limit, or buffer too small */
    SB_ERR_TIMEOUT = -9,     /* deadline passed */
    SB_ERR_UNSUPPORTED = -10,/* host does not offer this */
    SB_ERR_HANDLE = -11,     /* stale or foreign handle/id */
    SB_ERR_CANCELLED = -12   /* cancelled (plugin stopping, request gone) */
} sb_status;

/* The text of a status code, the same in the core and in the test host.
 * (host->strstatus returns it too; this copy needs no host.) */
static inline const char *sb_status_text(sb_status s)
{
    switch (s) {
    case SB_OK: return "ok";
    case SB_ERR_INVALID: return "invalid argument or input";
    case SB_ERR_NOMEM: return "out of memory";
    case SB_ERR_NOT_FOUND: return "not found";
    case SB_ERR_EXISTS: return "already exists";
    case SB_ERR_FULL: return "full";
    case SB_ERR_IO: return "I/O error";
    case SB_ERR_STATE: return "not allowed in this state";
    case SB_ERR_TOO_BIG: return "too big";
    case SB_ERR_TIMEOUT: return "timed out";
    case SB_ERR_UNSUPPORTED: return "not supported";
    case SB_ERR_HANDLE: return "stale or unknown handle";
    case SB_ERR_CANCELLED: return "cancelled";
    }
    return "unknown status";
}

typedef enum sb_log_level {
    SB_LOG_ERROR = 0,
    SB_LOG_WARN = 1,
    SB_LOG_INFO = 2,
    SB_LOG_DEBUG = 3
} sb_log_level;

typedef enum sb_plugin_kind {
    SB_KIND_CHANNEL = 1, /* a messenger: inbound() and send() */
    SB_KIND_BOT = 2,     /* answers conversations first */
    SB_KIND_SERVICE = 3  /* anything else: pages, analytics, integrations */
} sb_plugin_kind;

/* Opaque handle to one plugin instance, given to init() and valid until
 * destroy() returns. Every host function takes it first; the host checks it
 * and answers SB_ERR_HANDLE to a stale one. */
typedef struct sb_ctx sb_ctx;

/* ------------------------------------------------------------------------ */
/* Inbound HTTP (webhooks, pages). Routes live under                        */
/* /hooks/<plugin>/<instance><path> (SB_ROUTE_HOOK) or /<plugin><path>      */
/* (SB_ROUTE_PAGE, e.g. a widget's assets, one owner per plugin name).      */
/* ------------------------------------------------------------------------ */
typedef struct sb_header {
    const char *name;  /* as received; compare case-insensitively */
    const char *value;
} sb_header;

typedef struct sb_http_request {
    uint32_t struct_size;
    const char *method;   /* "GET", "POST", ... */
    const char *path;     /* full path, without the query */
    const char *subpath;  /* path after the route's prefix ("" when exact) */
    const char *query;    /* raw query string without '?', "" when none */
    const sb_header *headers;
    size_t n_headers;
    const char *body;     /* NUL-terminated for convenience; may hold NULs */
    size_t body_len;
    const char *peer;     /* client address "ip:port" */
    /* Identifies the request for host->http_reply(). The reply may come
     * from this callback or later (e.g. after inbound() is stored). */
    uint64_t reply_id;
    /* 1.1, SB_ROUTE_API routes only (NULL elsewhere): who called, from a
     * valid bearer token (Authorization header or ?token=). role is
     * "admin" | "supervisor" | "operator"; user is the operator's id or the
     * API token's name. Both NULL without a valid token. Check
     * SB_REQ_HAS(req, auth_role) before reading them. */
    const char *auth_role;
    const char *auth_user;
} sb_http_request;

#define SB_REQ_HAS(req, field) \
    ((req)->struct_size >= offsetof(sb_http_request, field) + sizeof((req)->field))

enum sb_route_flags {
    SB_ROUTE_HOOK = 0,    /* under /hooks/<plugin>/<instance> */
    SB_ROUTE_PAGE = 1,    /* under /<plugin> */
    SB_ROUTE_PREFIX = 2,  /* match the path and everything below it */
    /* 1.1: under /api/v1<path>, in the public API's namespace (e.g. a
     * knowledge base's "/kb/faq/articles"). The core reads the bearer token
     * and fills auth_role/auth_user. Without an AUTH flag any caller gets
     * through (the plugin checks its own credentials, e.g. a bot token). */
    SB_ROUTE_API = 4,
    SB_ROUTE_AUTH_OPERATOR = 8,    /* 401 without a valid token (any role) */
    SB_ROUTE_AUTH_SUPERVISOR = 16, /* 403 for operators */
    SB_ROUTE_AUTH_ADMIN = 32       /* 403 for operators and supervisors */
};

/* Called on the loop. `req` is borrowed for the call. The handler must
 * eventually call host->http_reply(req->reply_id, ...) exactly once; if the
 * client goes away first the reply is dropped harmlessly. */
typedef void (*sb_http_handler)(void *ud, const sb_http_request *req);

/* ------------------------------------------------------------------------ */
/* Outbound HTTP through the core's asynchronous client.                     */
/* ------------------------------------------------------------------------ */
typedef struct sb_http_call {
    uint32_t struct_size;      /* sizeof(sb_http_call) */
    const char *method;        /* "GET", "POST", ...; NULL means GET */
    const char *url;
    const sb_header *headers;  /* copied by the host */
    size_t n_headers;
    const void *body;          /* copied by the host; may be NULL */
    size_t body_len;
    uint32_t timeout_ms;       /* whole request; 0 = 30000 */
    size_t max_response;       /* bytes kept of the body; 0 = 1 MiB; more
                                  fails the call with SB_ERR_TOO_BIG */
} sb_http_call;

typedef struct sb_http_response {
    uint32_t struct_size;
    sb_status status;          /* SB_OK when an HTTP answer arrived */
    long http_status;          /* 0 when status != SB_OK */
    const char *error;         /* transport error text, or NULL */
    const sb_header *headers;
    size_t n_headers;
    const char *body;          /* NUL-terminated; borrowed for the call */
    size_t body_len;
    uint64_t elapsed_ms;
} sb_http_response;

/* Called on the loop exactly once per started call: with the answer, an
 * error, or SB_ERR_CANCELLED when the plugin cancelled it or is stopping.
 * `res` is borrowed for the call. */
typedef void (*sb_http_done)(void *ud, uint64_t call_id,
                             const sb_http_response *res);

/* ------------------------------------------------------------------------ */
/* Channels: messages in and out.                                            */
/* ------------------------------------------------------------------------ */
typedef struct sb_attachment {
    uint32_t struct_size;
    const char *kind;   /* "image", "file", "audio", "video", "voice" */
    const char *ref;    /* URL, or the channel's own file id */
    const char *name;   /* may be NULL */
    const char *mime;   /* may be NULL */
    uint64_t size;      /* bytes, 0 when unknown */
} sb_attachment;

typedef struct sb_button {
    const char *id;     /* the core's button id, returned as button_id */
    const char *title;
} sb_button;

typedef enum sb_inbound_kind {
    SB_IN_MESSAGE = 0,  /* a client message: text, button press, media */
    SB_IN_EDIT = 1,     /* the client edited an earlier message */
    SB_IN_CONTACT = 2   /* the client shared a phone or e-mail */
} sb_inbound_kind;

typedef struct sb_inbound {
    uint32_t struct_size;     /* sizeof(sb_inbound) */
    sb_inbound_kind kind;
    const char *external_id;  /* the client's id in this channel; required */
    const char *dedup_key;    /* the channel's message/update id; required;
                                 the same key again stores nothing new */
    const char *name;         /* display name, may be NULL */
    const char *phone;        /* identities the channel knows, may be NULL */
    const char *email;
    const char *text;         /* may be NULL when button_id or media */
    const char *button_id;    /* a pressed button, may be NULL */
    const sb_attachment *attachments;
    size_t n_attachments;
    int64_t sent_at_ms;       /* the channel's timestamp; 0 = now */
    const char *edit_of;      /* SB_IN_EDIT: dedup_key of the edited one */
    /* 1.1: this client is the same person as the account (link_plugin,
     * link_instance, link_external_id) of another channel, e.g. a web-chat
     * visitor who followed the site's deep link into this messenger. Used
     * only while this channel account is new: it joins that client, so the
     * history continues. NULL = no link. */
    const char *link_plugin;
    const char *link_instance;
    const char *link_external_id;
} sb_inbound;

/* Called on the loop once the message is durably stored (or refused).
 * `message_id` is the stored id (the original one for a duplicate),
 * borrowed for the call. `duplicate` is 1 when nothing new was stored. */
typedef void (*sb_inbound_done)(void *ud, sb_status status,
                                const char *message_id, int duplicate);

typedef struct sb_outbound {
    uint32_t struct_size;
    const char *message_id;     /* the core's id; idempotency key */
    const char *conversation_id;
    const char *client_id;
    const char *external_id;    /* the recipient in this channel */
    const char *text;           /* may be NULL */
    const sb_button *buttons;
    size_t n_buttons;
    const sb_attachment *attachments;
    size_t n_attachments;
    uint32_t attempt;           /* 1 on the first try */
} sb_outbound;

typedef enum sb_send_accept {
    SB_SEND_ACCEPTED = 0,  /* the plugin will call send_result() */
    SB_SEND_REJECTED = 1   /* cannot ever be sent by this channel */
} sb_send_accept;

typedef enum sb_send_status {
    SB_SENT = 0,            /* delivered to the messenger; remote_id set */
    SB_SEND_RETRY = 1,      /* transient: the core retries with backoff,
                               not before retry_after_ms when non-zero */
    SB_SEND_FAILED = 2,     /* permanent: never retried */
    SB_SEND_UNREACHABLE = 3 /* the client blocked the bot / left: permanent,
                               and the client is marked unreachable here */
} sb_send_status;

/* ------------------------------------------------------------------------ */
/* Events, timers, deferred work.                                             */
/* ------------------------------------------------------------------------ */
typedef struct sb_event {
    uint32_t struct_size;
    uint64_t seq;           /* position in the durable event log */
    const char *type;       /* "message.created", "conversation.closed"... */
    const char *json;       /* the event as a JSON object (api.md shapes) */
    size_t json_len;
} sb_event;

typedef void (*sb_event_cb)(void *ud, const sb_event *ev);

/* ------------------------------------------------------------------------ */
/* WebSockets served by a plugin (1.1).                                       */
/* ------------------------------------------------------------------------ */
/* A complete message (text is valid UTF-8); `data` borrowed for the call. */
typedef void (*sb_ws_message_cb)(void *ud, uint64_t ws_id, int binary,
                                 const char *data, size_t len);
/* The socket is gone (closed by either side, dropped as a slow reader).
 * Exactly once per accepted socket; ws_id is stale afterwards. Sockets
 * still open when the instance stops get it with code 1001 just before
 * the plugin's stop(). */
typedef void (*sb_ws_close_cb)(void *ud, uint64_t ws_id, int code);

/* ------------------------------------------------------------------------ */
/* Bots (1.1). A bot instance meets the new conversations of the channel    */
/* instances and groups that name it (`bot: <plugin>/<instance>` in config  */
/* or a group's "bot" in the API). While the conversation's status is      */
/* "bot" every client message goes to the bot's bot_event(); the bot acts  */
/* through the host's bot_* functions. A hand-off (by the bot, or by the    */
/* core when the bot fails) routes the conversation to operators.           */
/* ------------------------------------------------------------------------ */
typedef enum sb_bot_event_kind {
    SB_BOT_START = 0,   /* a new conversation: `text`/`button_id` is its first message */
    SB_BOT_MESSAGE = 1  /* a later client message */
} sb_bot_event_kind;

typedef struct sb_bot_event {
    uint32_t struct_size;
    sb_bot_event_kind kind;
    const char *conversation_id;
    const char *client_id;
    const char *channel;       /* the channel's plugin name: "telegram" */
    const char *instance;      /* the channel's instance */
    const char *message_id;
    const char *text;          /* may be NULL (a button, media) */
    const char *button_id;     /* a pressed button, may be NULL */
    const char *message_json;  /* the stored message (api.md shape) */
} sb_bot_event;

typedef enum sb_scope {
    SB_SCOPE_CLIENT = 0,       /* the client's profile */
    SB_SCOPE_CONVERSATION = 1  /* this conversation only */
} sb_scope;
typedef void (*sb_timer_cb)(void *ud, uint64_t timer_id);
typedef void (*sb_post_cb)(void *ud);
typedef void (*sb_done_cb)(void *ud, sb_status status);

/* ------------------------------------------------------------------------ */
/* The host table. Filled by the core (or by sdk/testhost), never by a      */
/* plugin. Fields only ever get added at the end.                           */
/* ------------------------------------------------------------------------ */
typedef struct sb_host sb_host;
struct sb_host {
    uint32_t struct_size;
    uint32_t abi_major;
    uint32_t abi_minor;

    /* Text for a status code. Static string. Any thread. */
    const char *(*strstatus)(sb_status status);

    /* -- logging ---------------------------------------------------------
     * One structured line with the plugin name and instance added. Never
     * pass secrets. Loop thread (or from post() callbacks). */
    void (*log)(sb_ctx *ctx, sb_log_level level, const char *fmt, ...)
        SB_PRINTF(3, 4);
    void (*vlog)(sb_ctx *ctx, sb_log_level level, const char *fmt,
                 va_list ap);

    /* -- configuration of this instance ------------------------------------
     * `path` is relative to the instance's `config:` section, dotted, with
     * [n] for list items: "token", "menu.items[2].title".
     * Returns SB_OK and sets *out; SB_ERR_NOT_FOUND when absent (*out
     * untouched, so preset a default); SB_ERR_INVALID when present but of
     * the wrong type, in which case the host has already recorded the error
     * with file:line and init should fail. Every key the plugin never reads
     * during init is reported as unknown and fails the instance.
     * Strings are owned by the host and valid until reload() or destroy(). */
    sb_status (*config_string)(sb_ctx *ctx, const char *path,
                               const char **out);
    sb_status (*config_int)(sb_ctx *ctx, const char *path, int64_t *out);
    sb_status (*config_bool)(sb_ctx *ctx, const char *path, int *out);
    /* "1MiB", "512KB", "1024" -> bytes */
    sb_status (*config_size)(sb_ctx *ctx, const char *path, uint64_t *out);
    /* "30s", "250ms", "5m", "1h" -> milliseconds */
    sb_status (*config_duration)(sb_ctx *ctx, const char *path,
                                 uint64_t *out);
    /* Number of items of a list or entries of a map; SB_ERR_NOT_FOUND when
     * absent, SB_ERR_INVALID when a scalar. */
    sb_status (*config_count)(sb_ctx *ctx, const char *path, size_t *out);
    /* Records "file:line:col: plugins[i].config.<path>: <message>" as this
     * instance's error (path may be NULL for the section itself). Use it
     * for a required key or an invalid value; then fail init. */
    void (*config_error)(sb_ctx *ctx, const char *path, const char *message);

    /* -- identity ---------------------------------------------------------
     * Both owned by the host, valid until destroy(). */
    const char *(*instance_name)(sb_ctx *ctx);
    const char *(*plugin_name)(sb_ctx *ctx);

    /* -- time and timers -------------------------------------------------- */
    /* Wall clock, milliseconds since the Unix epoch (the loop's cached time). */
    int64_t (*now_ms)(sb_ctx *ctx);
    /* One-shot after `after_ms`, then every `repeat_ms` when non-zero.
     * Returns a timer id (never 0), or 0 on error. Timers are stopped by
     * the core when the instance stops. */
    uint64_t (*timer_start)(sb_ctx *ctx, uint64_t after_ms,
                            uint64_t repeat_ms, sb_timer_cb cb, void *ud);
    /* Stops a timer; a stale id is ignored. */
    void (*timer_stop)(sb_ctx *ctx, uint64_t timer_id);

    /* -- threads --------------------------------------------------------
     * ANY THREAD. Runs cb(ud) on the loop soon. Returns SB_ERR_STATE once the
     * instance is stopping (cb will not run; free ud yourself). */
    sb_status (*post)(sb_ctx *ctx, sb_post_cb cb, void *ud);

    /* -- private key-value storage (persisted; namespaced per instance) ----
     * kv_put/kv_del are durable when `done` runs (group commit); a kv_get
     * right after a kv_put sees the new value. `done` may be NULL.
     * Keys 1..400 bytes, values up to 1 MiB. */
    sb_status (*kv_put)(sb_ctx *ctx, const void *key, size_t key_len,
                        const void *val, size_t val_len, sb_done_cb done,
                        void *ud);
    sb_status (*kv_del)(sb_ctx *ctx, const void *key, size_t key_len,
                        sb_done_cb done, void *ud);
    /* Copies the value into buf (capacity cap) and sets *val_len. When cap
     * is too small returns SB_ERR_TOO_BIG with *val_len set to the size
     * needed. SB_ERR_NOT_FOUND when absent. */
    sb_status (*kv_get)(sb_ctx *ctx, const void *key, size_t key_len,
                        void *buf, size_t cap, size_t *val_len);

    /* -- HTTP server -------------------------------------------------------
     * `method` NULL matches any method. `path` "" is the base path itself.
     * The path strings are copied. Routes are removed when the instance is
     * destroyed or its init fails. */
    sb_status (*http_route)(sb_ctx *ctx, const char *method, const char *path,
                            unsigned flags, sb_http_handler handler,
                            void *ud);
    /* Answers a request. headers/body copied. Returns SB_ERR_HANDLE if the
     * request is gone (client closed) or was answered already. */
    sb_status (*http_reply)(sb_ctx *ctx, uint64_t reply_id, int status,
                            const char *content_type, const sb_header *headers,
                            size_t n_headers, const void *body,
                            size_t body_len);
    /* Answers with the JSON error body of the public API:
     * {"error":{"code":code,"message":message}}. */
    sb_status (*http_error)(sb_ctx *ctx, uint64_t reply_id, int status,
                            const char *code, const char *message);

    /* -- HTTP client -------------------------------------------------------
     * Starts a request; `done` runs exactly once. Returns a call id (never 0)
     * or 0 when the call could not start (then `done` never runs). Calls
     * still running when the instance stops are cancelled. */
    uint64_t (*http_call)(sb_ctx *ctx, const sb_http_call *call,
                          sb_http_done done, void *ud);
    /* Cancels a call: its `done` runs with SB_ERR_CANCELLED before this
     * returns. A finished or stale id is ignored. */
    void (*http_cancel)(sb_ctx *ctx, uint64_t call_id);

    /* -- channels ----------------------------------------------------------
     * Hands one inbound message to the core. All strings copied. `done`
     * (required) runs after the durable commit. Returns an error at once
     * (and `done` never runs) when the message is invalid: missing
     * external_id or dedup_key, over the size limits. */
    sb_status (*inbound)(sb_ctx *ctx, const sb_inbound *msg,
                         sb_inbound_done done, void *ud);
    /* Reports the outcome of a send() the plugin accepted. `op` is the id
     * send() was given; remote_id (copied, may be NULL) is the messenger's
     * id of the sent message; error (copied, may be NULL) says why. */
    sb_status (*send_result)(sb_ctx *ctx, uint64_t op, sb_send_status status,
                             const char *remote_id, uint64_t retry_after_ms,
                             const char *error);

    /* -- events ------------------------------------------------------------
     * Calls cb for every event whose type starts with `type_prefix`
     * ("" = all, "conversation." = those), after it is committed. */
    sb_status (*subscribe)(sb_ctx *ctx, const char *type_prefix,
                           sb_event_cb cb, void *ud);

    /* -- metrics -----------------------------------------------------------
     * Adds `delta` to a counter exported on /metrics as
     * sb_plugin_<name>{plugin="..",instance=".."}. `name` must match
     * [a-z_][a-z0-9_]*, at most 64 per instance. */
    sb_status (*metric_add)(sb_ctx *ctx, const char *name, double delta);

    /* ==== ABI 1.1 =========================================================
     * Check SB_HOST_HAS(host, field) before calling any of these. */

    /* -- WebSockets --------------------------------------------------------
     * Upgrades a GET request (its reply_id, from a route of this instance)
     * to a WebSocket: the host answers 101 and returns the socket's id, or
     * 0 when the request carries no valid upgrade (the host has answered
     * 400 then). Callbacks run on the loop. */
    uint64_t (*ws_accept)(sb_ctx *ctx, uint64_t reply_id, sb_ws_message_cb on_message,
                          sb_ws_close_cb on_close, void *ud);
    /* Queues one text message (copied). SB_ERR_HANDLE when gone; SB_ERR_FULL
     * when the peer reads too slowly (it is closed). */
    sb_status (*ws_send)(sb_ctx *ctx, uint64_t ws_id, const char *text, size_t len);
    /* Starts the close handshake; on_close follows. */
    sb_status (*ws_close)(sb_ctx *ctx, uint64_t ws_id, int code, const char *reason);

    /* -- bots --------------------------------------------------------------
     * These act on a conversation held by this bot instance (status "bot",
     * met by this instance): SB_ERR_STATE otherwise (handed off, closed),
     * SB_ERR_NOT_FOUND for an unknown id. Each change is stored with the
     * conversation's history, so the operator who takes over sees it. */

    /* A message from the bot to the client (text and/or up to 20 buttons;
     * button ids <= 256 bytes come back as sb_bot_event.button_id). */
    sb_status (*bot_reply)(sb_ctx *ctx, const char *conversation_id, const char *text,
                           const sb_button *buttons, size_t n_buttons);
    /* Merges a JSON object {"key": "value" | number | bool | null} into the
     * client's or the conversation's attributes (null removes a key). */
    sb_status (*bot_set_attributes)(sb_ctx *ctx, const char *conversation_id,
                                    sb_scope scope, const char *json_object);
    /* Adds one tag (1..64 bytes) to the client or the conversation. */
    sb_status (*bot_add_tag)(sb_ctx *ctx, const char *conversation_id, sb_scope scope,
                             const char *tag);
    /* Hands the conversation to operators: to group_id (NULL = the group
     * its channel instance names, else routing.default_group), needing
     * `skill` at `skill_level` (skill NULL = none). `reason` (<= 512
     * bytes, shown to the operator in the history) says why. */
    sb_status (*bot_handoff)(sb_ctx *ctx, const char *conversation_id, const char *group_id,
                             const char *skill, int skill_level, const char *reason);
    /* Closes the conversation; with ask_rating the client is asked to rate
     * it (buttons 1..5). */
    sb_status (*bot_close)(sb_ctx *ctx, const char *conversation_id, int ask_rating);
    /* Copies {"conversation":{..},"client":{..}} (api.md shapes) into buf
     * (capacity cap), NUL-terminated; *len set to the length without the
     * NUL. SB_ERR_TOO_BIG with *len set when cap is too small. Works for any
     * conversation, held by this bot or not. */
    sb_status (*conversation_get)(sb_ctx *ctx, const char *conversation_id, char *buf,
                                  size_t cap, size_t *len);

    /* -- channels, 1.1 -------------------------------------------------------
     * What the client (external_id in this channel instance) is typing now,
     * shown live to the operator of its open conversation ("" = stopped).
     * Not stored. Text cut at 1024 bytes. SB_ERR_NOT_FOUND when the client
     * has no open conversation. */
    sb_status (*client_typing)(sb_ctx *ctx, const char *external_id, const char *text);
};

/* True when the host table has the function `field` (added in a later
 * minor) and it is set. */
#define SB_HOST_HAS(host, field)                                            \
    ((host)->struct_size >= offsetof(sb_host, field) + sizeof((host)->field) \
     && (host)->field != NULL)

/* ------------------------------------------------------------------------ */
/* The plugin descriptor.                                                    */
/* ------------------------------------------------------------------------ */
typedef struct sb_plugin {
    /* These six never move. Use SB_PLUGIN_HEADER to fill them. */
    uint32_t abi_major;
    uint32_t abi_minor;
    uint32_t struct_size;
    const char *name;     /* [a-z0-9_]+, equals the .so's base name */
    const char *version;  /* the plugin's own version, free text */
    sb_plugin_kind kind;

    /* Mandatory. Reads config (host->config_*), registers routes and
     * subscriptions, allocates its state into *state. Must not start
     * network calls (start() does). Returning an error unregisters
     * everything the instance registered. */
    sb_status (*init)(const sb_host *host, sb_ctx *ctx, void **state);
    /* Optional. All instances are initialised and the listener is up. */
    sb_status (*start)(void *state);
    /* Optional. The instance's config section changed; re-read it. Return
     * an error to keep running on the old values (the core says so). */
    sb_status (*reload)(void *state);
    /* Optional. Stop timers, cancel calls, join threads. After stop no
     * callback of this instance runs except pending `done`s with
     * SB_ERR_CANCELLED. */
    void (*stop)(void *state);
    /* Optional. Free the state. */
    void (*destroy)(void *state);

    /* Channels only (mandatory for SB_KIND_CHANNEL). Sends one stored
     * message; `msg` borrowed for the call. Must not block: start the
     * request and return SB_SEND_ACCEPTED, then call host->send_result(op,
     * ...) exactly once. */
    sb_send_accept (*send)(void *state, const sb_outbound *msg, uint64_t op);

    /* 1.1, bots only (mandatory for SB_KIND_BOT). A client message for a
     * conversation this instance holds; `ev` borrowed for the call. Answer
     * through host->bot_*(), now or later. Returning an error hands the
     * conversation to operators at once (a failing bot never leaves a
     * client without an answer). */
    sb_status (*bot_event)(void *state, const sb_bot_event *ev);
} sb_plugin;

#define SB_PLUGIN_HEADER(name_, version_, kind_)                             \
    .abi_major = SB_ABI_MAJOR, .abi_minor = SB_ABI_MINOR,                    \
    .struct_size = sizeof(sb_plugin), .name = (name_),                      \
    .version = (version_), .kind = (kind_)

/* The one symbol a plugin exports. The host passes its own ABI version so a
 * plugin may refuse an older host by returning NULL. */
typedef const sb_plugin *(*sb_plugin_entry_fn)(uint32_t host_major,
                                               uint32_t host_minor);
#define SB_PLUGIN_ENTRY_SYMBOL "sb_plugin_entry"

SB_EXPORT const sb_plugin *sb_plugin_entry(uint32_t host_major,
                                           uint32_t host_minor);

/* Defines sb_plugin_entry() answering the descriptor `desc` to a host of
 * this ABI major and NULL to any other. Write it once, after the
 * descriptor:  SB_PLUGIN_EXPORT(k_desc) */
#define SB_PLUGIN_EXPORT(desc)                                               \
    SB_EXPORT const sb_plugin *sb_plugin_entry(uint32_t host_major,          \
                                               uint32_t host_minor)          \
    {                                                                        \
        (void)host_minor;                                                    \
        return host_major == SB_ABI_MAJOR ? &(desc) : NULL;                  \
    }

#ifdef __cplusplus
}
#endif
#endif /* SWITCHBOARD_PLUGIN_H */
