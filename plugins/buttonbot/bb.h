/* The button bot: shared state of one instance and the functions the
 * plugin's files offer each other. Everything runs on the loop thread. */
#ifndef BB_H
#define BB_H

#include <jansson.h>
#include <switchboard/plugin.h>

#include "scenario.h"
#include "template.h"

#define BB_MAX_VALUE 1024       /* an answer to an ask step, an extracted value */
#define BB_MAX_VARS 64          /* values the bot set, per conversation */
#define BB_MAX_AUTO_STEPS 64    /* steps run for one event without waiting */
#define BB_MAX_LIMITS 16        /* menu_limits entries */
#define BB_MAX_SECRETS 32
#define BB_MAX_WORDS 16         /* operator_words */
#define BB_API_MAX_RESPONSE (256 << 10)

typedef struct {
    const char *channel;
    int64_t max_buttons;        /* 0: no buttons, a numbered text menu */
} bb_limit;

typedef struct {
    const char *name;
    const char *value;          /* never logged */
} bb_secret;

/* Texts the bot says itself; every one configurable under `texts:`. */
typedef struct {
    const char *operator_title, *reprompt, *number_hint, *ask_failed, *api_error,
        *handoff, *textbot_prompt, *textbot_none, *textbot_error;
} bb_texts;

typedef struct bb_conv bb_conv;

typedef struct bb_state {
    const sb_host *host;
    sb_ctx *ctx;
    /* config (strings owned by the host until reload/destroy) */
    const char *scenario_path, *start_override;
    bb_texts texts;
    bb_limit limits[BB_MAX_LIMITS];
    size_t n_limits;
    bb_secret secrets[BB_MAX_SECRETS];
    size_t n_secrets;
    const char *tb_url, *tb_token, *tb_kb;   /* textbot; tb_url NULL = none */
    const char *words[BB_MAX_WORDS];          /* typed, they call the operator */
    size_t n_words;
    int64_t max_conversations;
    /* scenarios: the file's, and the one in use (the file's or the API's) */
    bb_scenario *file_sc;
    bb_scenario *sc;
    int sc_from_api;
    /* conversations */
    bb_conv **buckets;
    size_t n_buckets, n_convs;
    bb_conv *lru_head, *lru_tail;   /* head = most recent */
    bb_conv *dead;                  /* dropped, freed by bb_convs_reap */
    int stopping;
} bb_state;

struct bb_conv {
    char id[96];
    char channel[40];
    bb_state *s;
    bb_scenario *sc;            /* referenced: a new scenario starts new ones only */
    int step;                   /* current step index in sc */
    int reasks;
    int tries;                  /* attempts of the running API call */
    uint64_t call_id;           /* API or KB call in flight, 0 = none */
    json_t *vars;               /* {"client.phone": "+7..."}: what the bot set */
    int dead;                   /* dropped: valid until the next reap */
    bb_conv *hnext, *prev, *next;
};

/* --- conv.c: the bounded table, persisted per conversation in kv "c:<id>" */
int bb_convs_init(bb_state *s);
/* Finds a conversation in memory or kv; NULL when unknown. */
bb_conv *bb_conv_find(bb_state *s, const char *id);
/* A fresh conversation at the current scenario's start (drops any old one). */
bb_conv *bb_conv_new(bb_state *s, const char *id, const char *channel);
/* Persists step, re-asks and values (kv_put; errors logged). */
void bb_conv_save(bb_conv *c);
/* Forgets it in memory and kv; cancels a call in flight. The struct stays
 * readable (c->dead set) until bb_convs_reap, which every callback entry
 * calls first, so code after a hand-off may still test c->dead. */
void bb_conv_drop(bb_conv *c);
void bb_convs_reap(bb_state *s);
void bb_convs_free(bb_state *s);
/* Subscribed to "conversation.": drops state once operators hold it. */
void bb_conv_on_event(void *ud, const sb_event *ev);

/* --- run.c: steps ------------------------------------------------------ */
/* The descriptor's bot_event. */
sb_status bb_bot_event(void *state, const sb_bot_event *ev);
/* Runs steps from `ix` until one waits or ends; `input` is typed text a
 * textbot/ask step may take at once (menu fallback). Returns an error only
 * when nothing could be said (the core then hands off). */
sb_status bb_enter(bb_conv *c, int ix, const char *input);
/* Apologises (text, may be NULL for the default) and hands to operators. */
sb_status bb_handoff_error(bb_conv *c, const char *text, const char *reason);
/* Renders a template against the conversation (new string, caller frees). */
char *bb_render(bb_conv *c, const char *t, bb_escape esc);
/* Sets "client.x"/"conversation.x" = value through the host and in vars. */
sb_status bb_set_value(bb_conv *c, const char *attr, const char *value);

/* --- menu.c: buttons per channel ---------------------------------------- */
typedef struct {
    const char *title;
    char id[300];
} bb_choice;
/* Sends text with choices (the operator's added last), as buttons or as a
 * numbered text menu, per the channel's limit. */
sb_status bb_send_menu(bb_conv *c, const char *text, const bb_choice *ch, size_t n);
/* The choice a typed text picks: "2" or a title; -1 when none. */
int bb_pick(const char *text, const bb_choice *ch, size_t n);
/* 1 when typed text asks for a person: it holds one of the operator words
 * ("позовите оператора"), compared without case (Latin and Cyrillic). */
int bb_wants_operator(const bb_state *s, const char *text);
/* The choices of menu step st, with the operator button last; returns n. */
size_t bb_menu_choices(bb_conv *c, const bb_step *st, bb_choice *out);

/* --- validate.c ---------------------------------------------------------- */
/* Checks (and normalises) an answer: 0 and the value in out, or -1. */
int bb_validate(const bb_step *st, const char *in, char *out, size_t cap);

/* --- jpath.c ------------------------------------------------------------- */
/* Follows "data.orders[0].status" from root; NULL when absent or the path
 * is malformed. Borrowed from root. */
json_t *bb_jpath(json_t *root, const char *path);
/* Checks a path's syntax: 0 or -1. */
int bb_jpath_check(const char *path);
/* A JSON value as text for an attribute (new string): strings as they are,
 * numbers and booleans printed, null "", others compact JSON; cut at
 * BB_MAX_VALUE. */
char *bb_json_text(const json_t *v);

/* --- call.c: the API step and the text bot's KB calls -------------------- */
sb_status bb_api_start(bb_conv *c);
/* Searches the KB with `query` and shows the top articles as buttons. */
sb_status bb_kb_search(bb_conv *c, const char *query);
/* Shows article `id` of the KB, then goes on to the step's next. */
sb_status bb_kb_article(bb_conv *c, const char *id);

/* --- routes.c: GET/PUT/DELETE /api/v1/bots/buttonbot/<instance>/scenarios */
sb_status bb_routes_register(bb_state *s);
/* Parses a scenario and checks it against this instance (secrets, text
 * bot); NULL with errors. */
bb_scenario *bb_load(bb_state *s, const char *source, const char *text, size_t len,
                     bb_errors *err);
/* Makes sc the scenario of new conversations (takes the reference). */
void bb_use(bb_state *s, bb_scenario *sc, int from_api);

#endif
