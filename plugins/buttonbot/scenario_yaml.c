/* Reading a scenario from YAML (or JSON) with libyaml: every value keeps
 * its line and column so that each error names the place. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scenario.h"
#include "template.h"

typedef struct {
    yaml_document_t *doc;
    const char *src;
    bb_errors *err;
} P;

#define LINE(n) ((int)(n)->start_mark.line + 1)
#define COL(n) ((int)(n)->start_mark.column + 1)

static void fail(P *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(P *p, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    bb_errors_add(p->err, p->src, n ? LINE(n) : 1, n ? COL(n) : 1, "%s: %s", path, msg);
}

static yaml_node_t *node(P *p, int id) { return yaml_document_get_node(p->doc, id); }

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A string value: NULL (after an error) when not a scalar or too long. */
static char *str(P *p, const yaml_node_t *n, const char *path, size_t max)
{
    const char *s = scalar(n);
    if (!s) {
        fail(p, n, path, "expected a string");
        return NULL;
    }
    if (strlen(s) > max) {
        fail(p, n, path, "longer than %zu bytes", max);
        return NULL;
    }
    char *c = strdup(s);
    if (!c) fail(p, n, path, "out of memory");
    return c;
}

static char *tmpl(P *p, const yaml_node_t *n, const char *path, size_t max)
{
    char *s = str(p, n, path, max);
    char why[160];
    if (s && bb_template_check(s, why, sizeof why) != 0) {
        fail(p, n, path, "%s", why);
        free(s);
        return NULL;
    }
    return s;
}

static int integer(P *p, const yaml_node_t *n, const char *path, long lo, long hi, int *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi) {
        fail(p, n, path, "expected an integer from %ld to %ld", lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int number(P *p, const yaml_node_t *n, const char *path, double *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    double v = s ? strtod(s, &end) : 0;
    if (!s || !*s || *end) {
        fail(p, n, path, "expected a number");
        return -1;
    }
    *out = v;
    return 0;
}

static int boolean(P *p, const yaml_node_t *n, const char *path, int *out)
{
    const char *s = scalar(n);
    if (s && (!strcmp(s, "true") || !strcmp(s, "yes") || !strcmp(s, "on"))) *out = 1;
    else if (s && (!strcmp(s, "false") || !strcmp(s, "no") || !strcmp(s, "off"))) *out = 0;
    else {
        fail(p, n, path, "expected true or false");
        return -1;
    }
    return 0;
}

/* "250ms", "5s", "1m" -> ms. */
static int duration(P *p, const yaml_node_t *n, const char *path, uint32_t *out)
{
    const char *s = scalar(n);
    char *end = NULL;
    unsigned long v = s && *s >= '0' && *s <= '9' ? strtoul(s, &end, 10) : 0;
    unsigned long mul = 0;
    if (end && !strcmp(end, "ms")) mul = 1;
    else if (end && !strcmp(end, "s")) mul = 1000;
    else if (end && !strcmp(end, "m")) mul = 60000;
    if (!mul || v * mul < 100 || v * mul > 60000) {
        fail(p, n, path, "expected a duration from 100ms to 60s (\"5s\", \"500ms\")");
        return -1;
    }
    *out = (uint32_t)(v * mul);
    return 0;
}

/* 1 (after an error) when an earlier key of the map is the same as pr's. */
static int dup_key(P *p, const yaml_node_t *map, const yaml_node_pair_t *pr, const char *path)
{
    const char *key = scalar(node(p, pr->key));
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; key && q < pr; q++)
        if (scalar(node(p, q->key)) && !strcmp(scalar(node(p, q->key)), key)) {
            fail(p, node(p, pr->key), path, "duplicate key");
            return 1;
        }
    return 0;
}

static void ref(P *p, const yaml_node_t *n, const char *path, bb_ref *r)
{
    free(r->id);
    r->id = str(p, n, path, 128);
    r->line = LINE(n);
    r->col = COL(n);
}

/* "client.x" / "conversation.x" with x in [A-Za-z0-9_]{1,64}. */
static int attr_name_ok(const char *s)
{
    const char *d = strchr(s, '.');
    if (!d || (strncmp(s, "client.", 7) && strncmp(s, "conversation.", 13))) return 0;
    size_t n = strlen(d + 1);
    if (n < 1 || n > 64) return 0;
    for (const char *c = d + 1; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_'))
            return 0;
    return 1;
}

static char *attr_name(P *p, const yaml_node_t *n, const char *path)
{
    char *s = str(p, n, path, 80);
    if (s && !attr_name_ok(s)) {
        fail(p, n, path, "expected client.NAME or conversation.NAME (NAME: letters, digits, _)");
        free(s);
        return NULL;
    }
    return s;
}

/* A map of string pairs; keys checked by key_ok when given. */
static void pairs(P *p, const yaml_node_t *n, const char *path, int attr_keys, int tmpl_values,
                  bb_pair **out, size_t *n_out)
{
    if (n->type != YAML_MAPPING_NODE) {
        fail(p, n, path, "expected a map");
        return;
    }
    size_t cnt = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (cnt > BB_MAX_PAIRS) {
        fail(p, n, path, "more than %d entries", BB_MAX_PAIRS);
        return;
    }
    *out = calloc(cnt ? cnt : 1, sizeof **out);
    if (!*out) return;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        char sub[512];
        snprintf(sub, sizeof sub, "%.300s.%.128s", path, scalar(k) ? scalar(k) : "?");
        char *key = attr_keys ? attr_name(p, k, sub) : str(p, k, sub, 128);
        char *val = tmpl_values ? tmpl(p, v, sub, 4096) : str(p, v, sub, 256);
        if (!key || !val) {
            free(key);
            free(val);
            continue;
        }
        (*out)[*n_out].key = key;
        (*out)[(*n_out)++].value = val;
    }
}

enum {
    K_MENU = 1 << BB_MENU, K_MESSAGE = 1 << BB_MESSAGE, K_GOTO = 1 << BB_GOTO,
    K_ASK = 1 << BB_ASK, K_SET = 1 << BB_SET, K_API = 1 << BB_API,
    K_HANDOFF = 1 << BB_HANDOFF, K_TEXTBOT = 1 << BB_TEXTBOT, K_END = 1 << BB_END,
    K_ALL = 0x1ff
};

static const struct {
    const char *name;
    unsigned kinds;
} k_keys[] = {
    {"kind", K_ALL}, {"text", K_ALL},
    {"next", K_MESSAGE | K_SET | K_ASK | K_API | K_TEXTBOT}, {"to", K_GOTO},
    {"buttons", K_MENU}, {"fallback", K_MENU},
    {"into", K_ASK}, {"validate", K_ASK}, {"pattern", K_ASK}, {"min", K_ASK}, {"max", K_ASK},
    {"retry_text", K_ASK}, {"max_retries", K_ASK}, {"on_fail", K_ASK},
    {"attributes", K_SET}, {"tags", K_SET},
    {"method", K_API}, {"url", K_API}, {"body", K_API}, {"headers", K_API},
    {"extract", K_API}, {"timeout", K_API}, {"retries", K_API}, {"on_error", K_API | K_TEXTBOT},
    {"group", K_HANDOFF}, {"skill", K_HANDOFF}, {"level", K_HANDOFF}, {"reason", K_HANDOFF},
    {"limit", K_TEXTBOT}, {"rating", K_END},
};

static const char *const k_kind_names[] = {"menu", "message", "goto", "ask", "set",
                                           "api", "handoff", "textbot", "end"};

const char *bb_kind_name(bb_kind k) { return k_kind_names[k]; }
int bb_kind_waits(bb_kind k) { return k == BB_MENU || k == BB_ASK || k == BB_TEXTBOT; }

/* The number of items of a list of at most max `what`; -1 after saying
 * what is wrong (not a list: `expect`). */
static long list_items(P *p, const yaml_node_t *n, const char *path, const char *expect, int max,
                       const char *what)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        fail(p, n, path, "%s", expect);
        return -1;
    }
    long cnt = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (cnt > max) {
        fail(p, n, path, "more than %d %s", max, what);
        return -1;
    }
    return cnt;
}

static void buttons(P *p, const yaml_node_t *n, const char *path, bb_step *st)
{
    long items = list_items(p, n, path, "expected a list of {title, goto}", BB_MAX_BUTTONS,
                            "buttons");
    if (items < 0) return;
    size_t cnt = (size_t)items;
    st->buttons = calloc(cnt ? cnt : 1, sizeof *st->buttons);
    if (!st->buttons) return;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_t *b = node(p, n->data.sequence.items.start[i]);
        char bp[512];
        snprintf(bp, sizeof bp, "%s[%zu]", path, i);
        bb_button *btn = &st->buttons[st->n_buttons++];
        btn->go.ix = -1;
        if (b->type != YAML_MAPPING_NODE) {
            fail(p, b, bp, "expected {title, goto}");
            continue;
        }
        for (yaml_node_pair_t *pr = b->data.mapping.pairs.start; pr < b->data.mapping.pairs.top;
             pr++) {
            yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
            const char *key = scalar(k) ? scalar(k) : "?";
            char sub[700];
            snprintf(sub, sizeof sub, "%s.%s", bp, key);
            if (!strcmp(key, "title")) {
                free(btn->title);
                btn->title = str(p, v, sub, 128);
                if (btn->title && !*btn->title) fail(p, v, sub, "must not be empty");
            } else if (!strcmp(key, "goto")) {
                ref(p, v, sub, &btn->go);
            } else {
                fail(p, k, sub, "unknown key (a button has title and goto)");
            }
        }
        if (!btn->title) fail(p, b, bp, "title: required");
        if (!btn->go.id) fail(p, b, bp, "goto: required");
    }
}

static void tags(P *p, const yaml_node_t *n, const char *path, bb_step *st)
{
    long items = list_items(p, n, path, "expected a list like [conversation.card_lost]",
                            BB_MAX_PAIRS, "tags");
    if (items < 0) return;
    size_t cnt = (size_t)items;
    st->tags = calloc(cnt ? cnt : 1, sizeof *st->tags);
    for (size_t i = 0; st->tags && i < cnt; i++) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s[%zu]", path, i);
        char *t = attr_name(p, node(p, n->data.sequence.items.start[i]), sub);
        if (t) st->tags[st->n_tags++] = t;
    }
}

static void step_key(P *p, bb_step *st, const char *key, yaml_node_t *v, const char *sub)
{
    if (!strcmp(key, "text")) st->text = tmpl(p, v, sub, 4096);
    else if (!strcmp(key, "next") || !strcmp(key, "to")) ref(p, v, sub, &st->next);
    else if (!strcmp(key, "buttons")) buttons(p, v, sub, st);
    else if (!strcmp(key, "fallback")) ref(p, v, sub, &st->fallback);
    else if (!strcmp(key, "into")) st->into = attr_name(p, v, sub);
    else if (!strcmp(key, "validate")) {
        const char *s = scalar(v);
        static const char *const names[] = {"", "phone", "email", "number", "regex"};
        for (int i = 1; s && i <= BB_V_REGEX; i++)
            if (!strcmp(s, names[i])) st->validate = (bb_validator)i;
        if (st->validate == BB_V_NONE)
            fail(p, v, sub, "unknown validator \"%s\": expected phone, email, number or regex",
                 s ? s : "?");
    } else if (!strcmp(key, "pattern")) {
        char *pat = str(p, v, sub, BB_MAX_PATTERN);
        if (pat) {
            /* Anchored: the whole answer must match. */
            char full[BB_MAX_PATTERN + 8];
            snprintf(full, sizeof full, "^(%s)$", pat);
            int rc = regcomp(&st->re, full, REG_EXTENDED | REG_NOSUB);
            if (rc != 0) {
                char why[128];
                regerror(rc, &st->re, why, sizeof why);
                fail(p, v, sub, "bad regular expression: %s", why);
            } else {
                st->has_re = 1;
            }
            free(pat);
        }
    } else if (!strcmp(key, "min")) st->has_min = number(p, v, sub, &st->min) == 0;
    else if (!strcmp(key, "max")) st->has_max = number(p, v, sub, &st->max) == 0;
    else if (!strcmp(key, "retry_text")) st->retry_text = tmpl(p, v, sub, 4096);
    else if (!strcmp(key, "max_retries")) integer(p, v, sub, 0, 10, &st->max_retries);
    else if (!strcmp(key, "on_fail")) ref(p, v, sub, &st->on_fail);
    else if (!strcmp(key, "attributes")) pairs(p, v, sub, 1, 1, &st->attrs, &st->n_attrs);
    else if (!strcmp(key, "tags")) tags(p, v, sub, st);
    else if (!strcmp(key, "method")) {
        st->method = str(p, v, sub, 8);
        if (st->method && strcmp(st->method, "GET") && strcmp(st->method, "POST"))
            fail(p, v, sub, "expected GET or POST");
    } else if (!strcmp(key, "url")) {
        st->url = tmpl(p, v, sub, 2048);
        if (st->url && strncmp(st->url, "http://", 7) && strncmp(st->url, "https://", 8) &&
            strncmp(st->url, "{{secret.", 9))
            fail(p, v, sub, "expected an http:// or https:// URL");
    } else if (!strcmp(key, "body")) st->body = tmpl(p, v, sub, 16384);
    else if (!strcmp(key, "headers")) pairs(p, v, sub, 0, 1, &st->headers, &st->n_headers);
    else if (!strcmp(key, "extract")) {
        pairs(p, v, sub, 1, 0, &st->extract, &st->n_extract);
        for (size_t i = 0; i < st->n_extract; i++)
            if (bb_jpath_check(st->extract[i].value) != 0)
                fail(p, v, sub, "%s: bad path \"%s\": expected a form like data.orders[0].status",
                     st->extract[i].key, st->extract[i].value);
    }
    else if (!strcmp(key, "timeout")) duration(p, v, sub, &st->timeout_ms);
    else if (!strcmp(key, "retries")) integer(p, v, sub, 0, 5, &st->retries);
    else if (!strcmp(key, "on_error")) ref(p, v, sub, &st->on_error);
    else if (!strcmp(key, "group")) st->group = str(p, v, sub, 128);
    else if (!strcmp(key, "skill")) st->skill = str(p, v, sub, 128);
    else if (!strcmp(key, "level")) integer(p, v, sub, 0, 10, &st->level);
    else if (!strcmp(key, "reason")) st->reason = str(p, v, sub, 512);
    else if (!strcmp(key, "limit")) integer(p, v, sub, 1, 10, &st->limit);
    else if (!strcmp(key, "rating")) boolean(p, v, sub, &st->rating);
}

static void required(P *p, const yaml_node_t *n, const char *path, const void *v, const char *key)
{
    if (!v) fail(p, n, path, "%s: required", key);
}

static void step(P *p, bb_step *st, const yaml_node_t *k, const yaml_node_t *n)
{
    char path[200];
    snprintf(path, sizeof path, "steps.%s", st->id);
    st->line = LINE(k);
    st->col = COL(k);
    st->next.ix = st->fallback.ix = st->on_fail.ix = st->on_error.ix = -1;
    st->max_retries = 2;
    st->timeout_ms = 5000;
    st->limit = 3;
    st->rating = 1;
    if (n->type != YAML_MAPPING_NODE) {
        fail(p, n, path, "expected a map with a kind");
        return;
    }
    int kind = -1;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *key = scalar(node(p, pr->key));
        if (!key || strcmp(key, "kind")) continue;
        yaml_node_t *v = node(p, pr->value);
        for (int i = 0; i <= BB_END && scalar(v); i++)
            if (!strcmp(scalar(v), k_kind_names[i])) kind = i;
        if (kind < 0)
            fail(p, v, path, "unknown kind \"%s\": expected menu, message, goto, ask, set, api, "
                 "handoff, textbot or end", scalar(v) ? scalar(v) : "?");
    }
    if (kind < 0) {
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
             pr < n->data.mapping.pairs.top; pr++)
            if (scalar(node(p, pr->key)) && !strcmp(scalar(node(p, pr->key)), "kind")) return;
        fail(p, n, path, "kind: required");
        return;
    }
    st->kind = (bb_kind)kind;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        yaml_node_t *k2 = node(p, pr->key), *v = node(p, pr->value);
        const char *key = scalar(k2) ? scalar(k2) : "?";
        char sub[300];
        snprintf(sub, sizeof sub, "%s.%s", path, key);
        if (dup_key(p, n, pr, sub)) continue;
        size_t i = 0;
        while (i < sizeof k_keys / sizeof *k_keys && strcmp(k_keys[i].name, key)) i++;
        if (i == sizeof k_keys / sizeof *k_keys) {
            fail(p, k2, sub, "unknown key");
            continue;
        }
        if (!(k_keys[i].kinds & (1u << kind))) {
            fail(p, k2, sub, "not a key of a %s step", k_kind_names[kind]);
            continue;
        }
        if (strcmp(key, "kind")) step_key(p, st, key, v, sub);
    }
    switch (st->kind) {
    case BB_MENU:
        required(p, n, path, st->text, "text");
        if (st->buttons && st->n_buttons == 0) fail(p, n, path, "empty menu: buttons has no item");
        else required(p, n, path, st->buttons, "buttons");
        break;
    case BB_MESSAGE:
        required(p, n, path, st->text, "text");
        /* fall through */
    case BB_SET:
    case BB_TEXTBOT:
        required(p, n, path, st->next.id, "next");
        if (st->kind == BB_SET && !st->n_attrs && !st->n_tags)
            fail(p, n, path, "attributes or tags: required");
        break;
    case BB_GOTO: required(p, n, path, st->next.id, "to"); break;
    case BB_ASK:
        required(p, n, path, st->text, "text");
        required(p, n, path, st->into, "into");
        required(p, n, path, st->next.id, "next");
        if (st->validate == BB_V_REGEX && !st->has_re) required(p, n, path, NULL, "pattern");
        if (st->has_re && st->validate != BB_V_REGEX)
            fail(p, n, path, "pattern: only with validate: regex");
        if ((st->has_min || st->has_max) && st->validate != BB_V_NUMBER)
            fail(p, n, path, "min and max: only with validate: number");
        break;
    case BB_API:
        required(p, n, path, st->url, "url");
        required(p, n, path, st->next.id, "next");
        if (st->body && (!st->method || strcmp(st->method, "POST")))
            fail(p, n, path, "body: only with method: POST");
        break;
    default: break;
    }
}

static void top(P *p, bb_scenario *s, yaml_node_t *root)
{
    if (!root || root->type != YAML_MAPPING_NODE) {
        fail(p, root, "scenario", "expected a map with start and steps");
        return;
    }
    yaml_node_t *steps = NULL;
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top;
         pr++) {
        yaml_node_t *k = node(p, pr->key), *v = node(p, pr->value);
        const char *key = scalar(k) ? scalar(k) : "?";
        if (dup_key(p, root, pr, key)) continue;
        if (!strcmp(key, "start")) ref(p, v, "start", &s->start);
        else if (!strcmp(key, "steps")) steps = v;
        else if (!strcmp(key, "operator")) {
            if (v->type != YAML_MAPPING_NODE) {
                fail(p, v, "operator", "expected a map {title, group}");
                continue;
            }
            for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top;
                 q++) {
                const char *ok = scalar(node(p, q->key)) ? scalar(node(p, q->key)) : "?";
                char sub[160];
                snprintf(sub, sizeof sub, "operator.%s", ok);
                if (dup_key(p, v, q, sub)) continue;
                if (!strcmp(ok, "title")) s->operator_title = str(p, node(p, q->value), sub, 128);
                else if (!strcmp(ok, "group")) s->operator_group = str(p, node(p, q->value), sub, 128);
                else fail(p, node(p, q->key), sub, "unknown key (expected title or group)");
            }
        } else {
            fail(p, k, key, "unknown key (expected start, operator or steps)");
        }
    }
    if (!s->start.id) fail(p, root, "start", "required");
    if (!steps) {
        fail(p, root, "steps", "required");
        return;
    }
    if (steps->type != YAML_MAPPING_NODE) {
        fail(p, steps, "steps", "expected a map of step id to step");
        return;
    }
    size_t cnt = (size_t)(steps->data.mapping.pairs.top - steps->data.mapping.pairs.start);
    if (cnt == 0 || cnt > BB_MAX_STEPS) {
        fail(p, steps, "steps", "expected 1 to %d steps", BB_MAX_STEPS);
        return;
    }
    s->steps = calloc(cnt, sizeof *s->steps);
    if (!s->steps) return;
    for (size_t i = 0; i < cnt; i++) {
        yaml_node_pair_t *pr = &steps->data.mapping.pairs.start[i];
        yaml_node_t *k = node(p, pr->key);
        char *id = str(p, k, "steps", 128);
        if (!id) continue;
        if (!*id) {
            fail(p, k, "steps", "empty step id");
            free(id);
            continue;
        }
        if (bb_scenario_find(s, id) >= 0) {
            fail(p, k, "steps", "duplicate step id \"%s\"", id);
            free(id);
            continue;
        }
        bb_step *st = &s->steps[s->n_steps++];
        st->id = id;
        step(p, st, k, node(p, pr->value));
    }
}

bb_scenario *bb_scenario_parse(const char *source, const char *text, size_t len, bb_errors *err)
{
    if (len > BB_MAX_TEXT) {
        bb_errors_add(err, source, 1, 1, "scenario: larger than %d bytes", BB_MAX_TEXT);
        return NULL;
    }
    bb_scenario *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->refs = 1;
    s->start.ix = -1;
    s->source = strdup(source);
    s->text = malloc(len + 1);
    if (!s->source || !s->text) {
        bb_errors_add(err, source, 1, 1, "scenario: out of memory");
        bb_scenario_unref(s);
        return NULL;
    }
    memcpy(s->text, text, len);
    s->text[len] = 0;
    s->text_len = len;

    yaml_parser_t parser;
    yaml_document_t doc;
    size_t before = err->n + err->dropped;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        bb_errors_add(err, source, (int)parser.problem_mark.line + 1,
                      (int)parser.problem_mark.column + 1, "not valid YAML: %s",
                      parser.problem ? parser.problem : "parse error");
        yaml_parser_delete(&parser);
        bb_scenario_unref(s);
        return NULL;
    }
    P p = {&doc, source, err};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) fail(&p, NULL, "scenario", "empty document");
    else top(&p, s, root);
    yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (err->n + err->dropped == before) bb_scenario_check(s, err);
    if (err->n + err->dropped != before) {
        bb_scenario_unref(s);
        return NULL;
    }
    return s;
}
