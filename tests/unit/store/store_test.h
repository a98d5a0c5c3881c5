/* Helpers shared by the store's unit tests: a fresh temporary directory per
 * test, removed afterwards. Included by test_*.c only. */
#ifndef SB_STORE_TEST_H
#define SB_STORE_TEST_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline char *tmp_make(void)
{
    char *d = strdup("/tmp/sb-store-XXXXXX");
    if (!d || !mkdtemp(d)) {
        perror("mkdtemp");
        abort();
    }
    return d;
}

static inline int tmp_rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb; (void)flag; (void)f;
    return remove(p);
}

static inline void tmp_remove(char *d)
{
    nftw(d, tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
}

/* "<dir>/<name>" in a static buffer. */
static inline const char *tmp_sub(const char *dir, const char *name)
{
    static char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof buf) abort();
    return buf;
}

#endif
