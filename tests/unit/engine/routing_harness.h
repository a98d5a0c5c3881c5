/* Helpers for the routing tests on top of harness.h: groups, operators,
 * statuses, conversations from fresh clients, and reading conversations. */
#ifndef SB_TEST_ROUTING_HARNESS_H
#define SB_TEST_ROUTING_HARNESS_H

#include "harness.h"

#include "config/config.h"

/* Creates a group from a JSON body; returns nothing (ids are given). */
static inline void r_group(harness *h, const char *json)
{
    char *out = NULL, err[256] = "";
    sb_status s = sb_engine_group_create(h->e, json, strlen(json), &out, err, sizeof err);
    if (s != SB_OK) fail_msg("group %s: %d %s", json, (int)s, err);
    free(out);
    h_step(h);
}

/* routing.default_group through the config path the daemon uses. */
static inline void r_default(harness *h, const char *group)
{
    sb_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.routing.default_group = (char *)group;
    char err[256];
    assert_int_equal(sb_engine_configure_routing(h->e, &cfg, err, sizeof err), SB_OK);
    h_step(h);
}

/* An operator from a JSON body; its id into id[24]. */
static inline void r_op(harness *h, const char *json, char id[24])
{
    char *out = NULL, err[256] = "";
    sb_status s = sb_engine_operator_create(h->e, json, strlen(json), "hash", &out, err, sizeof err);
    if (s != SB_OK) fail_msg("operator %s: %d %s", json, (int)s, err);
    json_t *o = h_parse(out);
    h_copy(id, 24, h_str(o, "id"));
    json_decref(o);
    h_step(h);
}

static inline void r_status(harness *h, const char *op, const char *status)
{
    assert_int_equal(sb_engine_operator_set_status(h->e, op, status, NULL), SB_OK);
    h_step(h);
}

/* A message from client `ext` on apichannel/<instance>; conv id out. */
static inline void r_write(harness *h, const char *instance, const char *ext, const char *phone,
                           const char *text, char conv[32])
{
    static unsigned seq;
    char dedup[64];
    snprintf(dedup, sizeof dedup, "%s-%u", ext, ++seq);
    sb_inbound in = h_msg(ext, dedup, text);
    in.phone = phone;
    h_done d;
    h_inbound(h, "apichannel", instance, &in, &d);
    json_t *m = h_get(h, sb_engine_message_json, d.id);
    if (conv) h_copy(conv, 32, h_str(m, "conversation_id"));
    json_decref(m);
}

static inline json_t *r_conv(harness *h, const char *id)
{
    return h_get(h, sb_engine_conversation_json, id);
}

/* status / operator_id / group_id of a conversation, copied. */
static inline const char *r_field(harness *h, const char *conv, const char *field, char out[64])
{
    json_t *c = r_conv(h, conv);
    const char *v = h_str(c, field);
    h_copy(out, 64, v ? v : "(null)");
    json_decref(c);
    return out;
}

static inline long r_position(harness *h, const char *conv)
{
    json_t *c = r_conv(h, conv);
    json_t *p = json_object_get(c, "queue_position");
    long v = json_is_integer(p) ? (long)json_integer_value(p) : 0;
    json_decref(c);
    return v;
}

static inline long r_load(harness *h, const char *op)
{
    json_t *o = h_get(h, sb_engine_operator_json, op);
    long v = (long)json_integer_value(json_object_get(o, "load"));
    json_decref(o);
    return v;
}

/* Sends whose text contains needle. */
static inline size_t r_sends_with(harness *h, const char *needle)
{
    size_t n = 0;
    for (size_t i = 0; i < h->n_sends; i++) n += strstr(h->sends[i].text, needle) != NULL;
    return n;
}

/* Accepts every send at once (so the outbox does not wait on results). */
static inline sb_send_accept r_accept(harness *h, const h_send *s, bool *transient)
{
    (void)transient;
    /* reported from the next loop iteration would need a timer; the send
     * result may also come from inside the sender */
    sb_engine_send_result(h->e, s->op, SB_SENT, "r", 0, NULL);
    return SB_SEND_ACCEPTED;
}

#endif
