/* The text bot's knowledge-base search (issue 8, item 3): an in-memory
 * inverted index over articles {id, title, body, keywords[], misspellings[]}
 * ranked by BM25 per field with field weights (title > keywords > body;
 * misspellings count as keywords), Russian/English Snowball stemming, stop
 * words, case/ё/punctuation/HTML folding, Latin<->Cyrillic look-alike repair
 * and SymSpell-style typo candidates over the index vocabulary.
 *
 * Pure: no host calls, so the plugin, its tests and bench/textbot link the
 * same static library (textbot_search). Cost of a query is
 * O(query terms x (1 + typo candidates) x postings of those terms); no query
 * scans all articles. Every input is bounded (tb_config, defaults below).
 *
 * Threads: an index is used by one thread at a time (tb_search writes the
 * index's scratch buffers and stemmer state). Different indexes are
 * independent.
 */
#ifndef TEXTBOT_SEARCH_H
#define TEXTBOT_SEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <switchboard/plugin.h>   /* sb_status only */

#define TB_ID_MAX 64                   /* article id: 1..64 bytes */
#define TB_LIMIT_MAX 50                /* results per query */

/* Defaults of tb_config (0 in a field means "the default"). */
#define TB_DEFAULT_MAX_ARTICLES 100000u
#define TB_DEFAULT_MAX_TERMS (1u << 20) /* vocabulary (stems), incl. dead */
#define TB_DEFAULT_QUERY_BYTES 2048u    /* longer questions are cut */
#define TB_DEFAULT_QUERY_TOKENS 64u
#define TB_DEFAULT_TITLE_BYTES 1024u
#define TB_DEFAULT_BODY_BYTES 65536u
#define TB_DEFAULT_BODY_TOKENS 4096u
#define TB_DEFAULT_KEYWORDS 64u         /* keywords + misspellings, each */
#define TB_DEFAULT_KEYWORD_BYTES 256u
#define TB_DEFAULT_CANDIDATES 6u        /* typo candidates per query term */

typedef struct tb_config {
    size_t struct_size;             /* sizeof(tb_config); grows only at the end */
    uint32_t max_articles;
    uint32_t max_terms;
    uint32_t max_query_bytes;
    uint32_t max_query_tokens;
    uint32_t max_title_bytes;
    uint32_t max_body_bytes;
    uint32_t max_body_tokens;
    uint32_t max_keywords;
    uint32_t max_keyword_bytes;
    uint32_t max_candidates;
    /* BM25 field weights; 0 means default: title 3.0, keywords 2.0, body 1.0. */
    double w_title, w_keywords, w_body;
} tb_config;

/* An article as given to tb_index_put; all strings UTF-8, borrowed for the
 * call (the index copies id and title, keeps only terms of the rest).
 * Fields over the limits are cut, not refused. */
typedef struct tb_article {
    const char *id;                 /* required, 1..TB_ID_MAX bytes */
    const char *title;              /* required (may be "") */
    const char *body;               /* may be NULL */
    const char *const *keywords;    /* n_keywords strings, may be NULL */
    size_t n_keywords;
    const char *const *misspellings;/* indexed with the keywords' weight */
    size_t n_misspellings;
} tb_article;

typedef struct tb_result {
    char id[TB_ID_MAX + 1];
    double score;                   /* > 0; higher is better; not normalised */
} tb_result;

typedef struct tb_stats {
    uint32_t articles;
    uint32_t terms;                 /* vocabulary size, incl. terms with no postings */
    uint64_t postings;
    uint64_t typo_entries;          /* delete-map entries */
    uint64_t dropped_terms;         /* new terms refused because max_terms was reached */
    size_t bytes;                   /* approximate heap held by the index */
} tb_stats;

typedef struct tb_index tb_index;

/* cfg may be NULL (all defaults); it is copied. NULL on allocation failure
 * or when libstemmer lacks russian/english. Owned by the caller. */
tb_index *tb_index_new(const tb_config *cfg);
void tb_index_free(tb_index *ix);

/* Adds the article, or replaces the one with the same id (update).
 * SB_ERR_INVALID: no/empty/too long id, NULL title.
 * SB_ERR_FULL: max_articles reached (the index is unchanged).
 * SB_ERR_NOMEM: allocation failed (the index is unchanged). */
sb_status tb_index_put(tb_index *ix, const tb_article *a);

/* Removes an article. SB_ERR_NOT_FOUND if no such id. Cost: the article's
 * terms x their postings (deletes are rare editor actions). */
sb_status tb_index_del(tb_index *ix, const char *id);

/* Searches. Writes up to min(limit, TB_LIMIT_MAX) results, best first
 * (ties by id), into results and their count into *n. An empty, stop-word
 * only or emoji-only query gives SB_OK and *n = 0. The query is cut at
 * max_query_bytes / max_query_tokens. */
sb_status tb_search(tb_index *ix, const char *query, size_t limit,
                    tb_result *results, size_t *n);

/* The same as JSON: {"items":[{"id","title","score"}]}. Returns a malloc'ed
 * string owned by the caller (free()), NULL on allocation failure. */
char *tb_search_json(tb_index *ix, const char *query, size_t limit);

/* Number of searchable words in a question after the cuts and folding of
 * tb_search (stop words, emoji, markup and punctuation do not count): 0
 * means there is nothing to search for, as opposed to no match. */
size_t tb_query_terms(tb_index *ix, const char *query);

/* The title of an article, or NULL when there is none with this id.
 * Borrowed: valid until the article is replaced or removed. */
const char *tb_index_title(const tb_index *ix, const char *id);

void tb_index_stats(const tb_index *ix, tb_stats *st);

#endif
