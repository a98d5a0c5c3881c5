/* Test host: a bot's conversations. bot_event() driven by the test, the
 * bot_* calls checked and captured, which conversations are still held, and
 * conversation_get() answers the test registered. */
#include <stdlib.h>
#include <string.h>

#include "th_internal.h"

#define MAX_BUTTONS 20
#define MAX_BUTTON_ID 256
#define MAX_TAG 64
#define MAX_REASON 512

typedef struct conv {
    char *id;
    char *json;
} conv;

/* ---- conversations --------------------------------------------------------- */

static size_t released_at(const sb_th *th, const char *id)
{
    size_t i = 0;
    while (i < th->released.n && strcmp(th->released.v[i], id) != 0) i++;
    return i;
}

int sb_th_conversation_held(const sb_th *th, const char *id)
{
    return id && released_at(th, id) == th->released.n;
}

void sb_th_conversation_release(sb_th *th, const char *id)
{
    if (sb_th_conversation_held(th, id))
        sb_thi_push(&th->released, sb_thi_strdup(id));
}

static conv *find_conv(const sb_th *th, const char *id, size_t *at)
{
    for (size_t i = 0; i < th->conversations.n; i++) {
        conv *c = th->conversations.v[i];
        if (strcmp(c->id, id) == 0) {
            if (at) *at = i;
            return c;
        }
    }
    return NULL;
}

void sb_th_conversation_set(sb_th *th, const char *id, const char *json)
{
    if (!id) return;
    size_t at;
    conv *c = find_conv(th, id, &at);
    if (c) {
        free(c->json);
        if (!json) {
            free(c->id);
            free(c);
            sb_thi_remove(&th->conversations, at);
            return;
        }
    } else {
        if (!json) return;
        c = sb_thi_alloc(sizeof *c);
        c->id = sb_thi_strdup(id);
        sb_thi_push(&th->conversations, c);
    }
    c->json = sb_thi_strdup(json);
}

static sb_status h_conversation_get(sb_ctx *ctx, const char *id, char *buf,
                                    size_t cap, size_t *len)
{
    sb_th *th = sb_thi_enter(ctx, "conversation_get");
    if (!th) return SB_ERR_HANDLE;
    if (!id || !*id || !len || (cap && !buf)) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, "conversation_get");
    if (st != SB_OK) return st;
    const conv *c = find_conv(th, id, NULL);
    if (!c) return SB_ERR_NOT_FOUND;
    size_t n = strlen(c->json);
    *len = n;
    if (cap <= n) return SB_ERR_TOO_BIG;
    memcpy(buf, c->json, n + 1);
    return SB_OK;
}

/* ---- the bot's calls ----------------------------------------------------------- */

/* The common checks of bot_*: a live ctx, a conversation id, then the
 * injected fault, then a bot instance holding the conversation. */
static sb_status enter_bot(sb_ctx *ctx, const char *fn, const char *conv_id,
                           int args_ok, sb_th **out)
{
    sb_th *th = sb_thi_enter(ctx, fn);
    if (!th) return SB_ERR_HANDLE;
    if (!conv_id || !*conv_id || !args_ok) return SB_ERR_INVALID;
    sb_status st = sb_thi_fault(th, fn);
    if (st != SB_OK) return st;
    if (th->plugin->kind != SB_KIND_BOT) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: %s: this instance is no bot", fn);
        return SB_ERR_STATE;
    }
    if (!sb_th_conversation_held(th, conv_id)) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: %s: conversation %s is no longer "
                   "held by the bot", fn, conv_id);
        return SB_ERR_STATE;
    }
    *out = th;
    return SB_OK;
}

static sb_th_bot_action *record(sb_th *th, sb_th_bot_kind kind, const char *conv_id)
{
    sb_th_bot_action *a = sb_thi_alloc(sizeof *a);
    a->kind = kind;
    a->conversation_id = sb_thi_strdup(conv_id);
    sb_thi_push(&th->bot_actions, a);
    return a;
}

static int buttons_ok(const sb_button *b, size_t n)
{
    if (n > MAX_BUTTONS || (n && !b)) return 0;
    for (size_t i = 0; i < n; i++)
        if (!b[i].id || !*b[i].id || strlen(b[i].id) > MAX_BUTTON_ID || !b[i].title)
            return 0;
    return 1;
}

static sb_status h_bot_reply(sb_ctx *ctx, const char *conv_id, const char *text,
                             const sb_button *buttons, size_t n)
{
    sb_th *th;
    sb_status st = enter_bot(ctx, "bot_reply", conv_id,
                             (text || n) && buttons_ok(buttons, n), &th);
    if (st != SB_OK) return st;
    sb_th_bot_action *a = record(th, SB_TH_BOT_REPLY, conv_id);
    a->text = sb_thi_strdup(text);
    if (n) {
        sb_button *c = sb_thi_alloc(n * sizeof *c);
        for (size_t i = 0; i < n; i++) {
            c[i].id = sb_thi_strdup(buttons[i].id);
            c[i].title = sb_thi_strdup(buttons[i].title);
        }
        a->buttons = c;
        a->n_buttons = n;
    }
    return SB_OK;
}

static int scope_ok(sb_scope s)
{
    return s == SB_SCOPE_CLIENT || s == SB_SCOPE_CONVERSATION;
}

static sb_status h_bot_set_attributes(sb_ctx *ctx, const char *conv_id,
                                      sb_scope scope, const char *json)
{
    sb_th *th;
    sb_status st = enter_bot(ctx, "bot_set_attributes", conv_id,
                             scope_ok(scope) && sb_thi_json_flat_object(json), &th);
    if (st != SB_OK) return st;
    sb_th_bot_action *a = record(th, SB_TH_BOT_ATTRIBUTES, conv_id);
    a->scope = scope;
    a->json = sb_thi_strdup(json);
    return SB_OK;
}

static sb_status h_bot_add_tag(sb_ctx *ctx, const char *conv_id, sb_scope scope,
                               const char *tag)
{
    sb_th *th;
    int ok = scope_ok(scope) && tag && *tag && strlen(tag) <= MAX_TAG;
    sb_status st = enter_bot(ctx, "bot_add_tag", conv_id, ok, &th);
    if (st != SB_OK) return st;
    sb_th_bot_action *a = record(th, SB_TH_BOT_TAG, conv_id);
    a->scope = scope;
    a->tag = sb_thi_strdup(tag);
    return SB_OK;
}

static sb_status h_bot_handoff(sb_ctx *ctx, const char *conv_id, const char *group_id,
                               const char *skill, int skill_level, const char *reason)
{
    sb_th *th;
    sb_status st = enter_bot(ctx, "bot_handoff", conv_id,
                             !reason || strlen(reason) <= MAX_REASON, &th);
    if (st != SB_OK) return st;
    sb_th_bot_action *a = record(th, SB_TH_BOT_HANDOFF, conv_id);
    a->group_id = sb_thi_strdup(group_id);
    a->skill = sb_thi_strdup(skill);
    a->skill_level = skill_level;
    a->reason = sb_thi_strdup(reason);
    sb_th_conversation_release(th, conv_id);
    return SB_OK;
}

static sb_status h_bot_close(sb_ctx *ctx, const char *conv_id, int ask_rating)
{
    sb_th *th;
    sb_status st = enter_bot(ctx, "bot_close", conv_id, 1, &th);
    if (st != SB_OK) return st;
    record(th, SB_TH_BOT_CLOSE, conv_id)->ask_rating = ask_rating != 0;
    sb_th_conversation_release(th, conv_id);
    return SB_OK;
}

size_t sb_th_bot_action_count(const sb_th *th) { return th->bot_actions.n; }

const sb_th_bot_action *sb_th_bot_action_get(const sb_th *th, size_t i)
{
    return i < th->bot_actions.n ? th->bot_actions.v[i] : NULL;
}

/* ---- events to the bot ------------------------------------------------------------ */

sb_status sb_th_bot_event(sb_th *th, const sb_bot_event *ev)
{
    sb_thi_loop_only(th, "sb_th_bot_event");
    if (!ev || !ev->conversation_id || !*ev->conversation_id) return SB_ERR_INVALID;
    if (!th->started) return SB_ERR_STATE;
    if (th->plugin->kind != SB_KIND_BOT || !SB_THI_HAS(th->plugin, bot_event))
        return SB_ERR_UNSUPPORTED;
    if (!sb_th_conversation_held(th, ev->conversation_id)) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: sb_th_bot_event: conversation %s "
                   "is no longer held by the bot", ev->conversation_id);
        return SB_ERR_STATE;
    }
    /* Copies freed after the call: keeping them is caught by ASan. */
    char *s[] = {sb_thi_strdup(ev->conversation_id), sb_thi_strdup(ev->client_id),
                 sb_thi_strdup(ev->channel), sb_thi_strdup(ev->instance),
                 sb_thi_strdup(ev->message_id), sb_thi_strdup(ev->text),
                 sb_thi_strdup(ev->button_id), sb_thi_strdup(ev->message_json)};
    sb_bot_event copy = {.struct_size = sizeof copy, .kind = ev->kind,
                         .conversation_id = s[0], .client_id = s[1],
                         .channel = s[2], .instance = s[3], .message_id = s[4],
                         .text = s[5], .button_id = s[6], .message_json = s[7]};
    sb_status st = th->plugin->bot_event(th->state, &copy);
    if (st != SB_OK) {
        sb_thi_log(th, SB_LOG_WARN, "testhost: bot_event for %s failed (%s): "
                   "the conversation goes to operators", s[0], sb_status_text(st));
        sb_th_conversation_release(th, s[0]);
    }
    for (size_t i = 0; i < sizeof s / sizeof *s; i++) free(s[i]);
    return st;
}

/* ---- teardown -------------------------------------------------------------------- */

void sb_thi_bot_free(sb_th *th)
{
    for (size_t i = 0; i < th->bot_actions.n; i++) {
        sb_th_bot_action *a = th->bot_actions.v[i];
        const char *s[] = {a->conversation_id, a->text, a->json, a->tag,
                           a->group_id, a->skill, a->reason};
        for (size_t k = 0; k < sizeof s / sizeof *s; k++) free((char *)s[k]);
        for (size_t k = 0; k < a->n_buttons; k++) {
            free((char *)a->buttons[k].id);
            free((char *)a->buttons[k].title);
        }
        free((sb_button *)a->buttons);
        free(a);
    }
    free(th->bot_actions.v);
    for (size_t i = 0; i < th->released.n; i++) free(th->released.v[i]);
    free(th->released.v);
    for (size_t i = 0; i < th->conversations.n; i++) {
        conv *c = th->conversations.v[i];
        free(c->id);
        free(c->json);
        free(c);
    }
    free(th->conversations.v);
}

void sb_thi_bot_fill(sb_host *h)
{
    h->bot_reply = h_bot_reply;
    h->bot_set_attributes = h_bot_set_attributes;
    h->bot_add_tag = h_bot_add_tag;
    h->bot_handoff = h_bot_handoff;
    h->bot_close = h_bot_close;
    h->conversation_get = h_conversation_get;
}
