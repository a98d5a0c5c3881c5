/* Internal to core/engine: the engine's stored records as C structs, and
 * their codecs (store/record.h versioned arrays; new fields are appended,
 * never moved). Loop thread only.
 *
 * Ownership: a loaded record owns its strings in its arena (freed by the
 * *_clear function). A record built in memory to be saved may point at
 * borrowed strings; clear still frees only what its arena holds. */
#ifndef SB_ENGINE_RECORDS_H
#define SB_ENGINE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchboard/plugin.h>

typedef struct sb_engine sb_engine;

/* ---- a bump allocator: one per loaded record ------------------------- */
typedef struct sb_eng_chunk sb_eng_chunk;
typedef struct sb_eng_arena { sb_eng_chunk *head; } sb_eng_arena;
void *sb_eng_alloc(sb_eng_arena *a, size_t n);               /* NULL: no memory */
char *sb_eng_strndup(sb_eng_arena *a, const char *s, size_t n); /* NUL-terminated */
void sb_eng_arena_free(sb_eng_arena *a);

/* ---- saving ----------------------------------------------------------
 * Ends the record begun in the engine's writer (e->w) and stages it in the
 * open batch under key in table t (a TB_* of engine/internal.h); _id: under
 * the u64 key id (BE). The store's status. */
sb_status sb_eng_rec_put(sb_engine *e, int t, const void *key, size_t klen);
sb_status sb_eng_rec_put_id(sb_engine *e, int t, uint64_t id);

/* ---- clients: key client_id (u64 BE) -------------------------------- */
typedef struct sb_eng_identity {
    const char *plugin, *instance, *external_id;
    bool unreachable; /* the channel said the client blocked us / left */
} sb_eng_identity;

typedef struct sb_eng_client {
    sb_eng_arena arena;
    uint64_t id;
    int64_t created_at;
    const char *name, *phone, *email; /* NULL when unknown */
    const char *const *attr_keys, *const *attr_vals;
    size_t n_attrs;
    const char *const *tags;
    size_t n_tags;
    uint64_t open_conv; /* the latest conversation, 0 = none */
    sb_eng_identity *ids;
    size_t n_ids;

    bool created, dirty; /* not stored: what the caller must write */
} sb_eng_client;

/* ---- conversations: key conv_id ------------------------------------- */
typedef struct sb_eng_conv {
    sb_eng_arena arena;
    uint64_t id, client_id;
    /* the channel identity replies go to: where the client last wrote */
    const char *plugin, *instance, *external_id;
    const char *status; /* "bot" | "queued" | "assigned" | "closed" */
    uint64_t group_id, operator_id; /* 0 = none */
    int64_t created_at, assigned_at, first_response_at, closed_at; /* 0 = not yet */
    const char *const *tags;
    size_t n_tags;
    const char *const *attr_keys, *const *attr_vals;
    size_t n_attrs;
    int64_t rating; /* 0 = none */
    /* version 2: routing */
    const char *group;       /* group id, NULL = none (group_id above is unused) */
    int64_t priority;        /* 0..9 */
    int64_t queued_at;       /* the queue's order: now, or created_at when requeued */
    uint64_t target_op;      /* queued for this operator, 0 = the group's queue */
    int64_t waiting_since;   /* the client's first message without an operator reply */
    int64_t last_activity;   /* last message either way (auto-close) */
    uint64_t notified_pos;   /* the queue position last told to the client */
    uint64_t sticky_op;      /* the client's previous operator */
    /* version 3: bots */
    const char *bot;         /* "plugin/instance" of the bot that met it, NULL = none */
    /* not stored: the indexed values as loaded (conv_index.c) */
    struct { const char *status, *group; uint64_t op, client; bool valid; } was;
    bool created, dirty;
} sb_eng_conv;

/* ---- messages: key conv_id || msg_id --------------------------------- */
typedef struct sb_eng_msg {
    sb_eng_arena arena;
    uint64_t id, conv_id, client_id;
    const char *plugin, *instance; /* the channel it came from / goes to */
    const char *direction;         /* "in" | "out" */
    const char *author_kind, *author_id;
    const char *type;              /* "text" | "buttons" | "media" | "event" */
    const char *text, *button_id;
    const sb_button *buttons;
    size_t n_buttons;
    const sb_attachment *atts;
    size_t n_atts;
    int64_t created_at, sent_at;   /* stored / the channel's own time */
    const char *delivery_status;   /* outbound: "pending" | "sent" | "failed" */
    const char *delivery_error, *remote_id;
    const char *event;             /* type "event": "edit" | "contact" */
    uint64_t edit_of;              /* "edit": the edited message, 0 = unknown */
    const char *ext_ref;           /* inbound: the channel's dedup key */
} sb_eng_msg;

/* ---- outbox: key msg_id ---------------------------------------------- */
enum { SB_OB_PENDING = 0, SB_OB_HELD = 1, SB_OB_SENDING = 2 };
typedef struct sb_eng_outbox_rec {
    sb_eng_arena arena;
    uint64_t msg_id, conv_id;
    const char *plugin, *instance, *external_id; /* the recipient */
    uint32_t attempt;   /* sends started so far */
    int64_t next_at;    /* its key in outbox_due: when to act next */
    int state;          /* SB_OB_*: waiting / holding a rate slot / in flight */
    uint64_t op;        /* SENDING: the op handed to the channel */
    const char *last_error;
    int64_t created_at;
} sb_eng_outbox_rec;

/* Load: SB_ERR_NOT_FOUND, SB_ERR_IO (undecodable), SB_ERR_NOMEM. Save: the
 * store's write status. id / msg_id / conv_id must be set before saving. */
sb_status sb_eng_client_load(sb_engine *e, uint64_t id, sb_eng_client *c);
sb_status sb_eng_client_save(sb_engine *e, const sb_eng_client *c);
void sb_eng_client_clear(sb_eng_client *c);

sb_status sb_eng_conv_load(sb_engine *e, uint64_t id, sb_eng_conv *c);
sb_status sb_eng_conv_save(sb_engine *e, const sb_eng_conv *c);
void sb_eng_conv_clear(sb_eng_conv *c);

sb_status sb_eng_msg_load(sb_engine *e, uint64_t conv_id, uint64_t id, sb_eng_msg *m);
sb_status sb_eng_msg_save(sb_engine *e, const sb_eng_msg *m);
void sb_eng_msg_clear(sb_eng_msg *m);

sb_status sb_eng_outbox_load(sb_engine *e, uint64_t msg_id, sb_eng_outbox_rec *o);
sb_status sb_eng_outbox_save(sb_engine *e, const sb_eng_outbox_rec *o);
void sb_eng_outbox_clear(sb_eng_outbox_rec *o);

#endif
