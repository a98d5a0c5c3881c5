/* The bot's actions, applied through the host's bot_* functions: the core
 * stores each one in the conversation's history for the operator. */
#include <jansson.h>
#include <stdlib.h>

#include "botgateway.h"

static sb_status apply_one(bg_state *s, const char *conv, const bg_action *a)
{
    const sb_host *h = s->host;
    switch (a->type) {
    case BG_REPLY:
        return h->bot_reply(s->ctx, conv, a->text, a->n_buttons ? a->buttons : NULL, a->n_buttons);
    case BG_SET_ATTRIBUTES: {
        char *json = json_dumps(a->attributes, JSON_COMPACT);
        if (!json) return SB_ERR_NOMEM;
        sb_status st = h->bot_set_attributes(s->ctx, conv, a->scope, json);
        free(json);
        return st;
    }
    case BG_ADD_TAG:
        return h->bot_add_tag(s->ctx, conv, a->scope, a->tag);
    case BG_HANDOFF:
        return h->bot_handoff(s->ctx, conv, a->group ? a->group : s->handoff_group, a->skill,
                              a->skill_level, a->reason ? a->reason : "handed off by the bot");
    case BG_CLOSE:
        return h->bot_close(s->ctx, conv, a->ask_rating);
    }
    return SB_ERR_INVALID;
}

static void result(json_t *results, const bg_action *a, const char *status, const char *error)
{
    if (!results) return;
    json_t *r = json_pack("{s:s, s:s}", "type", bg_action_name(a->type), "status", status);
    if (r && error) json_object_set_new(r, "error", json_string(error));
    if (r) json_array_append_new(results, r);
}

void bg_apply(bg_state *s, const char *conversation_id, const bg_actions *a, json_t *results,
              bg_applied *out)
{
    *out = (bg_applied){0};
    size_t i = 0;
    for (; i < a->n; i++) {
        const bg_action *act = &a->v[i];
        sb_status st = apply_one(s, conversation_id, act);
        if (st != SB_OK) {
            out->failed = st;
            /* The conversation is not the bot's any more: nothing else can act. */
            out->ended = st == SB_ERR_STATE || st == SB_ERR_NOT_FOUND;
            result(results, act, "error", s->host->strstatus(st));
            break;
        }
        result(results, act, "ok", NULL);
        out->done++;
        if (act->type == BG_REPLY) out->replied = true;
        if (act->type == BG_HANDOFF || act->type == BG_CLOSE) out->ended = true;
    }
    for (i = i < a->n ? i + 1 : i; i < a->n; i++) result(results, &a->v[i], "skipped", NULL);
}
