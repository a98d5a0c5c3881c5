/* Token -> term: Snowball stems (russian for Cyrillic words, english for
 * Latin ones) and built-in stop words of both languages. */
#include <libstemmer.h>
#include <stdlib.h>
#include <string.h>
#include "search_internal.h"

/* Snowball's Russian list (ё folded to е) plus what clients put around a
 * question ("здравствуйте, подскажите пожалуйста"), which says nothing
 * about the topic. */
static const char *const stop_ru[] = {
    "а", "без", "более", "больше", "будет", "будто", "бы", "был", "была", "были", "было",
    "быть", "в", "вам", "вас", "ведь", "весь", "во", "вот", "впрочем", "все", "всегда",
    "всего", "всех", "всю", "вы", "где", "да", "даже", "для", "до", "другой", "его",
    "ее", "ей", "ему", "если", "есть", "еще", "ж", "же", "за", "зачем", "здесь", "и",
    "из", "или", "им", "иногда", "их", "к", "как", "какая", "какой", "когда", "конечно",
    "кто", "куда", "ли", "лучше", "между", "меня", "мне", "много", "может", "можно", "мой",
    "моя", "мы", "на", "над", "надо", "наконец", "нас", "не", "него", "нее", "ней",
    "нельзя", "нет", "ни", "нибудь", "никогда", "ним", "них", "ничего", "но", "ну", "о",
    "об", "один", "он", "она", "они", "опять", "от", "перед", "по", "под", "после",
    "потом", "потому", "почти", "при", "про", "раз", "разве", "с", "сам", "свою", "себе",
    "себя", "сейчас", "со", "совсем", "так", "такой", "там", "тебя", "тем", "теперь",
    "то", "тогда", "того", "тоже", "только", "том", "тот", "три", "тут", "ты", "у", "уж",
    "уже", "хоть", "чего", "чем", "через", "что", "чтоб", "чтобы", "чуть", "эти",
    "этого", "этой", "этом", "этот", "эту", "я",
    /* conversational */
    "здравствуйте", "здрасте", "привет", "добрый", "подскажите", "скажите", "пожалуйста",
    "пжл", "плз", "спасибо", "помогите", "хочу", "хотел", "хотела", "могу", "нужно",
    "вопрос", "ваш", "ваша", "ваше", "ваши", "мое", "мои", "мою", "моей", "моего", "моем",
    "это", "вообще", "просто", "очень", "почему", "какие", "каким", "каких", "сколько",
    "тк", "т", "д",
};

static const char *const stop_en[] = {
    "a", "about", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from",
    "how", "i", "in", "is", "it", "me", "my", "no", "not", "of", "on", "or", "please",
    "the", "this", "to", "was", "we", "what", "with", "you", "your",
};

#define N_STOP (sizeof stop_ru / sizeof stop_ru[0] + sizeof stop_en / sizeof stop_en[0])

struct tb_stemmer {
    struct sb_stemmer *ru, *en;
    const char *stop[N_STOP];            /* sorted for bsearch */
};

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

tb_stemmer *tb_stemmer_new(void)
{
    tb_stemmer *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->ru = sb_stemmer_new("russian", "UTF_8");
    st->en = sb_stemmer_new("english", "UTF_8");
    if (!st->ru || !st->en) {
        tb_stemmer_free(st);
        return NULL;
    }
    size_t k = 0;
    for (size_t i = 0; i < sizeof stop_ru / sizeof stop_ru[0]; i++) st->stop[k++] = stop_ru[i];
    for (size_t i = 0; i < sizeof stop_en / sizeof stop_en[0]; i++) st->stop[k++] = stop_en[i];
    qsort(st->stop, N_STOP, sizeof st->stop[0], cmp_str);
    return st;
}

void tb_stemmer_free(tb_stemmer *st)
{
    if (!st) return;
    if (st->ru) sb_stemmer_delete(st->ru);
    if (st->en) sb_stemmer_delete(st->en);
    free(st);
}

bool tb_is_stopword(const tb_stemmer *st, const tb_token *t)
{
    const char *key = t->text;
    return bsearch(&key, st->stop, N_STOP, sizeof st->stop[0], cmp_str) != NULL;
}

size_t tb_token_term(tb_stemmer *st, const tb_token *t, char *out, size_t cap)
{
    if (cap < TB_TOKEN_BYTES || tb_is_stopword(st, t)) return 0;
    struct sb_stemmer *s = t->script == TB_SCRIPT_CYRILLIC ? st->ru
                         : t->script == TB_SCRIPT_LATIN ? st->en : NULL;
    const char *src = t->text;
    size_t n = t->len;
    if (s) {
        const sb_symbol *r = sb_stemmer_stem(s, (const sb_symbol *)t->text, (int)t->len);
        if (r) {                          /* NULL only when out of memory: keep the word */
            src = (const char *)r;
            n = (size_t)sb_stemmer_length(s);
        }
    }
    if (n == 0 || n >= cap) { src = t->text; n = t->len; }
    memcpy(out, src, n);
    out[n] = 0;
    return n;
}
