/* Internal to core/engine: routing state shared by its files (included by
 * internal.h). Loop thread only.
 *
 * In memory, rebuilt from the store at sb_engine_new:
 *   - every group (sorted by id) with its queue (a treap keyed by
 *     (9 - priority, queued_at, conv id), so rank = queue position) and its
 *     set of available operators (a treap keyed by the strategy: least_busy
 *     and skills (load, last_assigned_at, id); longest_idle
 *     (last_assigned_at, id); round_robin and manual (id)); for the skills
 *     strategy also, per skill and level 0..10, a treap keyed like
 *     least_busy;
 *   - every operator (load, status, groups, skills), with the conversations
 *     assigned to it and those queued for it;
 *   - every open conversation's routing fields;
 *   - one timer treap (due, kind, id) behind one ev_timer.
 * "Available in group g" = online and load < min(max_conversations,
 * g.max_per_operator); only available operators are in g's sets, so a pick
 * is the first element: O(log n). */
#ifndef SB_ENGINE_ROUTE_INTERNAL_H
#define SB_ENGINE_ROUTE_INTERNAL_H

#include <stdarg.h>

/* ---- tree.c: order-statistic treap ----------------------------------- */
typedef struct sb_eng_tnode {
    struct sb_eng_tnode *l, *r;
    uint64_t k[3];           /* compared in order; unique per tree */
    int64_t aux, aux_min;    /* aux_min: minimum aux in the subtree */
    uint32_t pri, size;
    bool in;                 /* in a tree now */
} sb_eng_tnode;
typedef struct sb_eng_tree { sb_eng_tnode *root; } sb_eng_tree;
/* Insert: no-op when n->in. Remove: by n's key; no-op when !n->in. */
void sb_eng_tree_insert(sb_eng_tree *t, sb_eng_tnode *n);
void sb_eng_tree_remove(sb_eng_tree *t, sb_eng_tnode *n);
sb_eng_tnode *sb_eng_tree_first(const sb_eng_tree *t);
sb_eng_tnode *sb_eng_tree_at(const sb_eng_tree *t, size_t i);       /* 0-based */
size_t sb_eng_tree_rank(const sb_eng_tree *t, const sb_eng_tnode *n); /* keys before n */
sb_eng_tnode *sb_eng_tree_after(const sb_eng_tree *t, const uint64_t k[3]);
size_t sb_eng_tree_size(const sb_eng_tree *t);
int64_t sb_eng_tree_aux_min(const sb_eng_tree *t); /* INT64_MAX when empty */
#define SB_ENG_CONTAINER(p, type, member) \
    ((type *)(void *)((char *)(p) - offsetof(type, member)))

/* ---- the routing model -------------------------------------------------- */
enum { RT_LEAST_BUSY, RT_ROUND_ROBIN, RT_LONGEST_IDLE, RT_SKILLS, RT_MANUAL, RT_N_STRAT };
enum { OP_OFFLINE, OP_AWAY, OP_ONLINE };
enum { RC_QUEUED, RC_ASSIGNED, RC_BOT };
enum { TM_CONV = 1, TM_GRACE = 2 };
#define RT_LEVELS 11
#define RT_MAX_SKILLS 32
#define RT_MAX_GROUPS_PER_OP 64
#define RT_ID_MAX 64

typedef struct rt_skillset {
    char *name;
    sb_eng_tree lv[RT_LEVELS];
} rt_skillset;

typedef struct rt_group rt_group;
typedef struct rt_op rt_op;

struct rt_group {
    /* stored (groups table) */
    char *id, *name;
    int strategy;
    uint32_t max_per_op;
    int64_t reassign_after, close_after, created_at;
    char *close_msg, *queue_msg, *offline_msg;
    char *hours_json;                /* NULL = always open */
    bool has_hours;
    int32_t utc_off_min;
    int16_t open_min[7], close_min[7]; /* per weekday (0 = Monday); -1 closed */
    char *req_skill;                 /* NULL = none */
    int req_level;
    char *bot;                       /* "plugin/instance" meeting its new conversations */
    /* in memory */
    sb_eng_tree queue, avail;
    rt_skillset *sk;
    size_t n_sk;
    uint64_t rr_last;                /* round robin: the last operator picked */
    rt_op **members;
    size_t n_members, cap_members;
    uint32_t online;                 /* members online */
    uint32_t open;                   /* open conversations naming it */
    uint64_t slots;                  /* sum of online members' limits */
    /* stats (group_stats table) */
    double aht_ms, iat_ms;           /* EWMA handle time, inter-arrival time */
    uint32_t aht_n, iat_n;
    int64_t last_arrival;
    /* queue.stats emission */
    bool kicked, stats_dirty;
    int64_t em_waiting, em_head, em_online;
};

typedef struct rt_member {
    rt_group *g;
    rt_op *op;
    sb_eng_tnode node;               /* in g->avail */
    sb_eng_tnode *sk_nodes;          /* one per operator skill (skills groups) */
    size_t n_sk;
    uint32_t slot;                   /* what it adds to g->slots now */
} rt_member;

struct rt_op {
    uint64_t id;
    char *login, *name, *role, *hash;
    int status;
    uint32_t max, load;
    int64_t last_assigned_at, status_since, created_at;
    char **group_ids;
    size_t n_groups;
    char **skill_names;
    uint8_t *skill_lv;
    size_t n_skills;
    rt_member *mem;                  /* the groups that exist */
    size_t n_mem;
    sb_eng_tree personal;            /* conversations queued for it */
    sb_eng_tree convs;               /* conversations assigned to it */
    sb_eng_tnode grace;              /* timer: offline grace */
    size_t list_idx;                 /* in rt.op_list */
    bool kicked;
};

typedef struct rt_conv {
    uint64_t id, client_id;
    int state;
    rt_group *g;                     /* NULL: no such group */
    char *group_id;                  /* as stored */
    uint64_t op, target_op;
    int prio;
    int64_t created_at, queued_at, assigned_at, waiting_since, last_activity;
    uint32_t notified_pos;
    int64_t reassign_checked;        /* no one else was free then (not stored) */
    bool recheck;                    /* on rt.recheck: its position may be news */
    char *skill;                     /* attributes "skill" / "skill_level" */
    int skill_level;
    sb_eng_tnode qnode;              /* group queue or target's personal queue */
    sb_eng_tnode onode;              /* operator's convs */
    sb_eng_tnode tnode;              /* timer */
} rt_conv;

/* What config says of a channel instance: its group and its bot. */
typedef struct rt_inst_group {
    char *plugin, *instance, *group, *bot;
} rt_inst_group;

typedef struct sb_eng_rt {
    rt_group **groups;               /* sorted by id */
    size_t n_groups;
    sb_idmap ops, convs;         /* id -> rt_op* / rt_conv* */
    rt_op **op_list;                 /* every operator, unsorted */
    size_t n_ops, cap_ops;
    char *default_group;
    rt_inst_group *inst;
    size_t n_inst;
    sb_eng_tree timers;
    ev_timer timer;
    int64_t timer_at;
    rt_op **kick_ops;
    size_t n_kick_ops, cap_kick_ops;
    rt_group **kick_groups;
    size_t n_kick_groups, cap_kick_groups;
    rt_group **dirty;                /* groups whose queue.stats may change */
    size_t n_dirty, cap_dirty;
    uint64_t *recheck;               /* queued conversations to tell their position */
    size_t n_recheck, cap_recheck;
    int settling;
} sb_eng_rt;

/* ---- routing.c: state, rebuild, the core moves ------------------------ */
sb_status sb_eng_rt_init(sb_engine *e);  /* at sb_engine_new: rebuild */
void sb_eng_rt_start(sb_engine *e);      /* at sb_engine_start: timers */
void sb_eng_rt_free(sb_engine *e);
/* Before a group is freed: off every work list. */
void sb_eng_rt_group_gone(sb_engine *e, rt_group *g);
rt_group *sb_eng_rt_group(sb_engine *e, const char *id);
rt_op *sb_eng_rt_op(sb_engine *e, uint64_t id);
rt_conv *sb_eng_rt_conv(sb_engine *e, uint64_t id);
/* Registers/forgets an open conversation from its record. */
sb_status sb_eng_rt_conv_track(sb_engine *e, const sb_eng_conv *c, rt_conv **out);
void sb_eng_rt_conv_forget(sb_engine *e, rt_conv *rc);
/* Takes the conversation's skill requirement from its attributes. */
sb_status sb_eng_rt_conv_skill(sb_engine *e, rt_conv *rc, const sb_eng_conv *c);
/* The limit of op in g (g may be NULL: the operator's own). */
uint32_t sb_eng_rt_limit(const rt_op *op, const rt_group *g);
/* Work to do before the public call returns: drains and queue.stats. */
void sb_eng_rt_kick_op(sb_engine *e, rt_op *op);
void sb_eng_rt_kick_group(sb_engine *e, rt_group *g);
/* Its queue.stats may have changed (online: so may the online count). */
void sb_eng_rt_touch(sb_engine *e, rt_group *g, bool online);
void sb_eng_rt_settle(sb_engine *e);

/* Routes a new or requeued conversation (loaded in c, tracked as rc):
 * sticky operator, then the group's strategy, else its queue. */
sb_status sb_eng_rt_route(sb_engine *e, sb_eng_conv *c, rt_conv *rc, uint64_t sticky);
/* Assigns rc to op (c loaded): leaves its queue or previous operator,
 * loads, timers, stores c, emits conversation.assigned with reason/by
 * and prev operator. */
sb_status sb_eng_rt_assign(sb_engine *e, sb_eng_conv *c, rt_conv *rc, rt_op *op,
                           const char *reason, const char *by);
/* Puts rc in the queue of its group (or of target operator), leaving its
 * operator; announces the position to the client (announce) and emits
 * conversation.queued. */
sb_status sb_eng_rt_enqueue(sb_engine *e, sb_eng_conv *c, rt_conv *rc, uint64_t target_op,
                            bool announce);
/* Takes rc off its queue (announcing new positions behind it) or its
 * operator. */
/* Moves rc into group g: the groups' open counts and rc's group id. */
sb_status sb_eng_rt_set_group(rt_conv *rc, rt_group *g);
sb_status sb_eng_rt_detach(sb_engine *e, rt_conv *rc);
/* Requeues every conversation assigned to op (and, with personal_too,
 * those queued for it go to their group's queue). */
sb_status sb_eng_rt_release_op(sb_engine *e, rt_op *op, bool personal_too);
/* Closes an open conversation (c loaded): close_message first for idle. */
sb_status sb_eng_rt_close(sb_engine *e, sb_eng_conv *c, const char *by, const char *reason);
/* Copies rc's routing fields into c before a save. */
void sb_eng_rt_to_record(const rt_conv *rc, sb_eng_conv *c);
/* Hooks: an inbound message stored in conv (client c); a reply stored. */
sb_status sb_eng_rt_on_inbound(sb_engine *e, sb_eng_client *cl, sb_eng_conv *conv,
                               const sb_eng_msg *m, uint64_t sticky);
sb_status sb_eng_rt_on_reply(sb_engine *e, sb_eng_conv *conv, const sb_eng_msg *m);
/* The group id a channel instance routes to (never NULL; may be ""). */
const char *sb_eng_rt_instance_group(sb_engine *e, const char *plugin, const char *instance);
/* The settings entry of a channel instance: _find gives NULL when there is
 * none, _entry adds one (NULL: no memory). */
rt_inst_group *sb_eng_rt_inst_find(sb_engine *e, const char *plugin, const char *instance);
rt_inst_group *sb_eng_rt_inst_entry(sb_engine *e, const char *plugin, const char *instance);

/* ---- bots.c ------------------------------------------------------------- */
/* The bot ("plugin/instance") meeting new conversations of a channel
 * instance: the instance's own, else its group's; NULL for none. */
const char *sb_eng_bot_of(sb_engine *e, const char *plugin, const char *instance);
/* Emits bot.input for a client message m in a conversation a bot holds. */
sb_status sb_eng_bot_input(sb_engine *e, const sb_eng_conv *c, const sb_eng_msg *m, bool start);
/* 1..5 when button_id is a rating answer ("sb:rate:N"), else 0. */
int sb_eng_rating_of(const char *button_id);

/* ---- strategies.c: available operators ------------------------------- */
/* Re-files op in every set of its groups after a change of status, load,
 * last_assigned_at, limits or skills; keeps the groups' slot sums. */
void sb_eng_rt_reindex_op(sb_engine *e, rt_op *op);
/* Takes op out of every set (before a change of its groups or skills)
 * and its slots out of the sums. */
void sb_eng_rt_unindex_op(sb_engine *e, rt_op *op);
/* The operator the group's strategy picks for rc (not `exclude`), or NULL.
 * Manual groups never pick. */
rt_op *sb_eng_rt_pick(sb_engine *e, rt_group *g, const rt_conv *rc, uint64_t exclude);
bool sb_eng_rt_available(const rt_op *op, const rt_group *g);
void sb_eng_rt_group_sets_free(rt_group *g);
int sb_eng_rt_strategy(const char *s); /* -1 unknown */
const char *sb_eng_rt_strategy_name(int s);

/* ---- queue.c: positions, announcements, stats -------------------------- */
void sb_eng_rt_queue_key(rt_conv *rc);
/* 1-based position of a queued conversation, 0 when not queued. */
size_t sb_eng_rt_position(sb_engine *e, const rt_conv *rc);
sb_eng_tree *sb_eng_rt_queue_of(sb_engine *e, const rt_conv *rc);
/* Removes rc from its queue; those behind it that reached a milestone are
 * looked at again by sb_eng_rt_announce_moves (at settle). */
sb_status sb_eng_rt_dequeue(sb_engine *e, rt_conv *rc);
/* Tells each looked-at conversation its position when it moved materially
 * since the last one told (halved, or 3 places within the first 10). */
void sb_eng_rt_announce_moves(sb_engine *e);
/* Tells the client its position (or that nobody is there / out of hours). */
sb_status sb_eng_rt_announce(sb_engine *e, rt_conv *rc, size_t pos);
/* The same into a loaded record the caller stores. */
sb_status sb_eng_rt_announce_in(sb_engine *e, sb_eng_conv *c, rt_conv *rc, size_t pos);
void sb_eng_rt_stats_emit(sb_engine *e);
json_t *sb_eng_rt_stats_json(sb_engine *e, rt_group *g);

/* ---- estimate.c: wait estimates and group statistics ------------------- */
/* Estimated wait in ms for position pos (1-based) in g. */
int64_t sb_eng_rt_estimate(sb_engine *e, const rt_group *g, size_t pos);
double sb_eng_erlang_c(unsigned servers, double traffic);
sb_status sb_eng_rt_note_arrival(sb_engine *e, rt_group *g, int64_t now);
sb_status sb_eng_rt_note_handled(sb_engine *e, rt_group *g, int64_t ms);
sb_status sb_eng_rt_stats_load(sb_engine *e, rt_group *g);
/* hours: whether g is open at `now` (ms); true without business hours. */
bool sb_eng_rt_open_at(const rt_group *g, int64_t now);
/* Parses a business_hours object into g; err names the member. */
sb_status sb_eng_rt_hours_parse(json_t *h, rt_group *g, char *err, size_t errlen);

/* ---- timers.c ------------------------------------------------------------ */
void sb_eng_rt_conv_rearm(sb_engine *e, rt_conv *rc);
void sb_eng_rt_grace_arm(sb_engine *e, rt_op *op);
void sb_eng_rt_timer_sync(sb_engine *e);
void sb_eng_rt_timers_init(sb_engine *e);

/* ---- notes.c: system messages in a conversation ------------------------ */
/* An outbound system text to the client (through the outbox) when
 * to_client, else a history-only event message (type "event", `event`). */
sb_status sb_eng_system_message(sb_engine *e, const sb_eng_conv *c, const char *text,
                                bool to_client, const char *event);

/* ---- groups.c / operators.c ---------------------------------------------- */
sb_status sb_eng_groups_load(sb_engine *e);
void sb_eng_group_free(rt_group *g);
json_t *sb_eng_group_json(sb_engine *e, const rt_group *g);
sb_status sb_eng_ops_load(sb_engine *e);
void sb_eng_op_free(rt_op *op);
json_t *sb_eng_op_json(const rt_op *op);
sb_status sb_eng_op_save(sb_engine *e, const rt_op *op);
/* Resolves op's group ids into memberships (after groups change). */
sb_status sb_eng_op_resolve(sb_engine *e, rt_op *op);
const char *sb_eng_op_status_name(int s);

/* ---- conv_index.c: list indexes --------------------------------------- */
/* Updates the conv_idx keys of c from what was stored (c->was) to now. */
sb_status sb_eng_conv_index(sb_engine *e, sb_eng_conv *c);
/* Saves c with its indexes (no event). */
sb_status sb_eng_conv_store(sb_engine *e, sb_eng_conv *c);
/* Saves and emits {"type", "conversation", extra members...}; steals extra
 * (may be NULL). */
sb_status sb_eng_conv_emit(sb_engine *e, sb_eng_conv *c, const char *type, json_t *extra);

/* ---- search.c: client search keys ------------------------------------- */
/* Moves a client's search keys from old (NULL: none) to new (NULL: none). */
sb_status sb_eng_search_update(sb_engine *e, const sb_eng_client *old,
                               const sb_eng_client *now);

/* ---- merge.c / audit.c / erase.c ------------------------------------------ */
/* An inbound phone/e-mail names another client than c: merge the two (the
 * older profile stays), reload c as the survivor. */
sb_status sb_eng_auto_merge(sb_engine *e, sb_eng_client *c, const char *phone,
                            const char *email);
typedef struct sb_eng_audit {
    uint64_t id;
    char *kind;                      /* "merge" | "erase" */
    int64_t at, undone_at;
    char *by, *undone_by;
    uint64_t target, source;
    void *snapshot;                  /* merge: the source's stored record */
    size_t snapshot_len;
    uint64_t *convs;                 /* merge: conversations moved */
    size_t n_convs;
    char **attrs_added, **tags_added;/* merge: what the target took over */
    size_t n_attrs, n_tags;
    bool phone_taken, email_taken;
    uint64_t n_conversations, n_messages; /* erase: counts */
} sb_eng_audit;
uint64_t sb_eng_audit_new_id(void);
sb_status sb_eng_audit_save(sb_engine *e, const sb_eng_audit *a);
sb_status sb_eng_audit_load(sb_engine *e, uint64_t id, sb_eng_audit *a);
void sb_eng_audit_clear(sb_eng_audit *a);
json_t *sb_eng_audit_json(const sb_eng_audit *a);
/* audit_client: client | audit -> "" */
sb_status sb_eng_audit_link(sb_engine *e, uint64_t client, uint64_t audit);
/* The ids of a client's conversations (conv_idx 'c'), malloc'ed. */
sb_status sb_eng_client_convs(sb_engine *e, uint64_t client, uint64_t **ids, size_t *n);
/* Moves the history keys (client_msgs) of a conversation's messages from
 * one client to another (to 0: deletes them); *n_msgs counts them. */
sb_status sb_eng_history_move(sb_engine *e, uint64_t conv, uint64_t from, uint64_t to,
                              size_t *n_msgs);
/* Deletes every conv_idx key of c (as stored). */
sb_status sb_eng_conv_unindex(sb_engine *e, const sb_eng_conv *c);

/* ---- conv_actions.c ------------------------------------------------------ */
/* Merges the JSON object p ({k: scalar | null}) into (keys, vals, n):
 * the result is allocated in a. err names `field`. */
sb_status sb_eng_attrs_merge(sb_eng_arena *a, const char *const *keys, const char *const *vals,
                             size_t n, json_t *p, const char *field, const char *const **ok,
                             const char *const **ov, size_t *on, char *err, size_t errlen);

/* ---- jsonin.c: request bodies ------------------------------------------ */
/* Parses an object; NULL with err set otherwise. */
json_t *sb_eng_body(const char *json, size_t len, char *err, size_t errlen);
sb_status sb_eng_bad(char *err, size_t errlen, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* SB_ERR_INVALID naming the first member not in `allowed` (NULL-ended). */
sb_status sb_eng_only(json_t *o, const char *const *allowed, char *err, size_t errlen);
/* A string member: absent -> *out untouched, *set false. null -> NULL
 * when nullable. Length in [min, max] bytes, UTF-8. */
sb_status sb_eng_in_str(json_t *o, const char *key, size_t min, size_t max, bool nullable,
                        const char **out, bool *set, char *err, size_t errlen);
sb_status sb_eng_in_int(json_t *o, const char *key, int64_t min, int64_t max,
                        int64_t *out, bool *set, char *err, size_t errlen);
/* [A-Za-z0-9_-]{1,64} */
bool sb_eng_slug_ok(const char *s);
char *sb_eng_xstrdup(const char *s); /* NULL for NULL (and on no memory) */
char *sb_eng_rd_dup(sb_rec_reader *r, bool *nomem);
/* *out = a malloc'ed copy of n strings (NULL items become ""), NULL when
 * n == 0; on SB_ERR_NOMEM nothing is kept and *out is NULL. */
sb_status sb_eng_strs_dup(const char *const *src, size_t n, char ***out);
void sb_eng_strs_free(char **a, size_t n); /* the strings, then the array */
sb_status sb_eng_set_str(char **dst, const char *src);

#endif
