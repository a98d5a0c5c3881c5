/* Validators for ask steps: phone, e-mail, number, regex. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb.h"

/* "+7 (912) 345-67-89", "8 912 345 67 89" -> "+79123456789". A Russian
 * leading 8 of an 11-digit number is the trunk prefix of +7. */
static int phone(const char *in, char *out, size_t cap)
{
    char d[32];
    size_t n = 0;
    int plus = 0;
    for (const char *p = in; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (n == 20) return -1;
            d[n++] = *p;
        } else if (*p == '+' && n == 0 && !plus) {
            plus = 1;
        } else if (!strchr(" -().", *p)) {
            return -1;
        }
    }
    d[n] = 0;
    if (n < 10 || n > 15) return -1;
    if (!plus && n == 11 && d[0] == '8') d[0] = '7';
    else if (!plus && n == 10) return snprintf(out, cap, "+7%s", d) < (int)cap ? 0 : -1;
    return snprintf(out, cap, "+%s", d) < (int)cap ? 0 : -1;
}

static int email(const char *in, char *out, size_t cap)
{
    const char *at = strchr(in, '@');
    size_t len = strlen(in);
    if (!at || at == in || strchr(at + 1, '@') || len > 254) return -1;
    const char *dot = strrchr(at + 1, '.');
    if (!dot || dot == at + 1 || !dot[1]) return -1;
    for (const char *p = in; *p; p++)
        if ((unsigned char)*p <= ' ' || strchr("<>()[],;:\\\"", *p)) return -1;
    return snprintf(out, cap, "%s", in) < (int)cap ? 0 : -1;
}

static int number(const bb_step *st, const char *in, char *out, size_t cap)
{
    char tmp[64];
    size_t n = strlen(in);
    if (n == 0 || n >= sizeof tmp) return -1;
    memcpy(tmp, in, n + 1);
    for (char *p = tmp; *p; p++)
        if (*p == ',') *p = '.';  /* "12,5" as Russians write it */
    char *end;
    double v = strtod(tmp, &end);
    if (*end || !isfinite(v) || (st->has_min && v < st->min) || (st->has_max && v > st->max))
        return -1;
    return snprintf(out, cap, "%s", tmp) < (int)cap ? 0 : -1;
}

int bb_validate(const bb_step *st, const char *in, char *out, size_t cap)
{
    /* Trim the blanks a client types around an answer. */
    while (*in == ' ' || *in == '\t' || *in == '\n' || *in == '\r') in++;
    size_t n = strnlen(in, BB_MAX_VALUE + 1);
    if (n == 0 || n > BB_MAX_VALUE) return -1;
    while (n && strchr(" \t\r\n", in[n - 1])) n--;
    char v[BB_MAX_VALUE + 1];
    memcpy(v, in, n);
    v[n] = 0;
    switch (st->validate) {
    case BB_V_PHONE: return phone(v, out, cap);
    case BB_V_EMAIL: return email(v, out, cap);
    case BB_V_NUMBER: return number(st, v, out, cap);
    case BB_V_REGEX:
        if (regexec(&st->re, v, 0, NULL, 0) != 0) return -1;
        /* fall through */
    case BB_V_NONE: return snprintf(out, cap, "%s", v) < (int)cap ? 0 : -1;
    }
    return -1;
}
