/* Templates: "Заказ {{conversation.order_id}}: {{conversation.status}}".
 * A placeholder is {{client.NAME}}, {{conversation.NAME}} or
 * {{secret.NAME}}; NAME is [A-Za-z0-9_]{1,64}. No host, no I/O. */
#ifndef BB_TEMPLATE_H
#define BB_TEMPLATE_H

#include <stddef.h>

typedef enum {
    BB_ESC_NONE,  /* as is (messages, headers) */
    BB_ESC_URL,   /* percent-encoded except unreserved characters (URLs);
                     {{secret.*}} stays as is: trusted, often a base URL */
    BB_ESC_JSON   /* the inside of a JSON string (bodies) */
} bb_escape;

/* Looks up "client.phone" etc.: returns the value (borrowed until the
 * render returns) or NULL when unknown (rendered empty). */
typedef const char *(*bb_lookup_fn)(void *ud, const char *ns, const char *name);

#define BB_MAX_RENDER (64 << 10)

/* Checks the syntax: 0, or -1 with a message in err. */
int bb_template_check(const char *t, char *err, size_t errlen);
/* Renders into a new string (caller frees), at most BB_MAX_RENDER bytes
 * (longer is cut). NULL only when out of memory. */
char *bb_template_render(const char *t, bb_escape esc, bb_lookup_fn lookup, void *ud);
/* Calls fn for every placeholder "ns.name" of t (for checks). */
void bb_template_each(const char *t, void (*fn)(void *ud, const char *ns, const char *name),
                      void *ud);

#endif
