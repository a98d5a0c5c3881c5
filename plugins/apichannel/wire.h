/* The API channel's wire format (shared/design/api.md, "The API channel"):
 * inbound JSON -> sb_inbound, and sb_outbound -> the callback's JSON. */
#ifndef APICHANNEL_WIRE_H
#define APICHANNEL_WIRE_H

#include <jansson.h>
#include <switchboard/plugin.h>

#define AC_MAX_ID 256
#define AC_MAX_ATTACHMENTS 10

typedef struct ac_inbound {
    json_t *root;                 /* owns every string below */
    sb_inbound msg;
    sb_attachment att[AC_MAX_ATTACHMENTS];
} ac_inbound;

/* Parses a request body. On success fills *in (release with ac_inbound_free)
 * and returns 0. On bad input returns -1 with a message naming the field
 * ("external_id: required, a string of 1-256 bytes") in err. */
int ac_parse_inbound(const char *body, size_t len, ac_inbound *in, char *err, size_t errlen);
void ac_inbound_free(ac_inbound *in);

/* {"message_id","external_id","text","buttons":[{id,title}]?,"conversation_id",
 *  "attachments"?}; malloc'ed, NULL on allocation failure. */
char *ac_outbound_json(const sb_outbound *m);

#endif
