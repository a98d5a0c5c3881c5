#!/usr/bin/python3
"""Xapian peer: BM25Weight, Snowball Russian stemmer and stop words, title /
keywords (+ misspellings) / body indexed with wdf weights 3 / 2 / 1 (the
same field weights as ours), in-memory database, OR query parser.
Prints "engine<TAB>MRR@3<TAB>p50 ms<TAB>p99 ms". Usage: peer_xapian.py DIR [repeats]"""
import json
import sys
import time
import xapian

RU_STOP = ("и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по "
           "только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если "
           "уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей "
           "может они тут где есть надо ней для мы тебя их чем была сам чтоб без будто чего раз "
           "тоже себе под будет ж тогда кто этот того потому этого какой совсем ним здесь этом "
           "один почти мой тем чтобы нее сейчас были куда зачем всех никогда можно при наконец "
           "два об другой хоть после над больше тот через эти нас про всего них какая много "
           "разве три эту моя впрочем хорошо свою этой перед иногда лучше чуть том нельзя такой "
           "им более всегда конечно всю между").split()


def main():
    d = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    db = xapian.WritableDatabase("", xapian.DB_BACKEND_INMEMORY)
    stem = xapian.Stem("russian")
    stopper = xapian.SimpleStopper()
    for w in RU_STOP:
        stopper.add(w)
    tg = xapian.TermGenerator()
    tg.set_stemmer(stem)
    tg.set_stopper(stopper)
    tg.set_stemming_strategy(xapian.TermGenerator.STEM_SOME)
    with open(d + "/kb.jsonl") as f:
        for line in f:
            a = json.loads(line)
            doc = xapian.Document()
            tg.set_document(doc)
            tg.index_text(a["title"], 3)
            tg.increase_termpos()
            tg.index_text(" ".join(a["keywords"] + a["misspellings"]), 2)
            tg.increase_termpos()
            tg.index_text(a["body"], 1)
            doc.set_data(a["id"])
            db.add_document(doc)
    qp = xapian.QueryParser()
    qp.set_stemmer(stem)
    qp.set_stopper(stopper)
    qp.set_stemming_strategy(xapian.QueryParser.STEM_SOME)
    qp.set_default_op(xapian.Query.OP_OR)
    qp.set_database(db)
    enq = xapian.Enquire(db)
    enq.set_weighting_scheme(xapian.BM25Weight(1.2, 0, 1, 0.75, 0.5))
    qs = [l.rstrip("\n").split("\t") for l in open(d + "/questions.tsv") if "\t" in l]

    def top3(q):
        query = qp.parse_query(q.lower(), xapian.QueryParser.FLAG_DEFAULT)
        enq.set_query(query)
        return [m.document.get_data().decode() for m in enq.get_mset(0, 3)]

    mrr = 0.0
    for q, label in qs:
        ids = top3(q)
        if label in ids:
            mrr += 1.0 / (ids.index(label) + 1)
    mrr /= max(1, len(qs))
    lat = []
    for _ in range(reps):
        for q, _ in qs:
            t = time.perf_counter()
            top3(q)
            lat.append((time.perf_counter() - t) * 1e3)
    lat.sort()
    print("xapian BM25 (python3-xapian)\t%.3f\t%.3f\t%.3f" % (mrr, lat[len(lat) // 2], lat[len(lat) * 99 // 100]))


if __name__ == "__main__":
    main()
