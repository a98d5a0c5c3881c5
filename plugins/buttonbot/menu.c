/* Menus per channel: buttons where the channel has them and the menu fits
 * its limit, otherwise a numbered text menu; a typed number or title picks
 * a choice either way. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bb.h"

#define BB_MAX_BOT_BUTTONS 20  /* what bot_reply carries */

/* Buttons the channel shows in one message: 0 = none. WhatsApp's own
 * rendering shows up to 3 as buttons and up to 10 as a list, so the bot
 * sends up to 10 there and a numbered text beyond. */
static int64_t channel_limit(const bb_state *s, const char *channel)
{
    for (size_t i = 0; i < s->n_limits; i++)
        if (!strcmp(s->limits[i].channel, channel)) return s->limits[i].max_buttons;
    return BB_MAX_BOT_BUTTONS;
}

size_t bb_menu_choices(bb_conv *c, const bb_step *st, bb_choice *out)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n_buttons; i++) {
        out[n].title = st->buttons[i].title;
        snprintf(out[n].id, sizeof out[n].id, "%s/%zu", st->id, i);
        n++;
    }
    out[n].title = c->sc->operator_title ? c->sc->operator_title : c->s->texts.operator_title;
    snprintf(out[n].id, sizeof out[n].id, "op");
    return n + 1;
}

sb_status bb_send_menu(bb_conv *c, const char *text, const bb_choice *ch, size_t n)
{
    bb_state *s = c->s;
    int64_t lim = channel_limit(s, c->channel);
    if (lim > BB_MAX_BOT_BUTTONS) lim = BB_MAX_BOT_BUTTONS;
    if (n > 0 && (int64_t)n <= lim) {
        sb_button b[BB_MAX_BOT_BUTTONS];
        for (size_t i = 0; i < n; i++) b[i] = (sb_button){ch[i].id, ch[i].title};
        return s->host->bot_reply(s->ctx, c->id, text, b, n);
    }
    size_t cap = strlen(text) + strlen(s->texts.number_hint) + 16;
    for (size_t i = 0; i < n; i++) cap += strlen(ch[i].title) + 16;
    char *t = malloc(cap), *p = t;
    if (!t) return SB_ERR_NOMEM;
    p += sprintf(p, "%s\n", text);
    for (size_t i = 0; i < n; i++) p += sprintf(p, "\n%zu. %s", i + 1, ch[i].title);
    if (*s->texts.number_hint) sprintf(p, "\n\n%s", s->texts.number_hint);
    sb_status st = s->host->bot_reply(s->ctx, c->id, t, NULL, 0);
    free(t);
    return st;
}

int bb_pick(const char *text, const bb_choice *ch, size_t n)
{
    while (isspace((unsigned char)*text)) text++;
    size_t len = strlen(text);
    while (len && isspace((unsigned char)text[len - 1])) len--;
    if (len == 0 || len > 512) return -1;
    /* "2", "2.", "2)" */
    size_t d = 0;
    while (d < len && d < 3 && isdigit((unsigned char)text[d])) d++;
    if (d > 0 && (d == len || (d + 1 == len && (text[d] == '.' || text[d] == ')')))) {
        long k = strtol(text, NULL, 10);
        return k >= 1 && (size_t)k <= n ? (int)k - 1 : -1;
    }
    for (size_t i = 0; i < n; i++)
        if (strlen(ch[i].title) == len && !strncasecmp(ch[i].title, text, len)) return (int)i;
    return -1;
}

/* Lower-cases ASCII and Cyrillic (А-Я, Ё) into out (cap bytes); other
 * characters are copied. Returns 0, or -1 when the text does not fit. */
static int fold(const char *in, char *out, size_t cap)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = 0;
    while (*p) {
        if (n + 3 > cap) return -1;
        if (*p >= 'A' && *p <= 'Z') {
            out[n++] = (char)(*p++ + 32);
        } else if (p[0] == 0xD0 && p[1] >= 0x90 && p[1] <= 0x9F) {  /* А-П -> а-п */
            out[n++] = (char)0xD0, out[n++] = (char)(p[1] + 0x20), p += 2;
        } else if (p[0] == 0xD0 && p[1] >= 0xA0 && p[1] <= 0xAF) {  /* Р-Я -> р-я */
            out[n++] = (char)0xD1, out[n++] = (char)(p[1] - 0x20), p += 2;
        } else if (p[0] == 0xD0 && p[1] == 0x81) {                  /* Ё -> е */
            out[n++] = (char)0xD0, out[n++] = (char)0xB5, p += 2;
        } else if (p[0] == 0xD1 && p[1] == 0x91) {                  /* ё -> е */
            out[n++] = (char)0xD0, out[n++] = (char)0xB5, p += 2;
        } else {
            out[n++] = (char)*p++;
        }
    }
    out[n] = 0;
    return 0;
}

int bb_wants_operator(const bb_state *s, const char *text)
{
    char t[1024], w[256];
    if (!text || fold(text, t, sizeof t) != 0) return 0;  /* a long text is a question */
    for (size_t i = 0; i < s->n_words; i++)
        if (fold(s->words[i], w, sizeof w) == 0 && *w && strstr(t, w)) return 1;
    return 0;
}
