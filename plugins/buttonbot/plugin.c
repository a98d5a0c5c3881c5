/* The button bot plugin: descriptor, configuration and lifecycle. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

static const bb_texts k_texts = {
    .operator_title = "Связаться с оператором",
    .reprompt = "Пожалуйста, выберите один из вариантов.",
    .number_hint = "Отправьте номер варианта.",
    .ask_failed = "Не получилось разобрать ответ. Соединяю вас с оператором.",
    .api_error = "Извините, сейчас не удаётся получить данные. Соединяю вас с оператором.",
    .handoff = "Соединяю вас с оператором, пожалуйста, подождите.",
    .textbot_prompt = "Напишите ваш вопрос.",
    .textbot_none = "Не нашёл ответа. Попробуйте сформулировать иначе или свяжитесь с оператором.",
    .textbot_error = "Извините, поиск по базе знаний сейчас недоступен. Соединяю вас с оператором.",
};

/* Channels without buttons get a numbered text menu; WhatsApp shows at most
 * 10 rows (its plugin turns up to 3 into buttons and more into a list). */
static const bb_limit k_limits[] = {{"email", 0}, {"callback", 0}, {"whatsapp", 10}};

static const char *const k_words[] = {"оператор", "operator", "сотрудник", "специалист"};

static int bad(sb_status st) { return st != SB_OK && st != SB_ERR_NOT_FOUND; }

static int read_text(bb_state *s, const char *key, const char **out)
{
    char path[64];
    snprintf(path, sizeof path, "texts.%s", key);
    return bad(s->host->config_string(s->ctx, path, out));
}

/* Reads every key even after an error, so that all problems show at once
 * and none is also called unknown for being left unread. */
static int read_config(bb_state *s)
{
    const sb_host *h = s->host;
    sb_ctx *ctx = s->ctx;
    int errs = 0;
    s->scenario_path = NULL;
    s->start_override = NULL;
    s->texts = k_texts;
    s->max_conversations = 10000;
    s->tb_url = s->tb_token = s->tb_kb = NULL;
    errs += bad(h->config_string(ctx, "scenario", &s->scenario_path));
    errs += bad(h->config_string(ctx, "start", &s->start_override));
    errs += read_text(s, "operator", &s->texts.operator_title);
    errs += read_text(s, "reprompt", &s->texts.reprompt);
    errs += read_text(s, "number_hint", &s->texts.number_hint);
    errs += read_text(s, "ask_failed", &s->texts.ask_failed);
    errs += read_text(s, "api_error", &s->texts.api_error);
    errs += read_text(s, "handoff", &s->texts.handoff);
    errs += read_text(s, "textbot_prompt", &s->texts.textbot_prompt);
    errs += read_text(s, "textbot_none", &s->texts.textbot_none);
    errs += read_text(s, "textbot_error", &s->texts.textbot_error);
    sb_status st = h->config_int(ctx, "max_conversations", &s->max_conversations);
    errs += bad(st);
    if (st == SB_OK && (s->max_conversations < 1 || s->max_conversations > 1000000)) {
        h->config_error(ctx, "max_conversations", "expected 1 to 1000000");
        errs++;
    }
    if (!s->scenario_path || !*s->scenario_path) {
        h->config_error(ctx, "scenario", "required: the scenario file, e.g. conf/buttonbot/bank.yaml");
        errs++;
    }

    size_t n = 0;
    st = h->config_count(ctx, "menu_limits", &n);
    errs += bad(st);
    if (st == SB_ERR_NOT_FOUND) {
        s->n_limits = sizeof k_limits / sizeof *k_limits;
        memcpy(s->limits, k_limits, sizeof k_limits);
    } else if (n > BB_MAX_LIMITS) {
        h->config_error(ctx, "menu_limits", "more than 16 entries");
        errs++;
    } else {
        s->n_limits = 0;
        for (size_t i = 0; i < n; i++) {
            char p1[64], p2[64];
            bb_limit l = {NULL, -1};
            snprintf(p1, sizeof p1, "menu_limits[%zu].channel", i);
            snprintf(p2, sizeof p2, "menu_limits[%zu].max_buttons", i);
            sb_status a = h->config_string(ctx, p1, &l.channel);
            sb_status b = h->config_int(ctx, p2, &l.max_buttons);
            errs += bad(a) + bad(b);
            if (a == SB_ERR_NOT_FOUND) h->config_error(ctx, p1, "required"), errs++;
            if (b == SB_ERR_NOT_FOUND || (b == SB_OK && (l.max_buttons < 0 || l.max_buttons > 20)))
                h->config_error(ctx, p2, "expected 0 (a numbered text menu) to 20"), errs++;
            if (a == SB_OK && b == SB_OK) s->limits[s->n_limits++] = l;
        }
    }

    n = 0;
    st = h->config_count(ctx, "secrets", &n);
    errs += bad(st);
    s->n_secrets = 0;
    if (n > BB_MAX_SECRETS) {
        h->config_error(ctx, "secrets", "more than 32 entries");
        errs++;
        n = 0;
    }
    for (size_t i = 0; i < n; i++) {
        char p1[64], p2[64];
        bb_secret x = {NULL, NULL};
        snprintf(p1, sizeof p1, "secrets[%zu].name", i);
        snprintf(p2, sizeof p2, "secrets[%zu].value", i);
        sb_status a = h->config_string(ctx, p1, &x.name);
        sb_status b = h->config_string(ctx, p2, &x.value);
        errs += bad(a) + bad(b);
        if (a == SB_ERR_NOT_FOUND) h->config_error(ctx, p1, "required"), errs++;
        if (b == SB_ERR_NOT_FOUND) x.value = "";  /* ${VAR:-} left empty */
        if (a == SB_OK) s->secrets[s->n_secrets++] = x;
    }

    n = 0;
    st = h->config_count(ctx, "operator_words", &n);
    errs += bad(st);
    if (st == SB_ERR_NOT_FOUND) {
        s->n_words = sizeof k_words / sizeof *k_words;
        memcpy(s->words, k_words, sizeof k_words);
    } else if (n > BB_MAX_WORDS) {
        h->config_error(ctx, "operator_words", "more than 16 words");
        errs++;
    } else {
        s->n_words = 0;
        for (size_t i = 0; i < n; i++) {
            char p[64];
            const char *w = NULL;
            snprintf(p, sizeof p, "operator_words[%zu]", i);
            sb_status a = h->config_string(ctx, p, &w);
            errs += bad(a);
            if (a == SB_OK && (!*w || strlen(w) > 64)) {
                h->config_error(ctx, p, "expected a word of 1 to 64 bytes");
                errs++;
            } else if (a == SB_OK) {
                s->words[s->n_words++] = w;
            }
        }
    }

    errs += bad(h->config_string(ctx, "textbot.url", &s->tb_url));
    errs += bad(h->config_string(ctx, "textbot.token", &s->tb_token));
    errs += bad(h->config_string(ctx, "textbot.kb", &s->tb_kb));
    if (s->tb_url && strncmp(s->tb_url, "http://", 7) && strncmp(s->tb_url, "https://", 8)) {
        h->config_error(ctx, "textbot.url", "expected an http:// or https:// URL");
        errs++;
    }
    if (s->tb_url && (!s->tb_kb || !*s->tb_kb || strspn(s->tb_kb, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(s->tb_kb))) {
        h->config_error(ctx, "textbot.kb", "required with textbot.url: a knowledge base id [a-z0-9_-]");
        errs++;
    }
    return errs ? -1 : 0;
}

/* ---- instance checks of a parsed scenario --------------------------------- */
typedef struct {
    bb_state *s;
    bb_scenario *sc;
    const bb_step *st;
    bb_errors *err;
} check_ctx;

static void check_secret(void *ud, const char *ns, const char *name)
{
    check_ctx *k = ud;
    if (strcmp(ns, "secret")) return;
    for (size_t i = 0; i < k->s->n_secrets; i++)
        if (!strcmp(k->s->secrets[i].name, name)) return;
    bb_errors_add(k->err, k->sc->source, k->st->line, k->st->col,
                  "steps.%s: {{secret.%s}}: no such secret in the instance's config (secrets:)",
                  k->st->id, name);
}

bb_scenario *bb_load(bb_state *s, const char *source, const char *text, size_t len, bb_errors *err)
{
    bb_scenario *sc = bb_scenario_parse(source, text, len, err);
    if (!sc) return NULL;
    size_t before = err->n + err->dropped;
    if (s->start_override) {
        int ix = bb_scenario_find(sc, s->start_override);
        if (ix < 0)
            bb_errors_add(err, source, sc->start.line, sc->start.col,
                          "start: the instance's start step \"%s\" is not in this scenario",
                          s->start_override);
        else
            sc->start.ix = ix;
    }
    for (size_t i = 0; i < sc->n_steps; i++) {
        const bb_step *st = &sc->steps[i];
        check_ctx k = {s, sc, st, err};
        bb_template_each(st->text, check_secret, &k);
        bb_template_each(st->retry_text, check_secret, &k);
        bb_template_each(st->url, check_secret, &k);
        bb_template_each(st->body, check_secret, &k);
        for (size_t h = 0; h < st->n_headers; h++) bb_template_each(st->headers[h].value, check_secret, &k);
        for (size_t a = 0; a < st->n_attrs; a++) bb_template_each(st->attrs[a].value, check_secret, &k);
        if (st->kind == BB_TEXTBOT && !s->tb_url)
            bb_errors_add(err, source, st->line, st->col,
                          "steps.%s: a textbot step needs the instance's textbot: {url, token, kb}",
                          st->id);
    }
    if (err->n + err->dropped != before) {
        bb_scenario_unref(sc);
        return NULL;
    }
    return sc;
}

void bb_use(bb_state *s, bb_scenario *sc, int from_api)
{
    bb_scenario_unref(s->sc);
    s->sc = sc;
    s->sc_from_api = from_api;
}

/* Reads and checks the scenario file; each error goes to the host as a
 * config error on `scenario` (so --check names both files). */
static bb_scenario *load_file(bb_state *s)
{
    const sb_host *h = s->host;
    char msg[600];
    FILE *f = fopen(s->scenario_path, "rb");
    if (!f) {
        snprintf(msg, sizeof msg, "cannot read %s: %s", s->scenario_path, strerror(errno));
        h->config_error(s->ctx, "scenario", msg);
        return NULL;
    }
    char *buf = malloc(BB_MAX_TEXT + 1);
    size_t len = buf ? fread(buf, 1, BB_MAX_TEXT + 1, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!buf || rerr) {
        snprintf(msg, sizeof msg, "cannot read %s", s->scenario_path);
        h->config_error(s->ctx, "scenario", msg);
        free(buf);
        return NULL;
    }
    bb_errors err = {0};
    bb_scenario *sc = bb_load(s, s->scenario_path, buf, len, &err);
    free(buf);
    for (size_t i = 0; i < err.n; i++) h->config_error(s->ctx, "scenario", err.items[i]);
    if (err.dropped) {
        snprintf(msg, sizeof msg, "and %zu more errors", err.dropped);
        h->config_error(s->ctx, "scenario", msg);
    }
    bb_errors_free(&err);
    return sc;
}

static sb_status bb_init(const sb_host *host, sb_ctx *ctx, void **state)
{
    if (!SB_HOST_HAS(host, bot_reply) || !SB_HOST_HAS(host, conversation_get)) {
        host->log(ctx, SB_LOG_ERROR, "the host has no bot functions (ABI 1.1 needed)");
        return SB_ERR_UNSUPPORTED;
    }
    bb_state *s = calloc(1, sizeof *s);
    if (!s) return SB_ERR_NOMEM;
    s->host = host;
    s->ctx = ctx;
    *state = s;
    if (bb_convs_init(s) != 0) return SB_ERR_NOMEM;
    if (read_config(s) != 0) return SB_ERR_INVALID;
    if (!(s->file_sc = load_file(s))) return SB_ERR_INVALID;
    bb_scenario_ref(s->file_sc);
    bb_use(s, s->file_sc, 0);
    sb_status st = bb_routes_register(s);
    if (st == SB_OK) st = host->subscribe(ctx, "conversation.", bb_conv_on_event, s);
    return st;
}

/* A scenario stored through the API wins over the file. */
static sb_status bb_start(void *state)
{
    bb_state *s = state;
    size_t len = 0;
    char *buf = malloc(BB_MAX_TEXT + 1);
    if (!buf) return SB_ERR_NOMEM;
    sb_status st = s->host->kv_get(s->ctx, "scenario", 8, buf, BB_MAX_TEXT, &len);
    if (st == SB_OK) {
        bb_errors err = {0};
        bb_scenario *sc = bb_load(s, "stored", buf, len, &err);
        if (sc) {
            bb_use(s, sc, 1);
            s->host->log(s->ctx, SB_LOG_INFO, "using the scenario stored through the API (%zu steps)",
                         sc->n_steps);
        } else {
            char *msg = bb_errors_join(&err);
            s->host->log(s->ctx, SB_LOG_ERROR, "the stored scenario is invalid, using %s: %s",
                         s->scenario_path, msg ? msg : "");
            free(msg);
        }
        bb_errors_free(&err);
    }
    free(buf);
    return SB_OK;
}

static sb_status bb_reload(void *state)
{
    bb_state *s = state, old = *s;
    bb_scenario *sc = read_config(s) == 0 ? load_file(s) : NULL;
    if (!sc) {
        *s = old;
        return SB_ERR_INVALID;
    }
    bb_scenario_unref(s->file_sc);
    s->file_sc = sc;
    if (!s->sc_from_api) {
        bb_scenario_ref(sc);
        bb_use(s, sc, 0);
    }
    return SB_OK;
}

static void bb_stop(void *state)
{
    bb_state *s = state;
    s->stopping = 1;
    bb_convs_free(s);  /* cancels calls in flight; kv keeps every state */
}

static void bb_destroy(void *state)
{
    bb_state *s = state;
    bb_convs_free(s);
    bb_scenario_unref(s->sc);
    bb_scenario_unref(s->file_sc);
    free(s);
}

static const sb_plugin k_desc = {
    SB_PLUGIN_HEADER("buttonbot", "1.0.0", SB_KIND_BOT),
    .init = bb_init,
    .start = bb_start,
    .reload = bb_reload,
    .stop = bb_stop,
    .destroy = bb_destroy,
    .bot_event = bb_bot_event,
};

SB_PLUGIN_EXPORT(k_desc)
