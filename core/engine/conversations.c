#include "engine/internal.h"

#include <string.h>

static bool same(const char *a, const char *b) { return strcmp(a, b) == 0; }

enum { RATING_WINDOW_MS = 24 * 3600 * 1000 };

sb_status sb_eng_conv_for_inbound(sb_engine *e, sb_eng_client *c, const char *plugin,
                                  const char *instance, const char *external_id,
                                  const char *button_id, int64_t now, sb_eng_conv *conv)
{
    memset(conv, 0, sizeof *conv);
    if (c->open_conv) {
        sb_status s = sb_eng_conv_load(e, c->open_conv, conv);
        if (s != SB_OK && s != SB_ERR_NOT_FOUND) return s;
        /* a new conversation prefers the previous one's operator */
        uint64_t sticky = s == SB_OK ? (conv->operator_id ? conv->operator_id : conv->sticky_op) : 0;
        if (s == SB_OK && !same(conv->status, "closed")) {
            /* One conversation across channels: replies follow the client
             * to where it wrote last. */
            if (!same(conv->plugin, plugin) || !same(conv->instance, instance) ||
                !same(conv->external_id, external_id)) {
                conv->plugin = plugin;
                conv->instance = instance;
                conv->external_id = external_id;
                conv->dirty = true;
            }
            return SB_OK;
        }
        /* The answer to a rating request lands in the closed conversation. */
        int rating = sb_eng_rating_of(button_id);
        if (s == SB_OK && rating && !conv->rating && now - conv->closed_at < RATING_WINDOW_MS) {
            conv->rating = rating;
            conv->dirty = true;
            return SB_OK;
        }
        sb_eng_conv_clear(conv);
        conv->sticky_op = sticky;
    }
    conv->id = sb_id_next();
    conv->client_id = c->id;
    conv->plugin = plugin;
    conv->instance = instance;
    conv->external_id = external_id;
    /* routing decides later, unless a bot meets it */
    conv->bot = sb_eng_bot_of(e, plugin, instance);
    conv->status = conv->bot ? "bot" : "queued";
    conv->created_at = now;
    conv->created = true;
    c->open_conv = conv->id;
    c->dirty = true;
    return SB_OK;
}

sb_status sb_eng_conv_commit(sb_engine *e, sb_eng_conv *conv)
{
    if (!conv->created && !conv->dirty) return SB_OK;
    sb_status s = sb_eng_conv_store(e, conv);
    if (s != SB_OK) return s;
    const char *type = conv->created ? "conversation.created" : "conversation.updated";
    conv->created = conv->dirty = false;
    return sb_eng_emit_obj(e, type, "conversation", sb_eng_conv_json(e, conv));
}

sb_status sb_engine_conversation_json(sb_engine *e, const char *id, char **json)
{
    if (!e || !id || !json) return SB_ERR_INVALID;
    *json = NULL;
    uint64_t cid = sb_id_parse(id);
    if (!cid) return SB_ERR_NOT_FOUND;
    sb_eng_conv c;
    sb_status s = sb_eng_conv_load(e, cid, &c);
    if (s != SB_OK) return s;
    s = sb_eng_json_take(sb_eng_conv_json(e, &c), json);
    sb_eng_conv_clear(&c);
    return s;
}
