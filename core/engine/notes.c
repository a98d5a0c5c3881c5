#include "engine/internal.h"

/* Messages the engine itself writes into a conversation: texts to the
 * client (queue position, nobody online, idle close) go through the outbox
 * like any reply; history notes (transfer, reassign) are type "event"
 * messages that stay in the history and are never sent. */

sb_status sb_eng_system_message(sb_engine *e, const sb_eng_conv *c, const char *text,
                                bool to_client, const char *event)
{
    sb_eng_msg m = {
        .id = sb_id_next(), .conv_id = c->id, .client_id = c->client_id,
        .plugin = c->plugin, .instance = c->instance, .direction = "out",
        .author_kind = "system", .type = to_client ? "text" : "event", .text = text,
        .created_at = sb_eng_now(), .delivery_status = to_client ? "pending" : NULL,
        .event = to_client ? NULL : event,
    };
    sb_status s = to_client ? sb_eng_outbox_enqueue(e, &m, c->external_id) : SB_OK;
    if (s == SB_OK) s = sb_eng_msg_create(e, &m);
    return s;
}
