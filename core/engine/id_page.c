#include "engine/internal.h"

/* List pages: the page size every list shares, and one page of a table
 * keyed by u64 id in id order (operators, templates): the same cursor,
 * limit and scan for every such list. */

enum { PAGE_DEFAULT = 50, PAGE_MAX = 500 };

size_t sb_eng_page_limit(size_t asked)
{
    return asked == 0 ? PAGE_DEFAULT : asked > PAGE_MAX ? PAGE_MAX : asked;
}

typedef struct page_ctx {
    sb_engine *e;
    sb_eng_page_item_fn item;
    json_t *items;
    uint64_t last;
    size_t n;
} page_ctx;

static int page_one(void *ud, const void *key, size_t klen, const void *val, size_t vlen)
{
    page_ctx *p = ud;
    if (klen != 8) return 0;
    uint64_t id = sb_key_get_u64(key);
    json_t *j = p->item(p->e, id, val, vlen);
    if (!j) return 0;
    p->last = id;
    p->n++;
    return json_array_append_new(p->items, j) != 0;
}

sb_status sb_eng_id_page(sb_engine *e, int t, const char *cursor, size_t limit,
                         sb_eng_page_item_fn item, char **out)
{
    if (!e || !out) return SB_ERR_INVALID;
    *out = NULL;
    uint64_t from = 0;
    if (cursor && *cursor && !(from = sb_id_parse(cursor))) return SB_ERR_INVALID;
    limit = sb_eng_page_limit(limit);
    unsigned char k[8];
    sb_key_put_u64(k, from + 1);
    page_ctx p = {e, item, json_array(), 0, 0};
    if (!p.items) return SB_ERR_NOMEM;
    long n = sb_store_scan(e->st, TBL(e, t), from ? k : NULL, from ? 8 : 0, NULL, 0, false, limit,
                           page_one, &p);
    return sb_eng_page_out(n < 0 ? (sb_status)n : SB_OK, p.items, p.n == limit ? p.last : 0, out);
}
