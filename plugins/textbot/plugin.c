/* The text bot plugin: descriptor, configuration and lifecycle.
 *
 *   kb: faq                   knowledge base served at /api/v1/kb/faq (required)
 *   answers: 3                articles offered per question, 1..10
 *   threshold: 1.5            minimum BM25 score of a good match (grows with KB size)
 *   import: conf/kb/faq.json  loaded at start while the KB is empty
 *   max_articles: 10000       1..100000
 *   unanswered_keep: 500      questions kept for the editors, 1..10000
 *   handoff_after: 2          failed attempts in a row, then an operator; 0 = never
 *   state_ttl: 24h            a conversation's count is forgotten after this
 *   texts: {greeting, choose, no_match, not_text, helped, yes, no,
 *           operator_button, thanks, not_helped, handoff, gone}
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "textbot.h"

static const struct {
    const char *key;
    size_t off;
    const char *def;
} k_texts[] = {
#define T(name, text) {#name, offsetof(tbp_texts, name), text}
    T(greeting, "Здравствуйте! Я виртуальный помощник банка. Напишите ваш вопрос, "
                "и я подберу ответ."),
    T(choose, "Вот что я нашёл по вашему вопросу. Выберите подходящее или напишите "
              "вопрос иначе:"),
    T(no_match, "К сожалению, я не нашёл ответа на этот вопрос. Попробуйте сформулировать "
                "его иначе или позовите оператора."),
    T(not_text, "Пожалуйста, напишите ваш вопрос словами."),
    T(helped, "Помог ли ответ?"),
    T(yes, "Да, спасибо"),
    T(no, "Нет"),
    T(operator_button, "Позвать оператора"),
    T(thanks, "Рад был помочь! Оцените, пожалуйста, наш разговор."),
    T(not_helped, "Жаль, что ответ не помог. Попробуйте задать вопрос иначе или "
                  "позовите оператора."),
    T(handoff, "Передаю ваш вопрос оператору. Пожалуйста, подождите, вам скоро ответят."),
    T(gone, "Эта статья больше недоступна. Напишите ваш вопрос ещё раз или позовите "
            "оператора."),
#undef T
};
#define N_TEXTS (sizeof k_texts / sizeof k_texts[0])

static char **text_slot(tbp_texts *t, size_t i)
{
    return (char **)((char *)t + k_texts[i].off);
}

static void config_free(textbot *b)
{
    for (size_t i = 0; i < N_TEXTS; i++) {
        free(*text_slot(&b->t, i));
        *text_slot(&b->t, i) = NULL;
    }
    free(b->import_path);
    b->import_path = NULL;
}

/* Optional integer in [lo, hi]; 0 ok, -1 after recording the error. */
static int read_int(textbot *b, const char *key, int64_t *out, int64_t def, int64_t lo, int64_t hi,
                    const char *msg)
{
    *out = def;
    sb_status st = b->host->config_int(b->ctx, key, out);
    if (st != SB_OK && st != SB_ERR_NOT_FOUND) return -1;
    if (*out < lo || *out > hi) {
        b->host->config_error(b->ctx, key, msg);
        return -1;
    }
    return 0;
}

static int valid_kb_name(const char *s)
{
    size_t n = strlen(s);
    if (!n || n > TBP_KB_NAME_MAX) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

/* Reads every key into b (even after an error, so all problems are
 * reported at once and none is called unknown for being left unread). */
static sb_status read_config(textbot *b)
{
    const sb_host *h = b->host;
    sb_ctx *c = b->ctx;
    int bad = 0;
    const char *s = NULL;
    sb_status st = h->config_string(c, "kb", &s);
    if (st == SB_ERR_NOT_FOUND) {
        h->config_error(c, "kb", "required: the knowledge base's name, e.g. faq");
        bad = 1;
    } else if (st != SB_OK) {
        bad = 1;
    } else if (!valid_kb_name(s)) {
        h->config_error(c, "kb", "expected 1..64 characters of a-z 0-9 _ -");
        bad = 1;
    } else {
        memcpy(b->kb, s, strlen(s) + 1);
    }
    bad |= read_int(b, "answers", &b->answers, 3, 1, TBP_ANSWERS_MAX, "expected 1..10") < 0;
    bad |= read_int(b, "max_articles", &b->max_articles, 10000, 1, TB_DEFAULT_MAX_ARTICLES,
                    "expected 1..100000") < 0;
    bad |= read_int(b, "unanswered_keep", &b->unanswered_keep, 500, 1, 10000,
                    "expected 1..10000") < 0;
    bad |= read_int(b, "handoff_after", &b->handoff_after, 2, 0, 100,
                    "expected 0 (never) ..100") < 0;

    b->threshold = 1.5;
    st = h->config_string(c, "threshold", &s);
    if (st == SB_OK) {
        char *end = NULL;
        b->threshold = strtod(s, &end);
        if (end == s || *end || !isfinite(b->threshold) || b->threshold < 0 ||
            b->threshold > 1e6) {
            h->config_error(c, "threshold", "expected a number from 0 to 1000000");
            bad = 1;
        }
    } else if (st != SB_ERR_NOT_FOUND) {
        bad = 1;
    }

    b->state_ttl_ms = 24 * 3600 * 1000ull;
    st = h->config_duration(c, "state_ttl", &b->state_ttl_ms);
    if (st == SB_OK && (b->state_ttl_ms < 60000 || b->state_ttl_ms > 30 * 24 * 3600 * 1000ull)) {
        h->config_error(c, "state_ttl", "expected a duration from 1m to 30d");
        bad = 1;
    } else if (st != SB_OK && st != SB_ERR_NOT_FOUND) {
        bad = 1;
    }

    st = h->config_string(c, "import", &s);
    if (st == SB_OK && (!*s || strlen(s) > 4096)) {
        h->config_error(c, "import", "expected the path of a JSON file of articles");
        bad = 1;
    } else if (st == SB_OK && !(b->import_path = strdup(s))) {
        bad = 1;
    } else if (st != SB_OK && st != SB_ERR_NOT_FOUND) {
        bad = 1;
    }

    for (size_t i = 0; i < N_TEXTS; i++) {
        char key[48] = "texts.";
        strcat(key, k_texts[i].key);
        const char *v = k_texts[i].def;
        st = h->config_string(c, key, &v);
        /* only the greeting may be empty (then there is none) */
        if (st == SB_OK && (strlen(v) > TBP_TEXT_MAX || (!*v && i != 0))) {
            h->config_error(c, key, i ? "expected a text of 1..4096 bytes"
                                      : "expected a text of at most 4096 bytes");
            bad = 1;
        } else if (st != SB_OK && st != SB_ERR_NOT_FOUND) {
            bad = 1;
        }
        if (!(*text_slot(&b->t, i) = strdup(v))) bad = 1;
    }
    return bad ? SB_ERR_INVALID : SB_OK;
}

static void tb_destroy(void *state)
{
    textbot *b = state;
    tbp_kb_free(b);
    tbp_unanswered_free(b);
    tbp_conv_free(b);
    config_free(b);
    free(b);
}

static sb_status tb_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    if (!SB_HOST_HAS(host, bot_reply) || !SB_HOST_HAS(host, bot_close)) {
        host->log(ctx, SB_LOG_ERROR, "needs a host of ABI 1.1 or later (bots, API routes)");
        return SB_ERR_UNSUPPORTED;
    }
    textbot *b = calloc(1, sizeof *b);
    if (!b) return SB_ERR_NOMEM;
    b->host = host;
    b->ctx = ctx;
    *state = b;
    sb_status st = read_config(b);
    if (st == SB_OK) st = tbp_kb_new(b);
    if (st == SB_OK) st = tbp_api_routes(b);
    return st;
}

static sb_status tb_start(void *state)
{
    textbot *b = state;
    sb_status st = tbp_unanswered_load(b);
    if (st == SB_OK) st = tbp_conv_start(b);
    if (st == SB_OK) st = tbp_kb_load(b);
    return st;
}

static void tb_stop(void *state)
{
    tbp_conv_stop(state);
}

/* The KB's name, its size limit and the ring's size shape routes and
 * storage: those need a restart; everything else applies at once. */
static sb_status tb_reload(void *state)
{
    textbot *b = state, n = {.host = b->host, .ctx = b->ctx};
    sb_status st = read_config(&n);
    if (st == SB_OK && strcmp(n.kb, b->kb)) {
        b->host->config_error(b->ctx, "kb", "cannot change on reload: restart the daemon");
        st = SB_ERR_INVALID;
    }
    if (st == SB_OK && (n.max_articles != b->max_articles ||
                        n.unanswered_keep != b->unanswered_keep)) {
        b->host->config_error(b->ctx, n.max_articles != b->max_articles ? "max_articles"
                                                                       : "unanswered_keep",
                              "cannot change on reload: restart the daemon");
        st = SB_ERR_INVALID;
    }
    if (st != SB_OK) {
        config_free(&n);
        return st;
    }
    config_free(b);
    b->answers = n.answers;
    b->threshold = n.threshold;
    b->handoff_after = n.handoff_after;
    b->state_ttl_ms = n.state_ttl_ms;
    b->import_path = n.import_path;
    b->t = n.t;
    return SB_OK;
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("textbot", "1.0.0", SB_KIND_BOT),
    .init = tb_init,
    .start = tb_start,
    .reload = tb_reload,
    .stop = tb_stop,
    .destroy = tb_destroy,
    .bot_event = tbp_bot_event,
};

SB_PLUGIN_EXPORT(k_desc)
