/* The Telegram Bot API's JSON, in and out (shared/reference/channels.md §1):
 * updates -> sb_inbound, request bodies, and the {ok, result | error_code,
 * description, parameters} answers. No host calls here: pure functions. */
#ifndef TG_WIRE_H
#define TG_WIRE_H

#include <jansson.h>
#include <stdint.h>

#include <switchboard/plugin.h>

#define TG_MAX_FILE_ID 256
#define TG_MAX_NAME 512

typedef enum {
    TG_UPD_INBOUND, /* msg is ready (the caller maps button data and edit_of) */
    TG_UPD_SKIP,    /* a valid update with nothing to store; why says what */
    TG_UPD_BAD      /* malformed; why names the field */
} tg_upd_kind;

/* One parsed update. Strings point into the JSON the caller holds, or into
 * the buffers below. */
typedef struct tg_update {
    int64_t update_id;
    sb_inbound msg;
    sb_attachment att;
    char external_id[24];
    char dedup_key[24];
    char name[TG_MAX_NAME + 1];
    char phone[24];
    char contact_text[2 * TG_MAX_NAME + 32]; /* someone else's contact card */
    int64_t chat;
    int64_t message_id;        /* the message carried (to remember for edits), 0 none */
    int64_t edited_id;         /* SB_IN_EDIT: the id of the edited message */
    const char *callback_id;   /* a callback_query to answer, NULL none */
    const char *callback_data; /* its data (msg.button_id is left to the caller) */
    char why[160];
} tg_update;

tg_upd_kind tg_parse_update(json_t *update, tg_update *u);

/* The phone as "+digits" into out; -1 when it has not 3..20 digits. */
int tg_normalise_phone(const char *in, char *out, size_t cap);

/* An answer of the Bot API. */
typedef struct tg_result {
    int ok;                   /* "ok": true */
    long code;                /* error_code, else the HTTP status */
    char description[300];    /* "" when none */
    uint64_t retry_after_s;   /* parameters.retry_after, 0 when none */
    json_t *root;             /* owned; NULL when the body was not JSON */
    json_t *result;           /* borrowed from root, NULL when none */
} tg_result;
/* Never fails: a body that is not a Bot API answer gives ok 0, code =
 * http_status and a description saying so. Free with tg_result_free. */
void tg_parse_result(const char *body, size_t len, long http_status, tg_result *r);
void tg_result_free(tg_result *r);

/* Request bodies, malloc'ed JSON text; NULL when out of memory. */
typedef struct tg_button_out {
    const char *title;
    const char *data; /* callback_data, 1..64 bytes */
} tg_button_out;
/* sendMessage with text[0..len) and an inline keyboard, one button per row. */
char *tg_json_send_message(int64_t chat, const char *text, size_t len, const tg_button_out *b,
                           size_t nb);
/* sendPhoto/sendDocument: field "photo" or "document" = ref (a URL). */
char *tg_json_send_media(int64_t chat, const char *field, const char *ref,
                         const tg_button_out *b, size_t nb);
char *tg_json_answer_callback(const char *callback_id);
/* allowed_updates: message, edited_message, callback_query. */
char *tg_json_set_webhook(const char *url, const char *secret);
/* offset < 0: none. */
char *tg_json_get_updates(int64_t offset, unsigned limit, unsigned timeout_s);
char *tg_json_get_file(const char *file_id);

/* A chat id: -?[0-9]{1,19} in int64 range. -1 when not one. */
int tg_parse_chat(const char *s, int64_t *out);

#endif
