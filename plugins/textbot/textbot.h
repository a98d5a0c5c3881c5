/* The text bot plugin (issue 8, item 3): shared state and the contracts
 * between its files. Everything here runs on the core's loop thread; no
 * function blocks except the one-time import file read at start().
 *
 *   plugin.c      descriptor, configuration, lifecycle
 *   article.c     article JSON: validation, canonical stored form
 *   kb.c          the knowledge base: index in memory, articles in kv
 *   api.c         REST routes /api/v1/kb/<kb>/...
 *   bot.c         the dialog (bot_event)
 *   conv.c        small per-conversation state (memory + one kv snapshot)
 *   unanswered.c  questions with no good match: a ring persisted in kv
 *   util.c        UTF-8 cuts, times, query strings
 */
#ifndef TEXTBOT_PLUGIN_H
#define TEXTBOT_PLUGIN_H

#include <jansson.h>
#include <stdint.h>
#include <switchboard/plugin.h>

#include "search.h"

#define TBP_KB_NAME_MAX 64        /* kb: [a-z0-9_-]{1,64} */
#define TBP_TITLE_MAX 512         /* bytes */
#define TBP_BODY_MAX 65536        /* bytes */
#define TBP_WORDS_MAX 64          /* keywords and misspellings, each list */
#define TBP_WORD_MAX 256          /* bytes per keyword or misspelling */
#define TBP_BULK_MAX 1000         /* articles per POST */
#define TBP_QUERY_MAX 2048        /* bytes of a search query (API) */
#define TBP_LOGGED_MAX 512        /* bytes of a logged unanswered question */
#define TBP_CONV_ID_MAX 128       /* longer conversation ids keep no state */
#define TBP_CONV_MAX 4096         /* conversations with state in memory */
#define TBP_BUCKETS 64            /* kv manifest of article ids: m/<0..63> */
#define TBP_ANSWERS_MAX 10
#define TBP_TEXT_MAX 4096         /* bytes of a configured text */

/* Button ids (<= 256 bytes, ids are <= 64). */
#define TBP_BTN_ARTICLE "kb:a:"   /* + article id: show it */
#define TBP_BTN_YES "kb:yes:"     /* + article id: it helped */
#define TBP_BTN_NO "kb:no:"       /* + article id: it did not */
#define TBP_BTN_OPERATOR "kb:operator"

typedef struct tbp_texts {
    char *greeting, *choose, *no_match, *not_text, *helped, *yes, *no,
        *operator_button, *thanks, *not_helped, *handoff, *gone;
} tbp_texts;

/* A question the bot could not answer. */
typedef struct tbp_question {
    uint64_t seq;                 /* 0: empty slot; ring slot = seq % cap */
    int64_t at_ms;
    char *text;                   /* cut at TBP_LOGGED_MAX bytes */
    char *conversation_id;
} tbp_question;

typedef struct tbp_conv {
    char id[TBP_CONV_ID_MAX + 1];
    uint32_t fails;               /* failed attempts in a row */
    int64_t last_ms;              /* last event; expires after state_ttl */
} tbp_conv;

typedef struct textbot {
    const sb_host *host;
    sb_ctx *ctx;
    /* configuration (strings owned: host strings die at reload) */
    char kb[TBP_KB_NAME_MAX + 1];
    int64_t answers;              /* buttons offered, 1..TBP_ANSWERS_MAX */
    double threshold;             /* minimum score of a good match */
    char *import_path;            /* NULL: none */
    int64_t max_articles;
    int64_t unanswered_keep;      /* ring capacity */
    int64_t handoff_after;        /* failed attempts in a row; 0 = never */
    uint64_t state_ttl_ms;
    tbp_texts t;
    /* knowledge base */
    tb_index *ix;
    char **ids;                   /* sorted, owned */
    size_t n_ids, cap_ids;
    uint32_t id_seq;              /* for generated ids */
    /* unanswered ring */
    tbp_question *uq;
    size_t uq_cap;
    uint64_t uq_seq;              /* last seq used */
    /* conversations */
    tbp_conv *conv;
    size_t n_conv;
    uint64_t save_timer, sweep_timer;
    int conv_dirty;
} textbot;

/* ---- util.c --------------------------------------------------------------- */

/* Length of the longest prefix of s of at most max bytes that does not
 * split a UTF-8 sequence. */
size_t tbp_utf8_cut(const char *s, size_t max);
/* Malloc'ed copy of at most max bytes of s, cut on a character boundary.
 * NULL on allocation failure. */
char *tbp_strndup_utf8(const char *s, size_t max);
/* "2026-01-01T00:00:00.000Z" into out (>= 25 bytes). */
void tbp_rfc3339(int64_t ms, char out[32]);
/* The value of `key` in a raw query string, percent-decoded into out
 * (capacity cap). 1 found, 0 absent, -1 too long or malformed. */
int tbp_query_param(const char *query, const char *key, char *out, size_t cap);
/* Article ids: [A-Za-z0-9_-]{1,TB_ID_MAX}. */
int tbp_valid_id(const char *id);

/* ---- article.c ------------------------------------------------------------- */

/* An article as validated; strings borrowed from the JSON it came from. */
typedef struct tbp_article {
    const char *id;               /* NULL: none given */
    const char *title, *body;
    const char *keywords[TBP_WORDS_MAX];
    size_t n_keywords;
    const char *misspellings[TBP_WORDS_MAX];
    size_t n_misspellings;
} tbp_article;

/* Validates one article object. On error returns the message and writes
 * the offending field's name, prefixed with `where` ("" or "[3]."), into
 * field (capacity fcap). NULL when valid. Accepts the read-only fields
 * created_at/updated_at (so a GET result can be PUT back) and ignores them. */
const char *tbp_article_parse(json_t *o, const char *where, tbp_article *a,
                              char *field, size_t fcap);
/* The stored form {id,title,body,keywords,misspellings,created_at,updated_at}
 * (created_at NULL: the same as updated_at, a new article). New reference,
 * NULL on allocation failure. */
json_t *tbp_article_json(const tbp_article *a, const char *created_at, int64_t updated_ms);

/* ---- kb.c ---------------------------------------------------------------- */

/* Counts the kv writes of one change and runs `done(ud, status)` once all
 * finished (status: the first failure, else SB_OK). Owned by itself: freed
 * after done. */
typedef struct tbp_writes tbp_writes;
typedef void (*tbp_writes_done)(void *ud, sb_status status);
tbp_writes *tbp_writes_new(textbot *b, tbp_writes_done done, void *ud);
/* Issuing is over: done runs once the writes already started finish
 * (possibly at once, inside this call). */
void tbp_writes_end(tbp_writes *w);

/* Creates the index. SB_ERR_NOMEM, or SB_ERR_UNSUPPORTED when libstemmer
 * lacks a language. */
sb_status tbp_kb_new(textbot *b);
void tbp_kb_free(textbot *b);
/* Rebuilds the index from kv, then imports b->import_path when the KB is
 * empty. Runs in start(); reads the import file synchronously (once, bounded). */
sb_status tbp_kb_load(textbot *b);
/* 1 when an article with this id exists. */
int tbp_kb_has(const textbot *b, const char *id);
/* A fresh id, not in use. */
void tbp_kb_new_id(textbot *b, char out[TB_ID_MAX + 1]);
/* Adds or replaces a validated article with a.id set: index, kv "a/<id>",
 * manifest bucket marked in *dirty. created_ms is kept from the stored one
 * on replace. SB_ERR_FULL over max_articles, SB_ERR_NOMEM. */
sb_status tbp_kb_put(textbot *b, const tbp_article *a, uint64_t *dirty, tbp_writes *w);
/* Removes an article. SB_ERR_NOT_FOUND. */
sb_status tbp_kb_del(textbot *b, const char *id, uint64_t *dirty, tbp_writes *w);
/* Rewrites the manifest buckets set in dirty. */
void tbp_kb_flush(textbot *b, uint64_t dirty, tbp_writes *w);
/* The stored JSON of an article (malloc'ed, NUL-terminated), NULL when
 * absent or unreadable. */
char *tbp_kb_get_json(textbot *b, const char *id, size_t *len);
/* Index in b->ids of the first id > after ("" = from the start). */
size_t tbp_kb_after(const textbot *b, const char *after);

/* ---- api.c ---------------------------------------------------------------- */

/* Registers the routes under /api/v1/kb/<kb>/. */
sb_status tbp_api_routes(textbot *b);

/* ---- bot.c ----------------------------------------------------------------- */

sb_status tbp_bot_event(void *state, const sb_bot_event *ev);

/* ---- conv.c ---------------------------------------------------------------- */

/* Loads the snapshot and starts the sweep timer (start()). */
sb_status tbp_conv_start(textbot *b);
/* Saves now when dirty (stop()). */
void tbp_conv_stop(textbot *b);
void tbp_conv_free(textbot *b);
/* The state of a conversation, created when absent (evicting the oldest
 * when full); NULL for an id over TBP_CONV_ID_MAX. Touches last_ms. */
tbp_conv *tbp_conv_get(textbot *b, const char *id);
/* The conversation leaves the bot (hand-off, close): forget it. */
void tbp_conv_forget(textbot *b, const char *id);
/* Marks the state changed; it is saved within a second. */
void tbp_conv_changed(textbot *b);

/* ---- unanswered.c ---------------------------------------------------------- */

sb_status tbp_unanswered_load(textbot *b);
void tbp_unanswered_free(textbot *b);
/* Logs a question (cut to TBP_LOGGED_MAX bytes), replacing the oldest
 * when the ring is full. */
void tbp_unanswered_add(textbot *b, const char *question, const char *conversation_id);
/* {"items":[{id,question,conversation_id,created_at}],"next_cursor"}
 * newest first, items with seq < before (0: from the newest). Malloc'ed. */
char *tbp_unanswered_json(const textbot *b, uint64_t before, size_t limit);

#endif
