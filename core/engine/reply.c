#include "engine/internal.h"

#include <string.h>

static sb_status validate(sb_engine *e, const sb_reply *r)
{
    if (!r->author_kind || (strcmp(r->author_kind, "operator") != 0 &&
                            strcmp(r->author_kind, "bot") != 0 &&
                            strcmp(r->author_kind, "system") != 0))
        return SB_ERR_INVALID;
    sb_status s;
    if ((s = sb_eng_check_str(r->author_id, SB_ENG_MAX_REF, false)) != SB_OK ||
        (s = sb_eng_check_str(r->text, e->opt.max_text, false)) != SB_OK)
        return s;
    if (r->n_buttons > SB_ENG_MAX_BUTTONS) return SB_ERR_TOO_BIG;
    if (r->n_buttons && !r->buttons) return SB_ERR_INVALID;
    for (size_t i = 0; i < r->n_buttons; i++)
        if ((s = sb_eng_check_str(r->buttons[i].id, SB_ENG_MAX_REF, true)) != SB_OK ||
            (s = sb_eng_check_str(r->buttons[i].title, SB_ENG_MAX_TITLE, true)) != SB_OK)
            return s;
    return (r->text && *r->text) || r->n_buttons ? SB_OK : SB_ERR_INVALID;
}

sb_status sb_engine_reply(sb_engine *e, const sb_reply *r, char **json)
{
    if (!e || !r || !json) return SB_ERR_INVALID;
    *json = NULL;
    sb_status s = validate(e, r);
    if (s != SB_OK) return s;
    uint64_t conv_id = r->conversation_id ? sb_id_parse(r->conversation_id) : 0;
    if (!conv_id) return SB_ERR_NOT_FOUND;
    sb_eng_conv conv;
    if ((s = sb_eng_conv_load(e, conv_id, &conv)) != SB_OK) return s;
    if (strcmp(conv.status, "closed") == 0) {
        sb_eng_conv_clear(&conv);
        return SB_ERR_STATE;
    }
    sb_eng_msg m = {
        .id = sb_id_next(), .conv_id = conv_id, .client_id = conv.client_id,
        .plugin = conv.plugin, .instance = conv.instance, .direction = "out",
        .author_kind = r->author_kind,
        .author_id = r->author_id && *r->author_id ? r->author_id : NULL,
        .type = r->n_buttons ? "buttons" : "text",
        .text = r->text && *r->text ? r->text : NULL,
        .buttons = r->buttons, .n_buttons = r->n_buttons,
        .created_at = sb_eng_now(), .delivery_status = "pending",
    };
    /* The outbox entry first: should the message write fail after it, the
     * sender finds no message and drops the entry, while a message without
     * an entry would stay "pending" for ever. */
    s = sb_eng_outbox_enqueue(e, &m, conv.external_id);
    if (s == SB_OK) s = sb_eng_msg_create(e, &m);
    if (s == SB_OK) s = sb_eng_rt_on_reply(e, &conv, &m);
    if (s == SB_OK) s = sb_eng_json_take(sb_eng_msg_json(&m), json);
    sb_eng_conv_clear(&conv);
    return s;
}
