/* The sb_host functions for bots (ABI 1.1) and client typing, and the
 * hand-over of bot.input events to the bot instance a conversation names.
 * A bot that is missing, stopped, or answers an event with an error loses
 * the conversation to operators at once: a client is never left alone. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_internal.h"
#include "util/log.h"

/* ---- dispatch ------------------------------------------------------------- */

static void core_handoff(sb_plugins *p, const char *conv_id, const char *bot, const char *why)
{
    char reason[300];
    snprintf(reason, sizeof reason, "бот %s %s", bot, why);
    sb_handoff h = {.reason = reason};
    char *out = NULL;
    sb_status st = sb_engine_bot_handoff(p->d.engine, conv_id, &h, &out);
    free(out);
    if (st == SB_OK) sb_log(SB_LOG_WARN, "host", bot, "conversation %s handed to operators: %s",
                            conv_id, why);
    else if (st != SB_ERR_STATE)
        sb_log(SB_LOG_ERROR, "host", bot, "conversation %s: hand-off failed: %s", conv_id,
               sb_status_text(st));
}

static const char *str_of(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void on_bot_input(void *ud, const sb_event *ev)
{
    sb_plugins *p = ud;
    json_t *o = json_loadb(ev->json, ev->json_len, 0, NULL);
    const char *bot = str_of(o, "bot"), *conv = str_of(o, "conversation_id");
    json_t *msg = json_object_get(o, "message");
    if (!bot || !conv || !json_is_object(msg)) {
        json_decref(o);
        return;
    }
    sb_inst *in = sb_inst_by_label(p, bot);
    if (!in || in->state != SB_INST_RUNNING || in->desc->kind != SB_KIND_BOT ||
        !HAS(in->desc, bot_event)) {
        core_handoff(p, conv, bot, in ? "не работает" : "не настроен");
        json_decref(o);
        return;
    }
    /* Only while it still holds the conversation (a hand-off may have
     * happened between the commit and now). */
    if (sb_engine_bot_holds(p->d.engine, conv, bot) != SB_OK) {
        json_decref(o);
        return;
    }
    char *mjs = json_dumps(msg, JSON_COMPACT);
    sb_bot_event be = {
        .struct_size = sizeof be,
        .kind = strcmp(str_of(o, "kind") ? str_of(o, "kind") : "", "start") == 0 ? SB_BOT_START
                                                                               : SB_BOT_MESSAGE,
        .conversation_id = conv, .client_id = str_of(o, "client_id"),
        .channel = str_of(o, "channel"), .instance = str_of(o, "instance"),
        .message_id = str_of(msg, "id"), .text = str_of(msg, "text"),
        .button_id = str_of(msg, "button_id"), .message_json = mjs ? mjs : "{}",
    };
    sb_status st = SB_OK;
    SB_PLUGIN_CALL(in, "bot event", st = in->desc->bot_event(in->state_ptr, &be));
    if (st != SB_OK) {
        char why[128];
        snprintf(why, sizeof why, "ответил ошибкой (%s)", sb_status_text(st));
        core_handoff(p, conv, bot, why);
    }
    free(mjs);
    json_decref(o);
}

void sb_host_bot_subscribe(sb_plugins *p)
{
    if (p->d.engine) sb_engine_subscribe(p->d.engine, "bot.input", on_bot_input, p, p);
}

/* ---- the bot's actions -------------------------------------------------- */

/* The running instance behind ctx, when the engine is there. */
static sb_inst *live(sb_ctx *ctx, sb_status *st)
{
    sb_inst *in = sb_ctx_inst(ctx);
    *st = !in ? SB_ERR_HANDLE : !in->host->d.engine ? SB_ERR_STATE : SB_OK;
    return *st == SB_OK ? in : NULL;
}

static sb_status holds(sb_ctx *ctx, const char *conv, sb_inst **out)
{
    sb_status st;
    sb_inst *in = live(ctx, &st);
    if (!in) return st;
    if (!conv) return SB_ERR_INVALID;
    *out = in;
    return sb_engine_bot_holds(in->host->d.engine, conv, in->label);
}

static sb_status h_bot_reply(sb_ctx *ctx, const char *conv, const char *text,
                             const sb_button *buttons, size_t n)
{
    sb_inst *in;
    sb_status st = holds(ctx, conv, &in);
    if (st != SB_OK) return st;
    sb_reply r = {.conversation_id = conv, .author_kind = "bot", .author_id = in->label,
                  .text = text, .buttons = buttons, .n_buttons = n};
    char *js = NULL;
    st = sb_engine_reply(in->host->d.engine, &r, &js);
    free(js);
    return st;
}

/* The conversation's JSON object (parsed), or NULL. */
static json_t *conv_obj(sb_engine *e, const char *conv)
{
    char *js = NULL;
    json_t *o = sb_engine_conversation_json(e, conv, &js) == SB_OK ? json_loads(js, 0, NULL) : NULL;
    free(js);
    return o;
}

/* Sets `field` of the client or the conversation to value (taken):
 * "attributes" are merged, "tags" replaced. The conversation has a call for
 * each; the client takes both in one patch body. */
static sb_status patch(sb_engine *e, const char *conv, sb_scope scope, const char *field,
                       json_t *value)
{
    json_t *body = scope == SB_SCOPE_CLIENT ? json_pack("{s:o}", field, value) : value;
    char *js = body ? json_dumps(body, JSON_COMPACT) : NULL, *out = NULL, err[256];
    sb_status st = SB_ERR_NOMEM;
    if (js && scope == SB_SCOPE_CONVERSATION) {
        st = strcmp(field, "attributes") == 0
                 ? sb_engine_conversation_patch_attributes(e, conv, js, strlen(js), &out, err,
                                                           sizeof err)
                 : sb_engine_conversation_set_tags(e, conv, js, strlen(js), &out, err, sizeof err);
    } else if (js) {
        json_t *c = conv_obj(e, conv);
        const char *client = str_of(c, "client_id");
        st = client ? sb_engine_client_patch(e, client, js, strlen(js), &out, err, sizeof err)
                    : SB_ERR_NOT_FOUND;
        json_decref(c);
    }
    free(out);
    free(js);
    json_decref(body);
    return st;
}

static sb_status h_bot_set_attributes(sb_ctx *ctx, const char *conv, sb_scope scope,
                                      const char *json_object)
{
    sb_inst *in;
    sb_status st = holds(ctx, conv, &in);
    if (st != SB_OK) return st;
    if (scope != SB_SCOPE_CLIENT && scope != SB_SCOPE_CONVERSATION) return SB_ERR_INVALID;
    json_t *attrs = json_object ? json_loads(json_object, 0, NULL) : NULL;
    if (!json_is_object(attrs)) {
        json_decref(attrs);
        return SB_ERR_INVALID;
    }
    return patch(in->host->d.engine, conv, scope, "attributes", attrs);
}

static sb_status h_bot_add_tag(sb_ctx *ctx, const char *conv, sb_scope scope, const char *tag)
{
    sb_inst *in;
    sb_status st = holds(ctx, conv, &in);
    if (st != SB_OK) return st;
    if (!tag || !*tag || strlen(tag) > 64 ||
        (scope != SB_SCOPE_CLIENT && scope != SB_SCOPE_CONVERSATION))
        return SB_ERR_INVALID;
    sb_engine *e = in->host->d.engine;
    json_t *owner = conv_obj(e, conv);
    if (owner && scope == SB_SCOPE_CLIENT) {
        char *js = NULL;
        const char *client = str_of(owner, "client_id");
        json_t *c = client && sb_engine_client_json(e, client, &js) == SB_OK
                        ? json_loads(js, 0, NULL) : NULL;
        free(js);
        json_decref(owner);
        owner = c;
    }
    json_t *tags = json_object_get(owner, "tags");
    if (!json_is_array(tags)) {
        json_decref(owner);
        return SB_ERR_NOT_FOUND;
    }
    size_t i;
    json_t *t;
    json_array_foreach(tags, i, t) if (strcmp(json_string_value(t), tag) == 0) {
        json_decref(owner);
        return SB_OK;
    }
    json_array_append_new(tags, json_string(tag));
    st = patch(e, conv, scope, "tags", json_incref(tags));
    json_decref(owner);
    return st;
}

static sb_status h_bot_handoff(sb_ctx *ctx, const char *conv, const char *group, const char *skill,
                               int level, const char *reason)
{
    sb_status st;
    sb_inst *in = live(ctx, &st);
    if (!in) return st;
    if (!conv) return SB_ERR_INVALID;
    sb_handoff h = {.bot = in->label, .group_id = group, .skill = skill, .skill_level = level,
                    .reason = reason};
    char *out = NULL;
    st = sb_engine_bot_handoff(in->host->d.engine, conv, &h, &out);
    free(out);
    return st;
}

static sb_status h_bot_close(sb_ctx *ctx, const char *conv, int ask_rating)
{
    sb_inst *in;
    sb_status st = holds(ctx, conv, &in);
    if (st != SB_OK) return st;
    char *out = NULL;
    st = sb_engine_conversation_close_ex(in->host->d.engine, conv, in->label, ask_rating != 0, &out);
    free(out);
    return st;
}

static sb_status h_conversation_get(sb_ctx *ctx, const char *conv, char *buf, size_t cap,
                                    size_t *len)
{
    sb_status st;
    sb_inst *in = live(ctx, &st);
    if (!in) return st;
    if (!conv || !len || (!buf && cap)) return SB_ERR_INVALID;
    sb_engine *e = in->host->d.engine;
    char *cj = NULL, *kj = NULL;
    st = sb_engine_conversation_json(e, conv, &cj);
    json_t *c = st == SB_OK ? json_loads(cj, 0, NULL) : NULL;
    const char *client = str_of(c, "client_id");
    if (st == SB_OK) st = client ? sb_engine_client_json(e, client, &kj) : SB_ERR_NOT_FOUND;
    json_t *all = st == SB_OK ? json_pack("{s:O, s:o}", "conversation", c, "client",
                                          json_loads(kj, 0, NULL)) : NULL;
    char *js = all ? json_dumps(all, JSON_COMPACT) : NULL;
    if (st == SB_OK && !js) st = SB_ERR_NOMEM;
    if (st == SB_OK) {
        *len = strlen(js);
        if (*len + 1 > cap) st = SB_ERR_TOO_BIG;
        else memcpy(buf, js, *len + 1);
    }
    free(js);
    json_decref(all);
    json_decref(c);
    free(cj);
    free(kj);
    return st;
}

static sb_status h_client_typing(sb_ctx *ctx, const char *external_id, const char *text)
{
    sb_status st;
    sb_inst *in = live(ctx, &st);
    if (!in) return st;
    if (!external_id || !text) return SB_ERR_INVALID;
    return sb_engine_typing(in->host->d.engine, in->name, in->instance, external_id, text);
}

void sb_host_bot_fill(sb_host *t)
{
    t->bot_reply = h_bot_reply;
    t->bot_set_attributes = h_bot_set_attributes;
    t->bot_add_tag = h_bot_add_tag;
    t->bot_handoff = h_bot_handoff;
    t->bot_close = h_bot_close;
    t->conversation_get = h_conversation_get;
    t->client_typing = h_client_typing;
}
