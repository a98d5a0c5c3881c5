/* The web-chat channel: state shared by its modules. Every function runs on
 * the loop thread (the only thread this plugin has). */
#ifndef WEBCHAT_WC_H
#define WEBCHAT_WC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <switchboard/plugin.h>

#define WC_MAX_CHANNELS 10
#define WC_MAX_TYPES 32
#define WC_MAX_ORIGINS 32
#define WC_VID_HEX 32      /* a visitor id: 128 random bits in hex */
#define WC_VISITOR_LEN 65  /* "<vid>.<mac>": the visitor's credential */
#define WC_TOKEN_LEN 22    /* a messenger start token: 128 bits, base64url */
#define WC_MAX_TEXT 4096   /* bytes of one visitor message */
#define WC_MAX_WAITERS 2000
#define WC_MAX_SOCKETS 5000

typedef struct wc_channel {
    const char *kind, *title, *url; /* borrowed from the config */
} wc_channel;

/* The instance's configuration; strings borrowed from the host until the
 * next reload or destroy. */
typedef struct wc_config {
    const char *site_key;
    const char *origins[WC_MAX_ORIGINS];
    size_t n_origins;          /* 0: any origin */
    uint64_t max_file;
    const char *types[WC_MAX_TYPES];
    size_t n_types;
    const char *position;      /* "right" | "left" */
    const char *title;         /* "" = the widget's own default */
    const char *lang;          /* "auto" | "ru" | "en" */
    wc_channel channels[WC_MAX_CHANNELS];
    size_t n_channels;
    int64_t history_max;       /* messages kept per visitor */
    uint64_t token_ttl_ms;     /* life of a messenger start token */
} wc_config;

typedef struct wc_waiter wc_waiter;

typedef struct wc_state {
    const sb_host *host;
    sb_ctx *ctx;
    wc_config cfg;
    unsigned char secret[32];  /* HMAC key of visitor credentials; from kv */
    bool ready;                /* start() loaded the secret */
    wc_waiter *waiters;        /* long polls parked on this instance */
    size_t n_waiters;
    size_t n_sockets;          /* WebSockets open (their records: live.c) */
    struct wc_pending *pending; /* inbound calls waiting for their commit */
    /* Typing previews sent per visitor slot, for throttling. */
    struct { char vid[WC_VID_HEX + 1]; int64_t at; } typing[64];
} wc_state;

/* config.c: reads and checks every key; SB_OK or SB_ERR_INVALID (each
 * problem recorded with config_error). */
sb_status wc_config_read(const sb_host *h, sb_ctx *ctx, wc_config *out);

/* registry.c: instances of this .so, found by site key. The first one
 * registered owns the /webchat page routes (one owner per plugin name). */
sb_status wc_registry_add(wc_state *s);
void wc_registry_remove(wc_state *s);
wc_state *wc_registry_find(const char *site_key);
wc_state *wc_registry_by_name(const char *instance);
wc_state *wc_registry_owner(void);
void wc_registry_set_owner(wc_state *s);
/* The i-th instance, NULL past the end. */
wc_state *wc_registry_at(size_t i);

/* api.c: the page routes' one handler (dispatch on subpath). */
void wc_http(void *ud, const sb_http_request *req);
/* send(): an outbound message into the visitor's history and live views. */
sb_send_accept wc_send(void *state, const sb_outbound *msg, uint64_t op);
/* Frees inbound calls still pending (their done will not run any more). */
void wc_pending_free(wc_state *s);

/* live.c: long polls and WebSockets. Replies go through the route owner's
 * context (requests arrive on its routes). */
void wc_poll_park(wc_state *s, const sb_http_request *r, const char *vid, uint64_t after,
                  uint64_t wait_ms);
void wc_ws_open(wc_state *s, uint64_t reply_id, const char *vid, uint64_t after);
/* New history items for vid: answer its polls, push to its sockets. hist
 * (borrowed) is the visitor's history when the caller has it in hand,
 * NULL to read it from kv. */
void wc_live_notify(wc_state *s, const char *vid, json_t *hist);
/* At stop: answer every parked poll, close every socket. */
void wc_live_stop(wc_state *s);
/* When the route owner goes: frees the records of every socket it held. */
void wc_live_owner_gone(void);
/* A typing preview, throttled per visitor ("" always passes). */
void wc_typing(wc_state *s, const char *vid, const char *text);
/* Closes the visitor's open chats and answers its parked polls (erasure). */
void wc_live_forget(wc_state *s, const char *vid);

/* forget.c: erasure. Removes what this instance keeps of a visitor: history,
 * the files it sent, its start token; closes its chats. Subscribed to the
 * core's client.forget at init. Loop thread. */
void wc_forget_visitor(wc_state *s, const char *vid);
sb_status wc_forget_subscribe(wc_state *s);

/* ident.c */
/* Fills buf with n random bytes; false when the system has none to give. */
bool wc_random(void *buf, size_t n);
/* A new visitor: vid (33 bytes) and its credential (WC_VISITOR_LEN + 1). */
bool wc_visitor_new(const wc_state *s, char vid[WC_VID_HEX + 1],
                    char cred[WC_VISITOR_LEN + 1]);
/* Checks a credential; on success copies its vid. */
bool wc_visitor_check(const wc_state *s, const char *cred, char vid[WC_VID_HEX + 1]);
/* The visitor's messenger start token, reused while valid, else issued and
 * stored ("t:<token>" -> vid and expiry, "vt:<vid>" -> token). */
bool wc_token_for(wc_state *s, const char *vid, char token[WC_TOKEN_LEN + 1]);
/* The vid a token names, when it exists and has not expired. */
bool wc_token_lookup(wc_state *s, const char *token, char vid[WC_VID_HEX + 1]);
/* A random hex id of 2n chars (n bytes) into out (2n + 1). */
bool wc_hex_id(char *out, size_t n);

/* history.c: a visitor's bounded message list in kv, "h:<vid>" ->
 * {"seq":N,"items":[{seq,id,dir,text,buttons,attachments,ts}]}. */
/* The visitor's history, a new empty one when absent; NULL when it cannot
 * be read (the caller answers 503). The caller owns the reference. */
json_t *wc_history_load(wc_state *s, const char *vid);
/* Gives `item` (reference stolen) the next seq, appends it, drops the
 * oldest items over history_max or the size bound, and stores it; `done`
 * (may be NULL) runs once it is durable. Returns the item's seq, 0 when
 * it could not be stored (done does not run then). */
uint64_t wc_history_append(wc_state *s, const char *vid, json_t *hist, json_t *item,
                           sb_done_cb done, void *ud);
/* A new array of the items with seq > after. */
json_t *wc_history_after(json_t *hist, uint64_t after);
/* The item with this id and direction, borrowed from hist; NULL if none. */
json_t *wc_history_find(json_t *hist, const char *id, const char *dir);
uint64_t wc_history_seq(json_t *hist);

/* util.c */
const char *wc_header(const sb_http_request *r, const char *name);
/* The decoded value of `name` in a query string into out (cap); false when
 * absent, undecodable or too long. */
bool wc_query(const char *query, const char *name, char *out, size_t cap);
/* CORS answer headers for the request's Origin (into hdr, at most 4);
 * returns their count. `allowed` false when the instance restricts origins
 * and this one is not listed. */
size_t wc_cors(const wc_state *s, const sb_http_request *r, sb_header *hdr, bool *allowed);
/* Replies with a JSON text (taking ownership of j) through ctx. */
void wc_reply_json(const sb_host *h, sb_ctx *ctx, const sb_http_request *r, const wc_state *s,
                   int status, json_t *j);
/* The same for a request answered later: origin is the allowed Origin
 * (NULL: no CORS headers). */
void wc_reply_to(const sb_host *h, sb_ctx *ctx, uint64_t reply_id, const char *origin,
                 int status, json_t *j);
void wc_reply_error(const sb_host *h, sb_ctx *ctx, const sb_http_request *r,
                    const wc_state *s, int status, const char *code, const char *message);
#endif
