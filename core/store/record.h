/* Record codecs: the one format of every stored record. A record is a
 * msgpack array [version, field1, field2, ...]:
 *   - version is a positive integer, the record's schema version;
 *   - fields are positional; new fields are ONLY EVER APPENDED, never
 *     removed, reordered or retyped, so a reader of version N decodes an
 *     older record (fewer fields: the missing ones read as their defaults)
 *     and a newer one (extra fields are ignored).
 * Field types: str (or nil), u64, i64, bool, double, bin (or nil), array of
 * str, map of str -> str.
 *
 * Writer:
 *     sb_rec_writer w; sb_rec_writer_init(&w);
 *     sb_rec_begin(&w, 2, 3);                 // version 2, three fields
 *     sb_rec_str(&w, name); sb_rec_u64(&w, id); sb_rec_bool(&w, open);
 *     if (sb_rec_end(&w, &data, &len) == SB_OK) store data/len ...
 *     sb_rec_writer_free(&w);
 * Field calls never fail on their own: the first error (no memory, a field
 * too many, a string over 4 GiB) is kept and returned by sb_rec_end.
 *
 * Reader:
 *     sb_rec_reader r;
 *     if (sb_rec_open(&r, data, len) != SB_OK) -> not a record;
 *     name = sb_rec_next_str(&r, &name_len); id = sb_rec_next_u64(&r, 0); ...
 *     if (sb_rec_close(&r) != SB_OK) -> a field had the wrong type.
 * Open validates the whole input (well-formed msgpack, nothing truncated,
 * nothing after the array, nesting <= 32 deep, a positive version), so
 * garbage is rejected there and never crashes. A field of the wrong type
 * reads as the default and sets the error that sb_rec_close returns.
 *
 * Thread: any; a writer or reader is used by one thread at a time. Neither
 * may be copied (moved) after init/open.
 */
#ifndef SB_RECORD_H
#define SB_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>
#include <switchboard/plugin.h> /* sb_status */

/* ---- writer ------------------------------------------------------------- */
typedef struct sb_rec_writer { /* fields private */
    msgpack_sbuffer buf;
    msgpack_packer pk;
    uint32_t declared, written;
    sb_status err;
} sb_rec_writer;

void sb_rec_writer_init(sb_rec_writer *w);
/* Starts a record (dropping a previous one, keeping the buffer's memory):
 * version >= 1, then exactly n_fields field calls before sb_rec_end. */
void sb_rec_begin(sb_rec_writer *w, uint32_t version, uint32_t n_fields);
void sb_rec_nil(sb_rec_writer *w);
void sb_rec_str(sb_rec_writer *w, const char *s);               /* NULL -> nil */
void sb_rec_strn(sb_rec_writer *w, const char *s, size_t len);  /* NULL -> nil */
void sb_rec_u64(sb_rec_writer *w, uint64_t v);
void sb_rec_i64(sb_rec_writer *w, int64_t v);
void sb_rec_bool(sb_rec_writer *w, bool v);
void sb_rec_double(sb_rec_writer *w, double v);
void sb_rec_bin(sb_rec_writer *w, const void *p, size_t len);   /* NULL -> nil */
/* n strings; a NULL item is stored as nil. */
void sb_rec_str_array(sb_rec_writer *w, const char *const *items, size_t n);
/* n pairs from parallel arrays; a NULL key is an error, a NULL value nil. */
void sb_rec_map(sb_rec_writer *w, const char *const *keys,
                const char *const *vals, size_t n);
/* Finishes the record: *data and *len point into the writer's buffer (owned by
 * the writer, valid until the next begin, reset or free). SB_ERR_STATE when
 * the field count differs from begin's, else the first error met. */
sb_status sb_rec_end(sb_rec_writer *w, const void **data, size_t *len);
/* Forgets the record, keeps the memory for the next one. */
void sb_rec_writer_reset(sb_rec_writer *w);
void sb_rec_writer_free(sb_rec_writer *w);

/* ---- reader ------------------------------------------------------------- */
typedef struct sb_rec_reader { /* fields private */
    const unsigned char *p, *end; /* the next field .. end of input */
    uint32_t left;                /* fields not read yet */
    uint32_t version;
    sb_status err;
    msgpack_zone *zone;           /* copies for arrays and maps, lazily */
} sb_rec_reader;

/* Validates data (BORROWED: it must outlive the reader) and positions on
 * the first field. SB_ERR_INVALID when it is not a record; the reader then
 * needs no close (close is harmless). */
sb_status sb_rec_open(sb_rec_reader *r, const void *data, size_t len);
uint32_t sb_rec_version(const sb_rec_reader *r);

/* Each reads the next field. Past the last field, or for nil, the default.
 * Pointers are BORROWED from data (strings are NOT NUL-terminated) or from
 * the reader's copies, valid until sb_rec_close. */
const char *sb_rec_next_str(sb_rec_reader *r, size_t *len); /* NULL, 0 */
const void *sb_rec_next_bin(sb_rec_reader *r, size_t *len); /* NULL, 0 */
uint64_t sb_rec_next_u64(sb_rec_reader *r, uint64_t def);
int64_t sb_rec_next_i64(sb_rec_reader *r, int64_t def);
bool sb_rec_next_bool(sb_rec_reader *r, bool def);
double sb_rec_next_double(sb_rec_reader *r, double def);     /* ints convert */
/* Arrays and maps are copied as NUL-terminated strings (a string holding a
 * NUL byte reads as its prefix: use bin for bytes); nil items read as NULL.
 * Absent/nil: *n = 0 and NULL arrays. SB_OK, SB_ERR_INVALID (wrong type,
 * also kept for close) or SB_ERR_NOMEM. */
sb_status sb_rec_next_str_array(sb_rec_reader *r, const char *const **items,
                                size_t *n);
sb_status sb_rec_next_map(sb_rec_reader *r, const char *const **keys,
                          const char *const **vals, size_t *n);
/* Skips one field of any type. */
void sb_rec_skip(sb_rec_reader *r);
/* Frees the copies; returns the first error met while reading (SB_OK when
 * every field had the expected type). */
sb_status sb_rec_close(sb_rec_reader *r);

#endif
