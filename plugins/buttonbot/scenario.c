/* Scenario lifetime, errors, and the checks that need the whole graph:
 * references, reachability of an exit, loops that never wait. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

void bb_errors_add(bb_errors *e, const char *source, int line, int col, const char *fmt, ...)
{
    if (e->n == BB_MAX_ERRORS) {
        e->dropped++;
        return;
    }
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t n = strlen(source) + strlen(msg) + 32;
    char *s = malloc(n);
    if (!s) {
        e->dropped++;
        return;
    }
    snprintf(s, n, "%s:%d:%d: %s", source, line, col, msg);
    e->items[e->n++] = s;
}

char *bb_errors_join(const bb_errors *e)
{
    size_t n = 64;
    for (size_t i = 0; i < e->n; i++) n += strlen(e->items[i]) + 2;
    char *s = malloc(n), *p = s;
    if (!s) return NULL;
    *p = 0;
    for (size_t i = 0; i < e->n; i++) p += sprintf(p, "%s%s", i ? "; " : "", e->items[i]);
    if (e->dropped) sprintf(p, "; and %zu more", e->dropped);
    return s;
}

void bb_errors_free(bb_errors *e)
{
    for (size_t i = 0; i < e->n; i++) free(e->items[i]);
    e->n = e->dropped = 0;
}

int bb_scenario_find(const bb_scenario *s, const char *id)
{
    for (size_t i = 0; i < s->n_steps; i++)
        if (s->steps[i].id && !strcmp(s->steps[i].id, id)) return (int)i;
    return -1;
}

void bb_scenario_ref(bb_scenario *s) { s->refs++; }

static void free_pairs(bb_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].key);
        free(p[i].value);
    }
    free(p);
}

static void free_step(bb_step *st)
{
    free(st->id);
    free(st->text);
    free(st->next.id);
    for (size_t i = 0; i < st->n_buttons; i++) {
        free(st->buttons[i].title);
        free(st->buttons[i].go.id);
    }
    free(st->buttons);
    free(st->fallback.id);
    free(st->into);
    if (st->has_re) regfree(&st->re);
    free(st->retry_text);
    free(st->on_fail.id);
    free_pairs(st->attrs, st->n_attrs);
    for (size_t i = 0; i < st->n_tags; i++) free(st->tags[i]);
    free(st->tags);
    free(st->method);
    free(st->url);
    free(st->body);
    free_pairs(st->headers, st->n_headers);
    free_pairs(st->extract, st->n_extract);
    free(st->on_error.id);
    free(st->group);
    free(st->skill);
    free(st->reason);
}

void bb_scenario_unref(bb_scenario *s)
{
    if (!s || --s->refs > 0) return;
    for (size_t i = 0; i < s->n_steps; i++) free_step(&s->steps[i]);
    free(s->steps);
    free(s->start.id);
    free(s->operator_title);
    free(s->operator_group);
    free(s->source);
    free(s->text);
    free(s);
}

static void resolve(bb_scenario *s, bb_ref *r, const char *path, bb_errors *err)
{
    if (!r->id) return;
    r->ix = bb_scenario_find(s, r->id);
    if (r->ix < 0) bb_errors_add(err, s->source, r->line, r->col, "%s: unknown step \"%s\"", path, r->id);
}

/* Successors of step i: returns their count in out (at most
 * BB_MAX_BUTTONS + 4). `automatic` keeps only the edges taken without the
 * client (a step that does not wait). */
static size_t succ(const bb_scenario *s, size_t i, int *out)
{
    const bb_step *st = &s->steps[i];
    size_t n = 0;
    if (st->next.ix >= 0) out[n++] = st->next.ix;
    if (st->fallback.ix >= 0) out[n++] = st->fallback.ix;
    if (st->on_fail.ix >= 0) out[n++] = st->on_fail.ix;
    if (st->on_error.ix >= 0) out[n++] = st->on_error.ix;
    for (size_t b = 0; b < st->n_buttons; b++)
        if (st->buttons[b].go.ix >= 0) out[n++] = st->buttons[b].go.ix;
    return n;
}

/* A step ends the bot's part by itself: end and handoff, and every step
 * that offers the operator or hands off on failure (menus and the text
 * bot always show "talk to an operator"; ask and api hand off by default). */
static int is_exit(const bb_step *st)
{
    return st->kind == BB_END || st->kind == BB_HANDOFF || st->kind == BB_MENU ||
           st->kind == BB_TEXTBOT || (st->kind == BB_ASK && st->on_fail.ix < 0) ||
           (st->kind == BB_API && st->on_error.ix < 0);
}

size_t bb_scenario_check(bb_scenario *s, bb_errors *err)
{
    size_t before = err->n + err->dropped;
    char path[300];
    resolve(s, &s->start, "start", err);
    for (size_t i = 0; i < s->n_steps; i++) {
        bb_step *st = &s->steps[i];
        snprintf(path, sizeof path, "steps.%s.%s", st->id, st->kind == BB_GOTO ? "to" : "next");
        resolve(s, &st->next, path, err);
        snprintf(path, sizeof path, "steps.%s.fallback", st->id);
        resolve(s, &st->fallback, path, err);
        snprintf(path, sizeof path, "steps.%s.on_fail", st->id);
        resolve(s, &st->on_fail, path, err);
        snprintf(path, sizeof path, "steps.%s.on_error", st->id);
        resolve(s, &st->on_error, path, err);
        for (size_t b = 0; b < st->n_buttons; b++) {
            snprintf(path, sizeof path, "steps.%s.buttons[%zu].goto", st->id, b);
            resolve(s, &st->buttons[b].go, path, err);
        }
        if (st->kind == BB_MENU && st->fallback.ix >= 0 &&
            s->steps[st->fallback.ix].kind != BB_TEXTBOT && s->steps[st->fallback.ix].kind != BB_ASK)
            bb_errors_add(err, s->source, st->fallback.line, st->fallback.col,
                          "steps.%s.fallback: must name a textbot or ask step", st->id);
    }
    if (err->n + err->dropped != before) return err->n + err->dropped - before;

    size_t n = s->n_steps;
    int *reach = calloc(n, sizeof *reach), *color = calloc(n, sizeof *color);
    int *stack = calloc(n, sizeof *stack), *pos = calloc(n, sizeof *pos);
    int edges[BB_MAX_BUTTONS + 8];
    if (!reach || !color || !stack || !pos) goto out;

    /* Which steps can reach an exit: fixpoint over the (small) graph. */
    for (size_t i = 0; i < n; i++) reach[i] = is_exit(&s->steps[i]);
    for (int changed = 1; changed; ) {
        changed = 0;
        for (size_t i = 0; i < n; i++) {
            if (reach[i]) continue;
            size_t k = succ(s, i, edges);
            for (size_t e = 0; e < k && !reach[i]; e++)
                if (reach[edges[e]]) reach[i] = changed = 1;
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!reach[i])
            bb_errors_add(err, s->source, s->steps[i].line, s->steps[i].col,
                          "steps.%s: cycle without an exit: no end, handoff or menu is "
                          "reachable from here", s->steps[i].id);

    /* Loops of steps that never wait would spin without the client: an
     * iterative DFS over the automatic edges finds a back edge. */
    for (size_t root = 0; root < n; root++) {
        if (color[root] || bb_kind_waits(s->steps[root].kind)) continue;
        size_t sp = 0;
        stack[sp++] = (int)root;
        color[root] = 1;
        pos[root] = 0;
        while (sp) {
            int v = stack[sp - 1];
            size_t k = bb_kind_waits(s->steps[v].kind) ? 0 : succ(s, (size_t)v, edges);
            if ((size_t)pos[v] >= k) {
                color[v] = 2;
                sp--;
                continue;
            }
            int w = edges[pos[v]++];
            if (bb_kind_waits(s->steps[w].kind)) continue;
            if (color[w] == 1) {
                bb_errors_add(err, s->source, s->steps[w].line, s->steps[w].col,
                              "steps.%s: loop without a question: \"%s\" leads back here "
                              "without waiting for the client", s->steps[w].id, s->steps[v].id);
            } else if (color[w] == 0) {
                color[w] = 1;
                pos[w] = 0;
                stack[sp++] = w;
            }
        }
    }
out:
    free(reach);
    free(color);
    free(stack);
    free(pos);
    return err->n + err->dropped - before;
}
