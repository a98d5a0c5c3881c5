/* Running a scenario: entering steps until one waits for the client, and
 * taking the client's answer at the step that waits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* ---- templates against the conversation ---------------------------------- */
typedef struct {
    bb_conv *c;
    json_t *conv;   /* conversation_get, fetched at the first need */
    int fetched;
    char num[64];
} lookup_ctx;

static json_t *fetch(bb_conv *c)
{
    const sb_host *h = c->s->host;
    size_t cap = 16 << 10, len = 0;
    for (int i = 0; i < 2; i++) {
        char *buf = malloc(cap + 1);
        if (!buf) return NULL;
        sb_status st = h->conversation_get(c->s->ctx, c->id, buf, cap + 1, &len);
        if (st == SB_OK) {
            json_t *j = json_loadb(buf, len, 0, NULL);
            free(buf);
            return j;
        }
        free(buf);
        if (st != SB_ERR_TOO_BIG || len > (1u << 20)) return NULL;
        cap = len;
    }
    return NULL;
}

static const char *lookup(void *ud, const char *ns, const char *name)
{
    lookup_ctx *L = ud;
    bb_state *s = L->c->s;
    if (!strcmp(ns, "secret")) {
        for (size_t i = 0; i < s->n_secrets; i++)
            if (!strcmp(s->secrets[i].name, name)) return s->secrets[i].value;
        return NULL;
    }
    char key[96];
    snprintf(key, sizeof key, "%s.%s", ns, name);
    const char *v = json_string_value(json_object_get(L->c->vars, key));
    if (v) return v;
    if (!L->fetched) {
        L->fetched = 1;
        L->conv = fetch(L->c);
    }
    json_t *obj = json_object_get(L->conv, ns);
    json_t *x = json_object_get(json_object_get(obj, "attributes"), name);
    if (!x) x = json_object_get(obj, name);  /* client.phone, client.name, ... */
    if (json_is_string(x)) return json_string_value(x);
    if (json_is_integer(x)) {
        snprintf(L->num, sizeof L->num, "%lld", (long long)json_integer_value(x));
        return L->num;
    }
    if (json_is_real(x)) {
        snprintf(L->num, sizeof L->num, "%g", json_real_value(x));
        return L->num;
    }
    return NULL;
}

char *bb_render(bb_conv *c, const char *t, bb_escape esc)
{
    lookup_ctx L = {c, NULL, 0, ""};
    char *r = bb_template_render(t ? t : "", esc, lookup, &L);
    json_decref(L.conv);
    return r;
}

sb_status bb_set_value(bb_conv *c, const char *attr, const char *value)
{
    bb_state *s = c->s;
    const char *dot = strchr(attr, '.');
    sb_scope scope = strncmp(attr, "client.", 7) ? SB_SCOPE_CONVERSATION : SB_SCOPE_CLIENT;
    json_t *o = json_pack("{s:s}", dot + 1, value);
    char *txt = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!txt) return SB_ERR_INVALID;  /* not UTF-8 */
    sb_status st = s->host->bot_set_attributes(s->ctx, c->id, scope, txt);
    free(txt);
    if (json_object_size(c->vars) < BB_MAX_VARS || json_object_get(c->vars, attr))
        json_object_set_new(c->vars, attr, json_string(value));
    return st;
}

/* ---- ending the bot's part ----------------------------------------------- */
static sb_status say(bb_conv *c, const char *t)
{
    char *text = bb_render(c, t, BB_ESC_NONE);
    if (!text) return SB_ERR_NOMEM;
    sb_status st = *text ? c->s->host->bot_reply(c->s->ctx, c->id, text, NULL, 0) : SB_OK;
    free(text);
    return st;
}

static sb_status handoff(bb_conv *c, const char *group, const char *skill, int level,
                         const char *reason)
{
    bb_state *s = c->s;
    sb_status st = s->host->bot_handoff(s->ctx, c->id, group, skill, level, reason);
    if (st != SB_OK)
        s->host->log(s->ctx, SB_LOG_WARN, "conversation %s: hand-off failed: %s", c->id,
                     s->host->strstatus(st));
    bb_conv_drop(c);
    return st;
}

sb_status bb_handoff_error(bb_conv *c, const char *text, const char *reason)
{
    if (c->dead) return SB_ERR_STATE;
    say(c, text ? text : c->s->texts.api_error);
    return handoff(c, c->sc->operator_group, NULL, 0, reason);
}

static sb_status to_operator(bb_conv *c)
{
    char reason[300];
    snprintf(reason, sizeof reason, "the client asked for an operator at step \"%s\"",
             c->sc->steps[c->step].id);
    say(c, c->s->texts.handoff);
    return handoff(c, c->sc->operator_group, NULL, 0, reason);
}

/* ---- entering steps ---------------------------------------------------------- */
static sb_status show_menu(bb_conv *c, const bb_step *st, const char *prefix)
{
    bb_choice ch[BB_MAX_BUTTONS + 1];
    size_t n = bb_menu_choices(c, st, ch);
    char *text = bb_render(c, st->text, BB_ESC_NONE);
    if (!text) return SB_ERR_NOMEM;
    sb_status r;
    if (prefix) {
        char *both = malloc(strlen(prefix) + strlen(text) + 3);
        if (!both) {
            free(text);
            return SB_ERR_NOMEM;
        }
        sprintf(both, "%s\n\n%s", prefix, text);
        r = bb_send_menu(c, both, ch, n);
        free(both);
    } else {
        r = bb_send_menu(c, text, ch, n);
    }
    free(text);
    return r;
}

/* A prompt with only the operator button (ask, textbot). */
static sb_status prompt(bb_conv *c, const char *t)
{
    bb_choice op = {c->sc->operator_title ? c->sc->operator_title : c->s->texts.operator_title, "op"};
    char *text = bb_render(c, t, BB_ESC_NONE);
    if (!text) return SB_ERR_NOMEM;
    sb_status r = bb_send_menu(c, text, &op, 1);
    free(text);
    return r;
}

static sb_status set_step(bb_conv *c, const bb_step *st)
{
    bb_state *s = c->s;
    for (size_t i = 0; i < st->n_attrs; i++) {
        char *v = bb_render(c, st->attrs[i].value, BB_ESC_NONE);
        sb_status r = v ? bb_set_value(c, st->attrs[i].key, v) : SB_ERR_NOMEM;
        free(v);
        if (r != SB_OK) return r;
    }
    for (size_t i = 0; i < st->n_tags; i++) {
        const char *t = st->tags[i];
        sb_scope scope = strncmp(t, "client.", 7) ? SB_SCOPE_CONVERSATION : SB_SCOPE_CLIENT;
        sb_status r = s->host->bot_add_tag(s->ctx, c->id, scope, strchr(t, '.') + 1);
        if (r != SB_OK) return r;
    }
    return SB_OK;
}

sb_status bb_enter(bb_conv *c, int ix, const char *input)
{
    bb_state *s = c->s;
    for (int n = 0; n < BB_MAX_AUTO_STEPS; n++) {
        const bb_step *st = &c->sc->steps[ix];
        c->step = ix;
        c->reasks = 0;
        sb_status r = SB_OK;
        switch (st->kind) {
        case BB_MENU:
            r = show_menu(c, st, NULL);
            bb_conv_save(c);
            return r;
        case BB_ASK:
            r = prompt(c, st->text);
            bb_conv_save(c);
            return r;
        case BB_TEXTBOT:
            bb_conv_save(c);
            if (input) return bb_kb_search(c, input);
            return prompt(c, st->text ? st->text : s->texts.textbot_prompt);
        case BB_API:
            bb_conv_save(c);
            c->tries = 0;
            return bb_api_start(c);
        case BB_HANDOFF: {
            if (st->text) say(c, st->text);
            char reason[600];
            snprintf(reason, sizeof reason, "%s", st->reason ? st->reason : "");
            if (!st->reason)
                snprintf(reason, sizeof reason, "scenario step \"%s\"", st->id);
            return handoff(c, st->group ? st->group : c->sc->operator_group, st->skill,
                           st->level, reason);
        }
        case BB_END: {
            if (st->text) r = say(c, st->text);
            sb_status cl = s->host->bot_close(s->ctx, c->id, st->rating);
            bb_conv_drop(c);
            return r != SB_OK ? r : cl;
        }
        case BB_MESSAGE:
            r = say(c, st->text);
            break;
        case BB_SET:
            if (st->text) say(c, st->text);
            r = set_step(c, st);
            break;
        case BB_GOTO:
            break;
        }
        if (r != SB_OK) return r;
        ix = st->next.ix;
        input = NULL;
    }
    /* Validation forbids loops that never wait; this bounds a bug. */
    s->host->log(s->ctx, SB_LOG_ERROR, "conversation %s: more than %d steps without a question",
                 c->id, BB_MAX_AUTO_STEPS);
    return SB_ERR_STATE;
}

/* ---- the client's answer ------------------------------------------------- */
static sb_status reprompt(bb_conv *c, const bb_step *st)
{
    bb_state *s = c->s;
    if (st->kind == BB_MENU) return show_menu(c, st, s->texts.reprompt);
    return prompt(c, s->texts.reprompt);
}

static sb_status answer_ask(bb_conv *c, const bb_step *st, const char *text)
{
    bb_state *s = c->s;
    char v[BB_MAX_VALUE + 32];
    if (text && bb_validate(st, text, v, sizeof v) == 0) {
        sb_status r = bb_set_value(c, st->into, v);
        if (r != SB_OK) return r;
        return bb_enter(c, st->next.ix, NULL);
    }
    if (++c->reasks > st->max_retries) {
        if (st->on_fail.ix >= 0) return bb_enter(c, st->on_fail.ix, NULL);
        char reason[300];
        snprintf(reason, sizeof reason, "no valid answer to step \"%s\" after %d tries", st->id,
                 c->reasks);
        say(c, s->texts.ask_failed);
        return handoff(c, c->sc->operator_group, NULL, 0, reason);
    }
    bb_conv_save(c);
    return prompt(c, st->retry_text ? st->retry_text : st->text);
}

/* A button id: "op", "kb:<article>", "<step>/<n>" of a menu. */
static sb_status press(bb_conv *c, const char *id)
{
    const bb_step *cur = &c->sc->steps[c->step];
    if (!strcmp(id, "op")) return to_operator(c);
    if (!strncmp(id, "kb:", 3) && cur->kind == BB_TEXTBOT) return bb_kb_article(c, id + 3);
    const char *slash = strrchr(id, '/');
    if (slash && slash - id < 200) {
        char step[200];
        memcpy(step, id, (size_t)(slash - id));
        step[slash - id] = 0;
        char *end;
        long b = strtol(slash + 1, &end, 10);
        int ix = bb_scenario_find(c->sc, step);
        /* An earlier menu's button still works: the client chose it. */
        if (ix >= 0 && !*end && slash[1] && c->sc->steps[ix].kind == BB_MENU && b >= 0 &&
            (size_t)b < c->sc->steps[ix].n_buttons)
            return bb_enter(c, c->sc->steps[ix].buttons[b].go.ix, NULL);
    }
    return reprompt(c, cur);
}

static sb_status answer(bb_conv *c, const char *text, const char *button)
{
    const bb_step *st = &c->sc->steps[c->step];
    /* The operator is always there, even while a call runs (it is cancelled). */
    if (button && *button ? !strcmp(button, "op") : bb_wants_operator(c->s, text))
        return to_operator(c);
    if (c->call_id) return SB_OK;  /* the answer of the call in flight comes next */
    if (button && *button) return press(c, button);
    if (!bb_kind_waits(st->kind)) return bb_enter(c, c->step, NULL);  /* restarted mid-way */
    if (st->kind == BB_ASK) return answer_ask(c, st, text);
    if (!text || !*text) return reprompt(c, st);
    if (st->kind == BB_TEXTBOT) {
        /* "2" picks the second article shown where buttons became text. */
        json_t *ids = json_object_get(c->vars, "_kb");
        bb_choice ch[12];
        size_t n = 0;
        for (; n < json_array_size(ids) && n < 10; n++) ch[n].title = "";
        ch[n].title = "";  /* the operator, numbered last */
        int k = n ? bb_pick(text, ch, n + 1) : -1;
        if (k >= 0 && (size_t)k == n) return to_operator(c);
        if (k >= 0) return bb_kb_article(c, json_string_value(json_array_get(ids, (size_t)k)));
        return bb_kb_search(c, text);
    }
    bb_choice ch[BB_MAX_BUTTONS + 1];
    size_t n = bb_menu_choices(c, st, ch);
    int k = bb_pick(text, ch, n);
    if (k >= 0) return press(c, ch[k].id);
    if (st->fallback.ix >= 0) return bb_enter(c, st->fallback.ix, text);
    return reprompt(c, st);
}

sb_status bb_bot_event(void *state, const sb_bot_event *ev)
{
    bb_state *s = state;
    bb_convs_reap(s);
    if (!ev->conversation_id || !*ev->conversation_id) return SB_ERR_INVALID;
    bb_conv *c = ev->kind == SB_BOT_MESSAGE ? bb_conv_find(s, ev->conversation_id) : NULL;
    if (!c) {
        /* New, or unknown after a restart with a replaced scenario. */
        c = bb_conv_new(s, ev->conversation_id, ev->channel);
        if (!c) return SB_ERR_NOMEM;
        return bb_enter(c, c->step, NULL);
    }
    if (ev->channel && strcmp(c->channel, ev->channel))
        snprintf(c->channel, sizeof c->channel, "%s", ev->channel);
    return answer(c, ev->text, ev->button_id);
}
