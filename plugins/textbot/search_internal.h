/* Internals of the textbot search library, shared by search_*.c and the
 * unit tests. Not for the plugin: it uses search.h. */
#ifndef TEXTBOT_SEARCH_INTERNAL_H
#define TEXTBOT_SEARCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "search.h"

/* ---- search_normalize.c: text -> folded tokens ---------------------- */

#define TB_TOKEN_CHARS 32            /* longer words are cut to 32 letters */
#define TB_TOKEN_BYTES (TB_TOKEN_CHARS * 2 + 1)

enum tb_script { TB_SCRIPT_OTHER = 0, TB_SCRIPT_LATIN, TB_SCRIPT_CYRILLIC };

typedef struct tb_token {
    char text[TB_TOKEN_BYTES];       /* lower-case UTF-8, NUL-terminated */
    uint8_t len;                     /* bytes */
    uint8_t script;                  /* enum tb_script; OTHER: digits or mixed */
} tb_token;

/* Splits s (at most max_bytes of it) into at most max_tokens tokens:
 * Latin and Cyrillic case folded, ё->е, й kept (also from и+U+0306),
 * HTML tags and entities, punctuation, emoji and symbols are separators,
 * look-alike letters inside a mostly Cyrillic word become Cyrillic and the
 * reverse. Returns the number of tokens written. */
size_t tb_normalize(const char *s, size_t len, size_t max_bytes,
                    tb_token *out, size_t max_tokens);

/* ---- search_stem.c: token -> term ---------------------------------- */

typedef struct tb_stemmer tb_stemmer;
tb_stemmer *tb_stemmer_new(void);
void tb_stemmer_free(tb_stemmer *st);
bool tb_is_stopword(const tb_stemmer *st, const tb_token *t);
/* Writes the term of a token (stem for Latin/Cyrillic words, the token
 * itself otherwise) into out (cap >= TB_TOKEN_BYTES); returns its length,
 * 0 for a stop word. */
size_t tb_token_term(tb_stemmer *st, const tb_token *t, char *out, size_t cap);

/* ---- search_index.c: vocabulary and postings ----------------------- */

enum { TB_F_TITLE = 0, TB_F_KEYWORDS, TB_F_BODY, TB_NFIELDS };

typedef struct tb_posting {
    uint32_t doc;                    /* slot in ix->docs */
    uint8_t tf_title, tf_kw;         /* saturated at 255 */
    uint16_t tf_body;                /* saturated at 65535 */
} tb_posting;

typedef struct tb_term {
    uint32_t off;                    /* into ix->pool */
    uint16_t len;                    /* bytes */
    uint16_t nchars;                 /* code points */
    uint32_t hash;
    uint32_t n_post, cap_post;
    tb_posting *post;
} tb_term;

typedef struct tb_doc {
    char *id;                        /* NULL: free slot */
    char *title;
    uint32_t *terms;                 /* distinct term ids */
    uint32_t n_terms;
    uint32_t len[TB_NFIELDS];        /* tokens per field */
} tb_doc;

typedef struct tb_typo_slot { uint32_t key; uint32_t term; } tb_typo_slot;

struct tb_index {
    tb_config cfg;
    tb_stemmer *stem;
    /* vocabulary */
    char *pool; size_t pool_len, pool_cap;
    tb_term *terms; uint32_t n_terms, cap_terms;
    uint32_t *term_tab; uint32_t term_tab_cap;       /* term id + 1; 0 empty */
    uint64_t n_postings, dropped_terms;
    /* articles */
    tb_doc *docs; uint32_t n_docs, cap_docs;          /* slots, incl. free */
    uint32_t *free_slots; uint32_t n_free;
    uint32_t *id_tab; uint32_t id_tab_cap, id_tab_used; /* slot + 1; 0 empty; UINT32_MAX tomb */
    uint32_t live;
    uint64_t sum_len[TB_NFIELDS];
    /* typo delete map (search_typo.c): multimap, key 0 = empty */
    tb_typo_slot *typo; uint32_t typo_cap, typo_used;
    /* query scratch, sized cap_docs */
    float *acc;
    uint32_t *touched;
};

uint32_t tb_hash(const void *p, size_t n);
/* Term id of a term string, or UINT32_MAX. */
uint32_t tb_term_find(const tb_index *ix, const char *s, size_t len);
static inline const char *tb_term_str(const tb_index *ix, uint32_t id)
{
    return ix->pool + ix->terms[id].off;
}

/* ---- search_typo.c: SymSpell-style deletes -------------------------- */

#define TB_TYPO_PREFIX 9             /* deletes are made of the first 9 letters */

/* Largest edit distance allowed for a term of nchars letters. */
static inline int tb_typo_max_dist(size_t nchars)
{
    return nchars >= 8 ? 2 : nchars >= 4 ? 1 : 0;
}

/* Registers a new vocabulary term. SB_ERR_NOMEM leaves the map as it was
 * for entries already added (harmless: they are verified on lookup). */
sb_status tb_typo_add(tb_index *ix, uint32_t term);
void tb_typo_free(tb_index *ix);

typedef struct tb_candidate { uint32_t term; int dist; } tb_candidate;
/* Live vocabulary terms within the allowed edit distance of s (not s
 * itself), nearest first then most frequent; at most max. */
size_t tb_typo_candidates(const tb_index *ix, const char *s, size_t len,
                          tb_candidate *out, size_t max);
/* Optimal string alignment distance over code points; returns > maxd as
 * soon as it is known to exceed maxd. */
int tb_edit_distance(const uint32_t *a, size_t na, const uint32_t *b, size_t nb, int maxd);
size_t tb_utf8_decode_all(const char *s, size_t len, uint32_t *out, size_t max);

#endif
