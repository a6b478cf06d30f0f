-- Every capped for-time benchmark of the library knows its total reps, so "CAP+15" (15 reps short)
-- can be read on each of them; workouts a gym already programmed from them get the same.
--
-- reps_per_round is a for-time workout's total reps (V2, V5). V5 left it NULL on the benchmarks
-- with runs or rows, which have no rep count of their own; here a run or a row counts as one rep
-- (it is done or it is not), the way a coach counts what is left when the cap stops someone:
-- Helen is 3 x (1 run + 21 swings + 12 pull-ups) = 102 reps, and CAP+1 means the last run was
-- not finished. Product data: a benchmark a gym changed (its reps no longer NULL) is left alone.

UPDATE benchmark b
   SET reps_per_round = v.total
  FROM (VALUES
    ('Helen', 102),     -- 3 x (1 + 21 + 12)
    ('Jackie', 81),     -- 1 + 50 + 30
    ('Nancy', 80),      -- 5 x (1 + 15)
    ('Eva', 305),       -- 5 x (1 + 30 + 30)
    ('Kelly', 305),     -- 5 x (1 + 30 + 30)
    ('Murph', 602),     -- 1 + 100 + 200 + 300 + 1
    ('Michael', 303),   -- 3 x (1 + 50 + 50)
    ('Badger', 183),    -- 3 x (30 + 30 + 1)
    ('Loredo', 438),    -- 6 x (24 + 24 + 24 + 1)
    ('Daniel', 145)     -- 50 + 1 + 21 + 1 + 21 + 1 + 50
  ) AS v (name, total)
 WHERE lower(b.name) = lower(v.name)
   AND b.score_type = 'time'
   AND b.reps_per_round IS NULL;

-- Workouts programmed from those benchmarks before this version take their total reps, unless the
-- gym gave them reps of its own.
UPDATE workout w
   SET reps_per_round = b.reps_per_round
  FROM benchmark b
 WHERE w.benchmark_id = b.id
   AND w.score_type = 'time'
   AND b.score_type = 'time'
   AND w.reps_per_round IS NULL
   AND b.reps_per_round IS NOT NULL;
