/* The dialog. A question gets the titles of the best articles as buttons;
 * a pressed article is shown and followed by "did it help?"; "yes" closes
 * with a rating request; "no" or a question without a good match counts as
 * a failed attempt, and handoff_after of them in a row hand the client to
 * an operator, as does the operator button offered with every answer. The
 * buttons carry the article id, so the only state kept is the count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textbot.h"

#define REASON_QUESTION_MAX 300   /* bytes of the question quoted in a hand-off reason */
#define BTN_ID_MAX (sizeof TBP_BTN_YES + TB_ID_MAX)

static sb_status say(textbot *b, const char *conv, const char *text, const sb_button *btns,
                     size_t n)
{
    return b->host->bot_reply(b->ctx, conv, text, btns, n);
}

static sb_status say_with_operator(textbot *b, const char *conv, const char *text)
{
    sb_button op = {TBP_BTN_OPERATOR, b->t.operator_button};
    return say(b, conv, text, &op, 1);
}

/* A conversation that left the bot (SB_ERR_STATE) is no error of the bot;
 * anything else is returned so the core hands the client to operators. */
static sb_status outcome(sb_status st)
{
    return st == SB_ERR_STATE ? SB_OK : st;
}

static sb_status handoff(textbot *b, const char *conv, const char *reason)
{
    /* the client is told first; the hand-off happens even if that fails */
    say(b, conv, b->t.handoff, NULL, 0);
    sb_status st = b->host->bot_handoff(b->ctx, conv, NULL, NULL, 0, reason);
    tbp_conv_forget(b, conv);
    b->host->metric_add(b->ctx, "handoffs", 1);
    return outcome(st);
}

/* One failed attempt: hand off when they reach handoff_after in a row,
 * else say `text` with the operator button. */
static sb_status failed(textbot *b, const char *conv, const char *text, const char *reason)
{
    tbp_conv *c = tbp_conv_get(b, conv);
    uint32_t fails = 1;
    if (c) {
        fails = ++c->fails;
        tbp_conv_changed(b);
    }
    if (b->handoff_after && fails >= (uint64_t)b->handoff_after) {
        char why[512];
        snprintf(why, sizeof why, "Автоматически после %u неудачных попыток подряд. %s", fails,
                 reason);
        why[tbp_utf8_cut(why, sizeof why - 1)] = 0;
        return handoff(b, conv, why);
    }
    return outcome(say_with_operator(b, conv, text));
}

static sb_status question(textbot *b, const char *conv, const char *text)
{
    tb_result r[TBP_ANSWERS_MAX];
    size_t n = 0, good = 0;
    tb_search(b->ix, text, (size_t)b->answers, r, &n);
    while (good < n && r[good].score >= b->threshold) good++;
    b->host->metric_add(b->ctx, "questions", 1);
    if (!good) {
        tbp_unanswered_add(b, text, conv);
        b->host->metric_add(b->ctx, "unanswered", 1);
        char q[REASON_QUESTION_MAX + 1], reason[512];
        snprintf(q, sizeof q, "%.*s", (int)tbp_utf8_cut(text, REASON_QUESTION_MAX), text);
        snprintf(reason, sizeof reason, "Бот не нашёл ответа на вопрос «%s».", q);
        return failed(b, conv, b->t.no_match, reason);
    }
    tbp_conv *c = tbp_conv_get(b, conv);
    if (c && c->fails) {
        c->fails = 0;
        tbp_conv_changed(b);
    }
    sb_button btns[TBP_ANSWERS_MAX + 1];
    char ids[TBP_ANSWERS_MAX][BTN_ID_MAX];
    for (size_t i = 0; i < good; i++) {
        snprintf(ids[i], sizeof ids[i], "%s%.64s", TBP_BTN_ARTICLE, r[i].id);
        btns[i] = (sb_button){ids[i], tb_index_title(b->ix, r[i].id)};
    }
    btns[good] = (sb_button){TBP_BTN_OPERATOR, b->t.operator_button};
    b->host->metric_add(b->ctx, "answered", 1);
    return outcome(say(b, conv, b->t.choose, btns, good + 1));
}

static sb_status show_article(textbot *b, const char *conv, const char *id)
{
    char *text = tbp_valid_id(id) && tbp_kb_has(b, id) ? tbp_kb_get_json(b, id, NULL) : NULL;
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    const char *body = json_string_value(json_object_get(o, "body"));
    sb_status st;
    if (!body) {
        st = say_with_operator(b, conv, b->t.gone);
    } else {
        char yes[BTN_ID_MAX], no[BTN_ID_MAX];
        snprintf(yes, sizeof yes, "%s%s", TBP_BTN_YES, id);
        snprintf(no, sizeof no, "%s%s", TBP_BTN_NO, id);
        sb_button btns[3] = {{yes, b->t.yes}, {no, b->t.no}, {TBP_BTN_OPERATOR, b->t.operator_button}};
        b->host->metric_add(b->ctx, "articles_shown", 1);
        st = say(b, conv, body, NULL, 0);
        if (st == SB_OK) st = say(b, conv, b->t.helped, btns, 3);
    }
    json_decref(o);
    free(text);
    return outcome(st);
}

static sb_status not_helped(textbot *b, const char *conv, const char *id)
{
    const char *title = tbp_valid_id(id) ? tb_index_title(b->ix, id) : NULL;
    char t[TBP_TITLE_MAX / 2 + 1], reason[512];
    snprintf(t, sizeof t, "%.*s", title ? (int)tbp_utf8_cut(title, TBP_TITLE_MAX / 2) : 0,
             title ? title : "");
    snprintf(reason, sizeof reason, "Статья «%s» не помогла клиенту.", title ? t : id);
    b->host->metric_add(b->ctx, "not_helped", 1);
    return failed(b, conv, b->t.not_helped, reason);
}

static int starts(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n)) return 0;
    *rest = s + n;
    return 1;
}

sb_status tbp_bot_event(void *state, const sb_bot_event *ev)
{
    textbot *b = state;
    if (!ev || !ev->conversation_id) return SB_ERR_INVALID;
    const char *conv = ev->conversation_id, *btn = ev->button_id, *id;
    if (btn) {
        if (!strcmp(btn, TBP_BTN_OPERATOR)) return handoff(b, conv, "Клиент попросил оператора.");
        if (starts(btn, TBP_BTN_ARTICLE, &id)) return show_article(b, conv, id);
        if (starts(btn, TBP_BTN_NO, &id)) return not_helped(b, conv, id);
        if (starts(btn, TBP_BTN_YES, &id)) {
            b->host->metric_add(b->ctx, "helped", 1);
            sb_status st = say(b, conv, b->t.thanks, NULL, 0);
            if (st == SB_OK) st = b->host->bot_close(b->ctx, conv, 1);
            tbp_conv_forget(b, conv);
            return outcome(st);
        }
        /* a button of someone else (an old menu): read the text, if any */
    }
    const char *text = ev->text ? ev->text : "";
    size_t terms = tb_query_terms(b->ix, text);
    if (ev->kind == SB_BOT_START && *b->t.greeting) {
        /* the greeting asks for the question: nothing more to say without one */
        sb_status st = terms ? say(b, conv, b->t.greeting, NULL, 0)
                             : say_with_operator(b, conv, b->t.greeting);
        if (st != SB_OK || !terms) return outcome(st);
    } else if (!terms) {
        return outcome(say_with_operator(b, conv, b->t.not_text));
    }
    return question(b, conv, text);
}
