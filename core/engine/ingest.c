#include "engine/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The answer to a channel, held until the batch holding the message (or,
 * for a duplicate, the batch of this call) commits. */
typedef struct answer {
    sb_eng_later later;
    sb_inbound_done done;
    void *ud;
    uint64_t msg_id;
    int duplicate;
} answer;

static void answer_run(sb_engine *e, sb_eng_later *l, sb_status st)
{
    answer *a = (answer *)l;
    char id[21];
    a->done(a->ud, st, st == SB_OK ? sb_id_str(a->msg_id, id) : "", a->duplicate);
    free(a);
}

static const char *const k_att_kinds[] = {"image", "file", "audio", "video", "voice"};

static bool att_kind_known(const char *k)
{
    for (size_t i = 0; i < sizeof k_att_kinds / sizeof *k_att_kinds; i++)
        if (strcmp(k, k_att_kinds[i]) == 0) return true;
    return false;
}

/* Copies the plugin's attachments into v1 structs: a newer plugin's array
 * has a larger stride (its struct_size). */
static sb_status check_attachments(const sb_inbound *in, sb_attachment *out)
{
    if (in->n_attachments > SB_ENG_MAX_ATTACH) return SB_ERR_TOO_BIG;
    if (!in->n_attachments) return SB_OK;
    if (!in->attachments) return SB_ERR_INVALID;
    size_t stride = in->attachments[0].struct_size;
    if (stride < sizeof(sb_attachment) || stride > 4096) return SB_ERR_INVALID;
    for (size_t i = 0; i < in->n_attachments; i++) {
        const sb_attachment *a =
            (const sb_attachment *)(const void *)((const char *)in->attachments + i * stride);
        if (a->struct_size != stride || !a->kind || !att_kind_known(a->kind)) return SB_ERR_INVALID;
        sb_status s = sb_eng_check_str(a->ref, SB_ENG_MAX_URL, true);
        if (s == SB_OK) s = sb_eng_check_str(a->name, SB_ENG_MAX_TITLE, false);
        if (s == SB_OK) s = sb_eng_check_str(a->mime, 255, false);
        if (s != SB_OK) return s;
        out[i] = *a;
        out[i].struct_size = sizeof(sb_attachment);
    }
    return SB_OK;
}

static bool given(const char *s) { return s && *s; }

static sb_status validate(sb_engine *e, const char *plugin, const char *instance,
                          const sb_inbound *in, char phone[24], char email[256],
                          sb_attachment *atts)
{
    sb_status s;
    if ((s = sb_eng_check_str(plugin, SB_ENG_MAX_NAME, true)) != SB_OK ||
        (s = sb_eng_check_str(instance, SB_ENG_MAX_NAME, true)) != SB_OK)
        return s;
    if (!in || in->struct_size < sizeof(sb_inbound)) return SB_ERR_INVALID;
    if (in->kind != SB_IN_MESSAGE && in->kind != SB_IN_EDIT && in->kind != SB_IN_CONTACT)
        return SB_ERR_INVALID;
    if ((s = sb_eng_check_str(in->external_id, SB_ENG_MAX_REF, true)) != SB_OK ||
        (s = sb_eng_check_str(in->dedup_key, SB_ENG_MAX_REF, true)) != SB_OK ||
        (s = sb_eng_check_str(in->name, SB_ENG_MAX_TITLE, false)) != SB_OK ||
        (s = sb_eng_check_str(in->phone, 64, false)) != SB_OK ||
        (s = sb_eng_check_str(in->email, 254, false)) != SB_OK ||
        (s = sb_eng_check_str(in->text, e->opt.max_text, false)) != SB_OK ||
        (s = sb_eng_check_str(in->button_id, SB_ENG_MAX_REF, false)) != SB_OK ||
        (s = sb_eng_check_str(in->edit_of, SB_ENG_MAX_REF, in->kind == SB_IN_EDIT)) != SB_OK ||
        (s = sb_eng_check_str(in->link_plugin, SB_ENG_MAX_NAME, false)) != SB_OK ||
        (s = sb_eng_check_str(in->link_instance, SB_ENG_MAX_NAME, false)) != SB_OK ||
        (s = sb_eng_check_str(in->link_external_id, SB_ENG_MAX_REF, false)) != SB_OK ||
        (s = check_attachments(in, atts)) != SB_OK)
        return s;
    if (in->sent_at_ms < 0) return SB_ERR_INVALID;
    phone[0] = email[0] = '\0';
    if (given(in->phone) && (s = sb_eng_phone_norm(in->phone, phone)) != SB_OK) return s;
    if (given(in->email) && (s = sb_eng_email_norm(in->email, email)) != SB_OK) return s;
    bool content;
    switch (in->kind) {
    case SB_IN_MESSAGE:
        content = given(in->text) || given(in->button_id) || in->n_attachments;
        break;
    case SB_IN_EDIT: content = given(in->text) || in->n_attachments; break;
    default: content = phone[0] || email[0]; break;
    }
    return content ? SB_OK : SB_ERR_INVALID;
}

/* The message an edit refers to, by the channel's key; 0 when unknown
 * (older than our history, or never seen). */
static sb_status find_edited(sb_engine *e, const char *plugin, const char *instance,
                             const char *ref, uint64_t *id)
{
    unsigned char k[SB_ENG_KEY_MAX], v[8];
    size_t klen = sb_eng_key_join(k, sizeof k, plugin, instance, ref), vlen;
    *id = 0;
    sb_status s = sb_store_get(e->st, TBL(e, TB_MSG_EXT), k, klen, v, sizeof v, &vlen);
    if (s == SB_OK && vlen == 8) *id = sb_key_get_u64(v);
    return s == SB_ERR_NOT_FOUND || s == SB_ERR_TOO_BIG ? SB_OK : s;
}

static sb_status store_inbound(sb_engine *e, const char *plugin, const char *instance,
                               const sb_inbound *in, const char *phone, const char *email,
                               const sb_attachment *atts, uint64_t id, int64_t now)
{
    sb_eng_client c;
    sb_eng_conv conv;
    memset(&c, 0, sizeof c);
    memset(&conv, 0, sizeof conv);
    sb_status s = sb_eng_client_resolve(e, plugin, instance, in, phone, email, now, &c);
    /* a phone or e-mail that names another profile: the two are one client */
    if (s == SB_OK && (phone || email)) s = sb_eng_auto_merge(e, &c, phone, email);
    if (s == SB_OK)
        s = sb_eng_conv_for_inbound(e, &c, plugin, instance, in->external_id,
                                    given(in->button_id) ? in->button_id : NULL, now, &conv);
    if (s == SB_OK) s = sb_eng_client_commit(e, &c);
    if (s == SB_OK) s = sb_eng_conv_commit(e, &conv);
    char author[21];
    sb_eng_msg m = {
        .id = id, .conv_id = conv.id, .client_id = c.id,
        .plugin = plugin, .instance = instance, .direction = "in",
        .author_kind = "client", .author_id = sb_id_str(c.id, author),
        .text = given(in->text) ? in->text : NULL,
        .button_id = given(in->button_id) ? in->button_id : NULL,
        .atts = atts, .n_atts = in->n_attachments,
        .created_at = now, .sent_at = in->sent_at_ms ? in->sent_at_ms : now,
        .ext_ref = in->dedup_key,
    };
    switch (in->kind) {
    case SB_IN_MESSAGE: m.type = in->n_attachments ? "media" : "text"; break;
    case SB_IN_EDIT: m.type = "event"; m.event = "edit"; break;
    default: m.type = "event"; m.event = "contact"; break;
    }
    if (s == SB_OK && in->kind == SB_IN_EDIT)
        s = find_edited(e, plugin, instance, in->edit_of, &m.edit_of);
    if (s == SB_OK) s = sb_eng_msg_create(e, &m);
    if (s == SB_OK) s = sb_eng_rt_on_inbound(e, &c, &conv, &m, conv.sticky_op);
    sb_eng_client_clear(&c);
    sb_eng_conv_clear(&conv);
    return s;
}

sb_status sb_engine_inbound(sb_engine *e, const char *plugin, const char *instance,
                            const sb_inbound *msg, sb_inbound_done done, void *ud)
{
    if (!e || !done) return SB_ERR_INVALID;
    char phone[24], email[256];
    sb_attachment atts[SB_ENG_MAX_ATTACH];
    sb_status s = validate(e, plugin, instance, msg, phone, email, atts);
    if (s != SB_OK) return s;

    unsigned char key[SB_ENG_KEY_MAX] = "in";
    size_t klen = sb_eng_key_join(key + 3, sizeof key - 3, plugin, instance, msg->dedup_key);
    if (!klen) return SB_ERR_TOO_BIG;
    klen += 3;
    int64_t now = sb_eng_now();
    uint64_t id = sb_id_next();
    unsigned char idb[8], orig[8];
    size_t olen = 0;
    sb_key_put_u64(idb, id);
    answer *a = calloc(1, sizeof *a);
    if (!a) return SB_ERR_NOMEM;
    a->done = done;
    a->ud = ud;
    s = sb_store_dedup(e->st, key, klen, idb, sizeof idb, now + e->opt.dedup_ttl_ms, now, orig,
                       sizeof orig, &olen);
    if (s == SB_ERR_EXISTS) {
        uint64_t conv;
        id = olen == 8 ? sb_key_get_u64(orig) : 0;
        s = id ? sb_eng_msg_locate(e, id, &conv) : SB_ERR_IO;
        if (s == SB_OK) a->duplicate = 1;
        /* Not found: an earlier call stored the key but failed before its
         * message was whole (msg_index is written last). Store it now,
         * under the id that key promises. */
        else if (s == SB_ERR_NOT_FOUND) s = SB_OK;
    }
    if (s == SB_OK && !a->duplicate)
        s = store_inbound(e, plugin, instance, msg, phone[0] ? phone : NULL,
                          email[0] ? email : NULL, atts, id, now);
    a->msg_id = id;
    if (s == SB_OK) s = sb_eng_after_commit(e, &a->later, answer_run);
    if (s != SB_OK) {
        char ids[21];
        sb_log(SB_LOG_WARN, "engine", NULL, "inbound from %s/%s (%s) not stored: %d", plugin,
               instance, sb_id_str(id, ids), (int)s);
        free(a);
    }
    return s;
}
