-- PostgreSQL peer: russian full-text search, tsvector weighted title A /
-- keywords+misspellings B / body C, GIN index, ranked by ts_rank_cd.
-- Two query modes: plainto_tsquery as is (all words must match: AND) and
-- the same lexemes joined with | (OR), the kinder set-up for chat questions.
-- Timing is server-side (clock_timestamp around the SELECT, no round trip).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE TABLE kb(id text PRIMARY KEY, title text, keywords text, body text);
\copy kb FROM 'kb.tsv'
ALTER TABLE kb ADD COLUMN tsv tsvector;
UPDATE kb SET tsv = setweight(to_tsvector('russian', title), 'A')
                 || setweight(to_tsvector('russian', keywords), 'B')
                 || setweight(to_tsvector('russian', body), 'C');
CREATE INDEX kb_tsv ON kb USING gin(tsv);
VACUUM ANALYZE kb;
CREATE TABLE q(n serial, question text, label text);
\copy q(question, label) FROM 'questions.tsv'
CREATE TABLE res(mode text, rep int, n int, rank int, ms float8);
CREATE FUNCTION bench(mode text, reps int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE r record; qq tsquery; ids text[]; t0 timestamptz;
BEGIN
  FOR i IN 1..reps LOOP
    FOR r IN SELECT * FROM q ORDER BY n LOOP
      t0 := clock_timestamp();
      qq := plainto_tsquery('russian', r.question);
      IF mode = 'or' THEN qq := replace(qq::text, '&', '|')::tsquery; END IF;
      SELECT array_agg(id) INTO ids FROM
        (SELECT id FROM kb WHERE tsv @@ qq ORDER BY ts_rank_cd(tsv, qq) DESC, id LIMIT 3) s;
      INSERT INTO res VALUES (mode, i, r.n, coalesce(array_position(ids, r.label), 0),
                              extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
  END LOOP;
END $$;
\o /dev/null
SELECT bench('and', :reps);
SELECT bench('or', :reps);
\o
\pset format unaligned
\pset tuples_only on
\pset fieldsep '\t'
SELECT CASE mode WHEN 'and' THEN 'postgres russian FTS (plainto, AND)'
                 ELSE 'postgres russian FTS (plainto, OR)' END,
       to_char(avg(CASE WHEN rep = 1 AND rank > 0 THEN 1.0 / rank
                        WHEN rep = 1 THEN 0 END), 'FM0.000'),
       to_char(percentile_disc(0.5) WITHIN GROUP (ORDER BY ms), 'FM990.000'),
       to_char(percentile_disc(0.99) WITHIN GROUP (ORDER BY ms), 'FM990.000')
FROM res GROUP BY mode ORDER BY mode;
