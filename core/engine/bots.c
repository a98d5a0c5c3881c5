#include "engine/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bots: which bot meets a channel instance's new conversations, what flows
 * to it (bot.input events), and the moves out of status "bot": hand-off to
 * operators, close with a rating request. Ratings come back as button
 * presses ("sb:rate:N") on the closed conversation (conversations.c). */

enum { MAX_REASON = 512 };

static const char *const rate_ids[5] = {"sb:rate:1", "sb:rate:2", "sb:rate:3", "sb:rate:4",
                                        "sb:rate:5"};

int sb_eng_rating_of(const char *button_id)
{
    for (int i = 0; button_id && i < 5; i++)
        if (strcmp(button_id, rate_ids[i]) == 0) return i + 1;
    return 0;
}

sb_status sb_engine_set_instance_bot(sb_engine *e, const char *plugin, const char *instance,
                                     const char *bot)
{
    if (!e || !plugin || !instance) return SB_ERR_INVALID;
    if (bot && strlen(bot) > 2 * RT_ID_MAX + 1) return SB_ERR_TOO_BIG;
    rt_inst_group *it = sb_eng_rt_inst_entry(e, plugin, instance);
    return it ? sb_eng_set_str(&it->bot, bot && *bot ? bot : NULL) : SB_ERR_NOMEM;
}

const char *sb_eng_bot_of(sb_engine *e, const char *plugin, const char *instance)
{
    const rt_inst_group *it = sb_eng_rt_inst_find(e, plugin, instance);
    if (it && it->bot) return it->bot;
    /* else the bot of the group the conversation will go to */
    rt_group *g = sb_eng_rt_group(e, sb_eng_rt_instance_group(e, plugin, instance));
    if (!g) g = sb_eng_rt_group(e, e->rt.default_group);
    return g ? g->bot : NULL;
}

sb_status sb_eng_bot_input(sb_engine *e, const sb_eng_conv *c, const sb_eng_msg *m, bool start)
{
    char conv[21], client[21];
    json_t *ev = sb_eng_event_new("bot.input");
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "bot", c->bot, "kind",
                             start ? "start" : "message", "conversation_id",
                             sb_id_str(c->id, conv), "client_id", sb_id_str(c->client_id, client),
                             "channel", m->plugin, "instance", m->instance, "message",
                             sb_eng_msg_json(m));
    if (!ev || !body || json_object_update(ev, body) != 0) {
        json_decref(ev);
        json_decref(body);
        return SB_ERR_NOMEM;
    }
    json_decref(body);
    /* the message itself is in the log (message.created): this only routes
     * it to the bot, so it is not written a second time */
    return sb_eng_emit_unlogged(e, ev);
}

/* Loads the open conversation `id` that `bot` (NULL = any bot) holds. */
static sb_status held(sb_engine *e, const char *id, const char *bot, sb_eng_conv *c,
                      rt_conv **rc)
{
    uint64_t cid = id ? sb_id_parse(id) : 0;
    if (!cid) return SB_ERR_NOT_FOUND;
    sb_status s = sb_eng_conv_load(e, cid, c);
    if (s != SB_OK) return s;
    *rc = sb_eng_rt_conv(e, cid);
    if (!*rc || (*rc)->state != RC_BOT || !c->bot || (bot && strcmp(c->bot, bot) != 0)) {
        sb_eng_conv_clear(c);
        return SB_ERR_STATE;
    }
    return SB_OK;
}

sb_status sb_engine_bot_holds(sb_engine *e, const char *conv_id, const char *bot)
{
    if (!e) return SB_ERR_INVALID;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = held(e, conv_id, bot, &c, &rc);
    if (s == SB_OK) sb_eng_conv_clear(&c);
    return s;
}

static sb_status set_skill(sb_engine *e, const char *conv_id, const sb_handoff *h)
{
    if (!h->skill || !*h->skill) return SB_OK;
    if (strlen(h->skill) > 64) return SB_ERR_TOO_BIG;
    int lv = h->skill_level < 0 ? 0 : h->skill_level >= RT_LEVELS ? RT_LEVELS - 1 : h->skill_level;
    json_t *p = json_pack("{s:s, s:i}", "skill", h->skill, "skill_level", lv);
    char *js = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!js) return SB_ERR_NOMEM;
    char *out = NULL;
    sb_status s = sb_engine_conversation_patch_attributes(e, conv_id, js, strlen(js), &out, NULL, 0);
    free(js);
    free(out);
    return s;
}

sb_status sb_engine_bot_handoff(sb_engine *e, const char *conv_id, const sb_handoff *h,
                                char **out)
{
    if (!e || !h || !out) return SB_ERR_INVALID;
    *out = NULL;
    if (h->reason && strlen(h->reason) > MAX_REASON) return SB_ERR_TOO_BIG;
    rt_group *g = h->group_id && *h->group_id ? sb_eng_rt_group(e, h->group_id) : NULL;
    if (h->group_id && *h->group_id && !g) return SB_ERR_NOT_FOUND;
    sb_eng_conv c;
    rt_conv *rc;
    sb_status s = held(e, conv_id, h->bot, &c, &rc);
    if (s != SB_OK) return s;
    sb_eng_conv_clear(&c);
    /* The skill goes in as attributes (routing reads them, and they
     * survive a restart), before the conversation is loaded for the move. */
    if ((s = set_skill(e, conv_id, h)) != SB_OK || (s = held(e, conv_id, h->bot, &c, &rc)) != SB_OK)
        return s;
    if (g && g != rc->g) s = sb_eng_rt_set_group(rc, g);
    char note[MAX_REASON + 200];
    snprintf(note, sizeof note, "Бот %s передал разговор оператору%s%s", c.bot,
             h->reason && *h->reason ? ": " : "", h->reason ? h->reason : "");
    if (s == SB_OK) s = sb_eng_system_message(e, &c, note, false, "handoff");
    int64_t now = sb_eng_now();
    rc->state = RC_QUEUED;
    rc->queued_at = now;
    rc->waiting_since = now;
    rc->last_activity = now;
    if (s == SB_OK && rc->g) s = sb_eng_rt_note_arrival(e, rc->g, now);
    if (s == SB_OK) s = sb_eng_rt_route(e, &c, rc, c.sticky_op);
    sb_eng_rt_settle(e);
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_conv_json(e, &c), out);
    sb_eng_conv_clear(&c);
    return s;
}

sb_status sb_engine_conversation_close_ex(sb_engine *e, const char *conv_id, const char *by,
                                          bool ask_rating, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    if (ask_rating) {
        sb_button b[5];
        static const char *const titles[5] = {"1", "2", "3", "4", "5"};
        for (int i = 0; i < 5; i++) b[i] = (sb_button){.id = rate_ids[i], .title = titles[i]};
        sb_reply r = {.conversation_id = conv_id, .author_kind = "system",
                      .text = e->opt.rating_text, .buttons = b, .n_buttons = 5};
        char *msg = NULL;
        sb_status s = sb_engine_reply(e, &r, &msg);
        free(msg);
        if (s == SB_ERR_STATE) return sb_engine_conversation_json(e, conv_id, out) == SB_OK
                                          ? SB_ERR_STATE : SB_ERR_NOT_FOUND;
        if (s != SB_OK) return s;
    }
    return sb_engine_conversation_close(e, conv_id, by, out);
}

sb_status sb_engine_typing(sb_engine *e, const char *plugin, const char *instance,
                           const char *external_id, const char *text)
{
    if (!e || !plugin || !instance || !external_id || !text) return SB_ERR_INVALID;
    uint64_t cid = 0;
    sb_status s = sb_eng_client_find(e, plugin, instance, external_id, &cid);
    if (s != SB_OK) return s;
    sb_eng_client cl;
    if ((s = sb_eng_client_load(e, cid, &cl)) != SB_OK) return s;
    uint64_t open = cl.open_conv;
    sb_eng_client_clear(&cl);
    rt_conv *rc = open ? sb_eng_rt_conv(e, open) : NULL;
    if (!rc) return SB_ERR_NOT_FOUND; /* closed or none */
    char t[1025], conv[21];
    size_t n = strlen(text) > 1024 ? 1024 : strlen(text);
    while (n && ((unsigned char)text[n] & 0xC0) == 0x80) n--; /* whole UTF-8 characters */
    memcpy(t, text, n);
    t[n] = 0;
    if (!sb_eng_utf8_valid(t, n)) return SB_ERR_INVALID;
    json_t *ev = json_pack("{s:s, s:s, s:o, s:o, s:s}", "type", "typing", "conversation_id",
                           sb_id_str(open, conv), "group_id", sb_eng_json_str(rc->group_id),
                           "operator_id", sb_eng_json_id(rc->state == RC_ASSIGNED ? rc->op : 0),
                           "text", t);
    return sb_eng_emit_transient(e, ev);
}
