/* The gateway's wire format: the JSON event POSTed to the bot, and the
 * {"actions":[...]} the bot answers with (in the POST's response or through
 * the REST route). Pure functions, any thread. */
#ifndef BOTGATEWAY_WIRE_H
#define BOTGATEWAY_WIRE_H

#include <stdbool.h>
#include <stdint.h>
#include <switchboard/plugin.h>

#define BG_MAX_ACTIONS 20
#define BG_MAX_BUTTONS 20     /* what host->bot_reply takes */
#define BG_MAX_TEXT 4096      /* bytes of a reply's text */
#define BG_MAX_BUTTON_ID 256  /* bytes; what comes back as button_id */
#define BG_MAX_TITLE 256
#define BG_MAX_ATTRS 64       /* keys per set_attributes */
#define BG_MAX_KEY 64
#define BG_MAX_VALUE 4096     /* bytes of a string attribute value */
#define BG_MAX_TAG 64
#define BG_MAX_ID 128         /* a group id or a skill name */
#define BG_MAX_REASON 512
#define BG_MAX_SKILL_LEVEL 10

struct json_t;

/* ---- out: the event ------------------------------------------------------ */

typedef struct bg_event_in {
    const sb_bot_event *ev;
    const char *bot_instance;    /* this gateway instance */
    /* {"conversation":{..},"client":{..}} from host->conversation_get, or
     * NULL: then client is {"id": ev->client_id} and conversation absent. */
    const char *snapshot;
    int64_t now_ms;
} bg_event_in;

/* The body POSTed to the bot (malloc'd, NUL-terminated; NULL when out of
 * memory):
 *   {"event":"conversation.started"|"message", "bot":"<instance>",
 *    "conversation_id", "channel":{"name","instance"},
 *    "client":{id, name, phone, email, attributes, tags, ...},
 *    "conversation":{status, attributes, tags, ...}   (when known),
 *    "message":{"id","text","button_id","attachments"?}, "sent_at"} */
char *bg_event_json(const bg_event_in *in);

/* ---- in: the actions -------------------------------------------------------- */

typedef enum bg_action_type {
    BG_REPLY,
    BG_SET_ATTRIBUTES,
    BG_ADD_TAG,
    BG_HANDOFF,
    BG_CLOSE
} bg_action_type;

/* One validated action. Strings and `attributes` are borrowed from the
 * owning bg_actions' parsed document. */
typedef struct bg_action {
    bg_action_type type;
    const char *text;                    /* reply; NULL = buttons only */
    sb_button buttons[BG_MAX_BUTTONS];   /* reply */
    size_t n_buttons;
    sb_scope scope;                      /* set_attributes, add_tag */
    struct json_t *attributes;           /* set_attributes: an object */
    const char *tag;                     /* add_tag */
    const char *group, *skill, *reason;  /* handoff; each may be NULL */
    int skill_level;                     /* handoff; 1 when not given */
    int ask_rating;                      /* close */
} bg_action;

typedef struct bg_actions {
    struct json_t *root;
    bg_action v[BG_MAX_ACTIONS];
    size_t n;
} bg_actions;

typedef enum bg_parse_result {
    BG_PARSE_OK = 0,
    BG_PARSE_MALFORMED = -1, /* not JSON, or not an object */
    BG_PARSE_INVALID = -2    /* JSON, but an action is wrong */
} bg_parse_result;

/* Parses and validates a whole answer; on error nothing is kept and `err`
 * (NUL-terminated, cut to errlen) names the field: "actions[1].buttons[0].id:
 * expected a string of 1 to 256 bytes". An empty or blank body and an
 * object without "actions" are valid with n = 0 (the bot answers later).
 * Other top-level keys are ignored. Nothing may follow a handoff or close.
 * On BG_PARSE_OK the caller frees `out` with bg_actions_free. */
bg_parse_result bg_actions_parse(const char *body, size_t len, bg_actions *out, char *err,
                                 size_t errlen);
void bg_actions_free(bg_actions *a);

/* "reply", "set_attributes", ... (static). */
const char *bg_action_name(bg_action_type t);

/* True when the actions include a message to the client (a reply). */
bool bg_actions_reply(const bg_actions *a);

/* ---- text ------------------------------------------------------------------------- */

/* Makes `s` (NUL-terminated, changed in place) fit for a log line or a
 * stored reason: bytes that are not part of valid UTF-8 (overlong forms,
 * surrogates, a sequence cut short) become '?', control characters ' '.
 * Error texts may quote the bot's own bytes. */
void bg_text_clean(char *s);

#endif
