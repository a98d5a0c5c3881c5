/* Loads kb.jsonl into the textbot search library, runs questions.tsv and
 * prints "engine<TAB>MRR@3<TAB>p50 ms<TAB>p99 ms"; build time and memory go
 * to stderr. Usage: bench_textbot DIR [repeats] */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "search.h"

#define MAXQ 10000

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static size_t strs(json_t *arr, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(arr) && n < max; i++)
        if (json_is_string(json_array_get(arr, i))) out[n++] = json_string_value(json_array_get(arr, i));
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [repeats]\n", argv[0]);
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    char path[4096], line[65536];
    tb_index *ix = tb_index_new(NULL);
    if (!ix) return 1;

    snprintf(path, sizeof path, "%s/kb.jsonl", argv[1]);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    double t0 = now_ms();
    size_t n_art = 0;
    while (fgets(line, sizeof line, f)) {
        json_t *o = json_loads(line, 0, NULL);
        if (!o) continue;
        const char *kw[64], *ms[64];
        tb_article a = {
            json_string_value(json_object_get(o, "id")), json_string_value(json_object_get(o, "title")),
            json_string_value(json_object_get(o, "body")), kw, strs(json_object_get(o, "keywords"), kw, 64),
            ms, strs(json_object_get(o, "misspellings"), ms, 64)};
        if (tb_index_put(ix, &a) == SB_OK) n_art++;
        json_decref(o);
    }
    fclose(f);
    double build = now_ms() - t0;

    snprintf(path, sizeof path, "%s/questions.tsv", argv[1]);
    f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    static char *qs[MAXQ], *labels[MAXQ];
    size_t nq = 0;
    while (nq < MAXQ && fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = 0;
        tab[strcspn(tab + 1, "\r\n") + 1] = 0;
        qs[nq] = strdup(line);
        labels[nq++] = strdup(tab + 1);
    }
    fclose(f);

    double mrr = 0;
    tb_result r[3];
    size_t n;
    const char *show = getenv("TB_BENCH_MISSES");   /* set: list the misses on stderr */
    for (size_t i = 0; i < nq; i++) {
        tb_search(ix, qs[i], 3, r, &n);
        size_t k = 0;
        while (k < n && strcmp(r[k].id, labels[i])) k++;
        if (k < n) mrr += 1.0 / (double)(k + 1);
        else if (show) fprintf(stderr, "miss: %s [%s] -> %s\n", qs[i], labels[i], n ? r[0].id : "-");
    }
    mrr /= nq ? (double)nq : 1;

    size_t ns = nq * (size_t)reps;
    double *lat = malloc((ns ? ns : 1) * sizeof *lat);
    size_t k = 0;
    for (int rep = 0; rep < reps; rep++)
        for (size_t i = 0; i < nq; i++) {
            double s = now_ms();
            tb_search(ix, qs[i], 3, r, &n);
            lat[k++] = now_ms() - s;
        }
    qsort(lat, ns, sizeof *lat, cmp_d);
    tb_stats st;
    tb_index_stats(ix, &st);
    fprintf(stderr, "textbot: %zu articles indexed in %.0f ms; %u terms, %llu postings, "
            "%llu typo entries, ~%.1f MiB\n", n_art, build, st.terms,
            (unsigned long long)st.postings, (unsigned long long)st.typo_entries, st.bytes / 1048576.0);
    printf("switchboard textbot\t%.3f\t%.3f\t%.3f\n", mrr, ns ? lat[ns / 2] : 0,
           ns ? lat[ns * 99 / 100] : 0);
    for (size_t i = 0; i < nq; i++) { free(qs[i]); free(labels[i]); }
    free(lat);
    tb_index_free(ix);
    return 0;
}
