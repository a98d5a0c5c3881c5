/* The scenario model: a graph of named steps, parsed from YAML (or JSON,
 * which libyaml reads as YAML) and validated so that every error names
 * source:line:col. Pure data: no host, no I/O. */
#ifndef BB_SCENARIO_H
#define BB_SCENARIO_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define BB_MAX_TEXT (256 << 10)  /* scenario text, bytes */
#define BB_MAX_STEPS 500
#define BB_MAX_BUTTONS 20        /* per menu, before the operator button */
#define BB_MAX_PAIRS 32          /* headers, attributes, extractions per step */
#define BB_MAX_PATTERN 256       /* regex validator, bytes */
#define BB_MAX_ERRORS 20

typedef enum {
    BB_MENU, BB_MESSAGE, BB_GOTO, BB_ASK, BB_SET, BB_API, BB_HANDOFF, BB_TEXTBOT, BB_END
} bb_kind;

typedef enum { BB_V_NONE, BB_V_PHONE, BB_V_EMAIL, BB_V_NUMBER, BB_V_REGEX } bb_validator;

/* A reference to a step by id, resolved to `ix` by validation (-1 = none). */
typedef struct {
    char *id;
    int ix;
    int line, col;   /* 1-based, of the referencing value */
} bb_ref;

typedef struct {
    char *title;
    bb_ref go;
} bb_button;

typedef struct {
    char *key;
    char *value;
} bb_pair;

typedef struct bb_step {
    char *id;
    bb_kind kind;
    int line, col;
    char *text;                  /* template; every kind may say something */
    bb_ref next;                 /* message, set, ask, api, textbot; goto's `to` */
    /* menu */
    bb_button *buttons;
    size_t n_buttons;
    bb_ref fallback;             /* menu: where typed text goes (e.g. a textbot step) */
    /* ask */
    char *into;                  /* "client.x" or "conversation.x" */
    bb_validator validate;
    regex_t re;
    int has_re;
    double min, max;             /* number bounds (inclusive) */
    int has_min, has_max;
    char *retry_text;
    int max_retries;
    bb_ref on_fail;              /* ask: after max_retries; -1 = hand off */
    /* set: attributes "client.x" -> template, tags "client.vip" */
    bb_pair *attrs;
    size_t n_attrs;
    char **tags;
    size_t n_tags;
    /* api */
    char *method, *url, *body;
    bb_pair *headers;
    size_t n_headers;
    bb_pair *extract;            /* "conversation.x" -> "data.orders[0].status" */
    size_t n_extract;
    uint32_t timeout_ms;
    int retries;
    bb_ref on_error;             /* api, textbot: -1 = apologise and hand off */
    /* handoff */
    char *group, *skill, *reason;
    int level;
    /* textbot */
    int limit;
    /* end */
    int rating;
} bb_step;

typedef struct bb_scenario {
    int refs;                    /* conversations + the instance holding it */
    char *source;                /* "conf/buttonbot/bank.yaml" or "api" */
    char *text;                  /* the text it was parsed from */
    size_t text_len;
    bb_ref start;
    char *operator_title;        /* NULL = the instance's default */
    char *operator_group;        /* NULL = the channel's group */
    bb_step *steps;
    size_t n_steps;
} bb_scenario;

/* Errors as "source:line:col: path: message", at most BB_MAX_ERRORS. */
typedef struct {
    char *items[BB_MAX_ERRORS];
    size_t n;
    size_t dropped;
} bb_errors;

void bb_errors_add(bb_errors *e, const char *source, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Joins the errors with "; " into a new string (caller frees). */
char *bb_errors_join(const bb_errors *e);
void bb_errors_free(bb_errors *e);

/* Parses and validates `text` (len bytes, YAML or JSON) named `source` in
 * messages. Returns a scenario with refs = 1, or NULL with errors in *err
 * (at least one). Does not keep `text` or `source`: copies both. */
bb_scenario *bb_scenario_parse(const char *source, const char *text, size_t len,
                               bb_errors *err);
/* Validation after parsing: references, empty menus, cycles. Called by
 * bb_scenario_parse; returns the number of errors added. */
size_t bb_scenario_check(bb_scenario *s, bb_errors *err);

void bb_scenario_ref(bb_scenario *s);
/* Drops one reference; frees at zero. NULL is ignored. */
void bb_scenario_unref(bb_scenario *s);

/* Index of step `id`, or -1. */
int bb_scenario_find(const bb_scenario *s, const char *id);
const char *bb_kind_name(bb_kind k);
/* jpath.c: 0 when `path` is a valid extraction path ("data.items[0].id"). */
int bb_jpath_check(const char *path);
/* 1 when the step waits for the client (menu, ask, textbot). */
int bb_kind_waits(bb_kind k);

#endif
