/* Internal to core/engine: the engine's state and what one of its files
 * offers the others. Not for other modules. Loop thread only. */
#ifndef SB_ENGINE_INTERNAL_H
#define SB_ENGINE_INTERNAL_H

#include <ev.h>
#include <jansson.h>

#include "engine/engine.h"
#include "engine/records.h"
#include "store/record.h"
#include "util/idmap.h"

/* Tables, in the order of sb_engine_table_names(). */
enum {
    TB_CLIENTS,        /* client_id -> client record */
    TB_IDENTITIES,     /* "plugin\0instance\0external_id" | "phone\0<digits>" |
                          "email\0<lowercased>" -> client_id (8 bytes BE) */
    TB_CONVERSATIONS,  /* conv_id -> conversation record */
    TB_MESSAGES,       /* conv_id || msg_id -> message record */
    TB_CLIENT_MSGS,    /* client_id || msg_id -> conv_id: one history */
    TB_MSG_INDEX,      /* msg_id -> conv_id; written last for a new message */
    TB_MSG_EXT,        /* "plugin\0instance\0dedup_key" -> msg_id (edits) */
    TB_OUTBOX,         /* msg_id -> outbox record */
    TB_OUTBOX_DUE,     /* next_at (u64 BE ms) || msg_id -> "": the schedule */
    TB_OUTBOX_PENDING, /* "plugin\0instance" -> u64 BE: entries in the outbox */
    TB_OPERATORS,      /* op_id -> operator record */
    TB_OP_LOGINS,      /* login -> op_id */
    TB_GROUPS,         /* group id (text) -> group record */
    TB_GROUP_STATS,    /* group id -> handle/arrival statistics */
    TB_TEMPLATES,      /* template id -> template record */
    TB_CONV_IDX,       /* 'c' client|conv, 's' status|conv, 'g' group\0|conv,
                          'o' op|conv -> summary (conv_index.c) */
    TB_CLIENT_SEARCH,  /* 'n' word\0 | 'p' digits\0 | 'e' email\0 | 'x' ext\0, then
                          client_id -> "" */
    TB_AUDIT,          /* audit id -> audit record */
    TB_AUDIT_CLIENT,   /* client_id | audit id -> "": audits naming a client */
    TB_COUNT
};
#define TBL(e, t) ((e)->first + (sb_table)(t))

/* Input limits, bytes. */
#define SB_ENG_MAX_NAME 64      /* plugin and instance names */
#define SB_ENG_MAX_REF 256      /* external ids, dedup keys, button ids */
#define SB_ENG_MAX_TITLE 1024   /* display names, button titles, file names */
#define SB_ENG_MAX_URL 4096     /* attachment refs */
#define SB_ENG_MAX_ATTACH 20
#define SB_ENG_MAX_BUTTONS 20
#define SB_ENG_MAX_IDENTITIES 64 /* per client record; more make a new client */
#define SB_ENG_KEY_MAX 511

/* ---- work that waits for the commit of the current batch ------------- */
typedef struct sb_eng_later sb_eng_later;
/* e is NULL when the engine was freed before the batch committed. Must
 * free l. */
typedef void (*sb_eng_later_fn)(sb_engine *e, sb_eng_later *l, sb_status st);
struct sb_eng_later {
    sb_eng_later *prev, *next;
    sb_engine *e;
    sb_eng_later_fn run;
};
/* Registers run(l) after the batch holding every write so far. l is
 * embedded first in a malloc'ed struct. On error nothing is registered and
 * the caller still owns l. */
sb_status sb_eng_after_commit(sb_engine *e, sb_eng_later *l, sb_eng_later_fn run);

#include "engine/route_internal.h"

/* ---- subscriptions and outbox channel instances ---------------------- */
typedef struct sb_eng_sub {
    char *prefix;
    size_t prefix_len;
    sb_event_cb cb;
    void *ud;
    const void *owner;
    bool dead; /* unsubscribed during a dispatch; removed after it */
} sb_eng_sub;

typedef struct sb_eng_inst {
    char *plugin, *instance;
    double rate; /* sends per second, 0 = unlimited */
    double tat;  /* rate limit (GCRA): ms when the next send conforms */
    uint64_t sent, retries, failures;
} sb_eng_inst;

struct sb_engine {
    struct ev_loop *loop;
    sb_store *st;
    sb_table first;
    sb_engine_options opt;
    sb_rec_writer w, wl; /* record and nested-list encoders, reused */
    sb_eng_later later;  /* sentinel of the pending commit callbacks */

    sb_eng_sub *subs;
    size_t n_subs, cap_subs;
    unsigned dispatching;

    sb_channel_send_fn send;
    void *send_ud;
    sb_eng_inst **insts;
    size_t n_insts;
    sb_idmap ops;   /* op -> msg_id of sends in flight */
    sb_idmap fresh; /* msg_id -> 1: enqueued in a batch not yet committed */
    ev_timer timer;     /* the outbox schedule */
    int64_t timer_at;   /* when it fires, INT64_MAX when stopped */
    ev_timer maint;     /* dedup expiry */
    bool started;
    uint64_t rng;
    sb_eng_rt rt;       /* routing (route_internal.h) */
};

/* ---- engine.c ---------------------------------------------------------- */
int64_t sb_eng_now(void); /* wall clock, ms */
double sb_eng_random(sb_engine *e); /* [0, 1) */

/* ---- validate.c -------------------------------------------------------- */
bool sb_eng_utf8_valid(const char *s, size_t n);
/* NULL or "" when required -> SB_ERR_INVALID; longer than max ->
 * SB_ERR_TOO_BIG; not UTF-8 -> SB_ERR_INVALID. */
sb_status sb_eng_check_str(const char *s, size_t max, bool required);
/* Digits only, 3..20 of them after dropping + ( ) - . and spaces. */
sb_status sb_eng_phone_norm(const char *in, char out[24]);
/* Lowercased, one '@' with text on both sides, no spaces, <= 254. */
sb_status sb_eng_email_norm(const char *in, char out[256]);
/* A copy of at most max bytes in which every byte that is not part of a
 * whole UTF-8 character became '?'. NULL for NULL or no memory. */
char *sb_eng_sanitize(const char *s, size_t max);
/* a "\0" b ["\0" c] into buf; 0 when over cap. */
size_t sb_eng_key_join(unsigned char *buf, size_t cap, const char *a,
                       const char *b, const char *c);

/* ---- events.c ---------------------------------------------------------- */
/* A new event object {"type": type}; add fields, then emit (which steals
 * it, also on error). Emit appends it to the durable log in the current
 * batch and dispatches it to subscribers after the commit. */
json_t *sb_eng_event_new(const char *type);
sb_status sb_eng_emit(sb_engine *e, json_t *ev);
/* Like sb_eng_emit, after the commit, but never in the durable log (seq 0):
 * for what must not outlive the moment (the accounts of an erased client). */
sb_status sb_eng_emit_unlogged(sb_engine *e, json_t *ev);
/* Delivers ev (taken) to subscribers now, with seq 0, without the log:
 * for what is not worth keeping (typing). */
sb_status sb_eng_emit_transient(sb_engine *e, json_t *ev);
/* Emits {"type": type, key: val}; steals val (NULL -> SB_ERR_NOMEM). */
sb_status sb_eng_emit_obj(sb_engine *e, const char *type, const char *key, json_t *val);
void sb_eng_subs_free(sb_engine *e);

/* ---- json_out.c -------------------------------------------------------- */
/* An attribute value starting with this byte is a JSON number or boolean
 * (its text follows); any other value is a string. */
#define SB_ENG_TYPED '\x01'
/* The value of an attribute as JSON (typed or string). */
json_t *sb_eng_json_attr(const char *v);
json_t *sb_eng_json_id(uint64_t id);    /* "123", or null for 0 */
json_t *sb_eng_json_time(int64_t ms);   /* RFC 3339 UTC with ms, null for 0 */
json_t *sb_eng_json_str(const char *s); /* null for NULL */
json_t *sb_eng_msg_json(const sb_eng_msg *m);
/* With queue_position from the routing state. */
json_t *sb_eng_conv_json(sb_engine *e, const sb_eng_conv *c);
json_t *sb_eng_client_json(const sb_eng_client *c);
/* {"items": items, "next_cursor": id or null}; steals items. */
json_t *sb_eng_page_json(json_t *items, uint64_t next_cursor);
/* A list call's end: s == SB_OK: *out = the page's text (as
 * sb_eng_json_take); otherwise s, items released. Steals items. */
sb_status sb_eng_page_out(sb_status s, json_t *items, uint64_t next_cursor, char **out);
/* A list's page size: 0 asks for the default (50); capped at 500 so one
 * call's work stays bounded. */
size_t sb_eng_page_limit(size_t asked);
/* id_page.c: a page of table t (a TB_* keyed by u64 id) from the id after
 * cursor (NULL/"": the first; not an id: SB_ERR_INVALID), at most limit
 * records (0: 50, capped at 500) scanned; *out = sb_eng_page_json text,
 * with next_cursor when the page is full. item builds a record's JSON, NULL
 * to leave the record out (gone, undecodable, no memory). */
typedef json_t *(*sb_eng_page_item_fn)(sb_engine *e, uint64_t id, const void *val, size_t vlen);
sb_status sb_eng_id_page(sb_engine *e, int t, const char *cursor, size_t limit,
                         sb_eng_page_item_fn item, char **out);
/* ---- json_write.c: the same shapes written straight into text ---------- */
typedef struct sb_eng_jw {
    char *p;      /* malloc'ed, NUL-terminated; the caller takes it */
    size_t n, cap;
    bool oom;     /* an allocation failed: the text is incomplete */
} sb_eng_jw;
void sb_eng_jw_raw(sb_eng_jw *w, const char *s, size_t n);
void sb_eng_jw_str(sb_eng_jw *w, const char *s);  /* escaped, null for NULL */
void sb_eng_jw_id(sb_eng_jw *w, uint64_t id);      /* "123", null for 0 */
void sb_eng_jw_time(sb_eng_jw *w, int64_t ms);
/* Exactly json_dumps(sb_eng_msg_json(m), JSON_COMPACT). */
void sb_eng_jw_msg(sb_eng_jw *w, const sb_eng_msg *m);

/* Compact text into *out (malloc'ed), decrefs j. SB_ERR_NOMEM on NULL j. */
sb_status sb_eng_json_take(json_t *j, char **out);

/* ---- clients.c --------------------------------------------------------- */
/* Finds or creates the client of an inbound message (identity, then phone,
 * then e-mail) and applies what it tells (name, phone, e-mail, reachable
 * again). Writes index keys; the record itself is written by
 * sb_eng_client_commit (the conversation may change it too). phone/email:
 * normalized, or NULL. */
/* The client of a channel account, without creating one: SB_ERR_NOT_FOUND.
 * With external_id NULL, the client a contact key names: (kind, value),
 * e.g. ("phone", "+49..."). SB_ERR_TOO_BIG: key too long; SB_ERR_IO: the
 * stored value is not a client id. */
sb_status sb_eng_client_find(sb_engine *e, const char *plugin, const char *instance,
                             const char *external_id, uint64_t *cid);
/* Points the identity key (as for sb_eng_client_find) at client cid,
 * whatever it named before. SB_ERR_TOO_BIG: key too long. */
sb_status sb_eng_ident_put(sb_engine *e, const char *a, const char *b, const char *c, uint64_t cid);
sb_status sb_eng_client_resolve(sb_engine *e, const char *plugin, const char *instance,
                                const sb_inbound *in, const char *phone,
                                const char *email, int64_t now, sb_eng_client *c);
/* Saves a created/dirty client and emits client.created / client.updated. */
sb_status sb_eng_client_commit(sb_engine *e, sb_eng_client *c);
sb_status sb_eng_client_set_unreachable(sb_engine *e, uint64_t client_id,
                                        const char *plugin, const char *instance,
                                        const char *external_id);

/* ---- conversations.c --------------------------------------------------- */
/* The client's open conversation (moved to this channel when the client
 * writes from another one), its just-closed one when button_id answers a
 * rating request, or a new one, "queued" or "bot" when the channel
 * instance names a bot (c->open_conv set). */
sb_status sb_eng_conv_for_inbound(sb_engine *e, sb_eng_client *c, const char *plugin,
                                  const char *instance, const char *external_id,
                                  const char *button_id, int64_t now, sb_eng_conv *conv);
/* Saves a created/dirty conversation, emits conversation.created/updated. */
sb_status sb_eng_conv_commit(sb_engine *e, sb_eng_conv *conv);

/* ---- messages.c -------------------------------------------------------- */
/* Stores a new message with its history and external-reference keys,
 * emits message.created, then writes the msg_index key last: a message
 * whose index exists was stored whole. */
sb_status sb_eng_msg_create(sb_engine *e, const sb_eng_msg *m);
/* Looks the conversation of a message up: SB_ERR_NOT_FOUND. */
sb_status sb_eng_msg_locate(sb_engine *e, uint64_t msg_id, uint64_t *conv_id);
/* Emits {"type": type, "conversation_id", "message"}. */
sb_status sb_eng_emit_message(sb_engine *e, const char *type, const sb_eng_msg *m);

/* ---- outbox.c: entries and outcomes ------------------------------------ */
/* Queues a stored outbound message for its channel instance, due now. */
sb_status sb_eng_outbox_enqueue(sb_engine *e, const sb_eng_msg *m,
                                const char *external_id);
/* The instance's state, created on first sight; NULL on no memory. */
sb_eng_inst *sb_eng_outbox_inst(sb_engine *e, const char *plugin, const char *instance);
/* Moves an entry's outbox_due key from `from` to `to` (either < 0: none). */
sb_status sb_eng_outbox_due_move(sb_engine *e, int64_t from, int64_t to, uint64_t msg_id);
typedef enum { SB_FAIL_TRANSIENT, SB_FAIL_PERMANENT, SB_FAIL_UNREACHABLE } sb_eng_fail_kind;
/* A send did not succeed: retried after max(retry_after, backoff) while
 * transient and attempts remain, else delivery "failed" and removed.
 * error is copied into the stored records. */
sb_status sb_eng_outbox_fail(sb_engine *e, sb_eng_outbox_rec *o, sb_eng_inst *in,
                             sb_eng_fail_kind kind, const char *error,
                             uint64_t retry_after, int64_t now);
/* Removes an entry: record, schedule key, pending count. */
sb_status sb_eng_outbox_drop(sb_engine *e, const sb_eng_outbox_rec *o);
void sb_eng_outbox_free(sb_engine *e);

/* ---- outbox_pump.c: the schedule --------------------------------------- */
void sb_eng_outbox_init(sb_engine *e);  /* at sb_engine_new */
void sb_eng_outbox_start(sb_engine *e); /* at sb_engine_start */
/* Makes the timer fire at `at` (ms) at the latest; no-op before start. */
void sb_eng_outbox_arm(sb_engine *e, int64_t at);

#endif
