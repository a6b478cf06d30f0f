-- Accent-insensitive member search ("olafs" finds Ólafsdóttir), and the benchmark library
-- FitBuddy ships to every gym: the Girls, Hero workouts, the common lifts and tests. The
-- library's rows (and the standard movements they use) are product data, added by V5.
--
-- unaccent is a trusted extension (PostgreSQL 13+): the database's owner may create it, as on
-- Aurora, without a superuser.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA master;

CREATE TABLE benchmark (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT benchmark_pkey PRIMARY KEY,
    name            varchar(120) NOT NULL CONSTRAINT benchmark_name_check CHECK (btrim(name) <> ''),
    kind            varchar(10)  NOT NULL
                    CONSTRAINT benchmark_kind_check CHECK (kind IN ('girl', 'hero', 'lift', 'test')),
    description     text         NOT NULL DEFAULT '',
    score_type      varchar(12)  NOT NULL
                    CONSTRAINT benchmark_score_type_check CHECK (score_type IN (
                        'time', 'rounds_reps', 'reps', 'load', 'calories', 'distance', 'points',
                        'pass_fail', 'none')),
    time_cap_seconds integer     CONSTRAINT benchmark_time_cap_check CHECK (time_cap_seconds > 0),
    reps_per_round  integer      CONSTRAINT benchmark_reps_per_round_check CHECK (reps_per_round > 0),
    -- Reps in each set of a load test (1 for a 1RM, 3 for a 3RM); NULL for anything else.
    rep_max         smallint     CONSTRAINT benchmark_rep_max_check CHECK (rep_max BETWEEN 1 AND 20),
    CONSTRAINT benchmark_rep_max_load_check CHECK (rep_max IS NULL OR score_type = 'load')
);
CREATE UNIQUE INDEX benchmark_name_key ON benchmark (lower(name));

CREATE TABLE benchmark_movement (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT benchmark_movement_pkey PRIMARY KEY,
    benchmark_id    bigint       NOT NULL
                    CONSTRAINT benchmark_movement_benchmark_fkey REFERENCES benchmark (id) ON DELETE CASCADE,
    exercise_id     bigint       NOT NULL
                    CONSTRAINT benchmark_movement_exercise_fkey REFERENCES exercise (id) ON DELETE RESTRICT,
    position        smallint     NOT NULL CONSTRAINT benchmark_movement_position_check CHECK (position > 0),
    prescription    varchar(200) NOT NULL DEFAULT '',
    rx_load_grams   integer      CONSTRAINT benchmark_movement_rx_load_check CHECK (rx_load_grams >= 0),
    scaled_load_grams integer    CONSTRAINT benchmark_movement_scaled_load_check CHECK (scaled_load_grams >= 0),
    CONSTRAINT benchmark_movement_benchmark_position_key UNIQUE (benchmark_id, position)
);
CREATE INDEX benchmark_movement_exercise_idx ON benchmark_movement (exercise_id);

-- A workout programmed from the library remembers which benchmark it is, so a member's page can
-- put every Fran they did on one line, whatever the coach called the day.
ALTER TABLE workout
    ADD COLUMN benchmark_id bigint
        CONSTRAINT workout_benchmark_fkey REFERENCES benchmark (id) ON DELETE SET NULL,
    ADD COLUMN rep_max smallint
        CONSTRAINT workout_rep_max_check CHECK (rep_max BETWEEN 1 AND 20),
    ADD CONSTRAINT workout_rep_max_load_check CHECK (rep_max IS NULL OR score_type = 'load');
CREATE INDEX workout_benchmark_idx ON workout (benchmark_id) WHERE benchmark_id IS NOT NULL;

-- Load workouts a gym already has whose name says their rep max ("Back Squat 1RM", "Deadlift 5 RM").
UPDATE workout
   SET rep_max = (regexp_match(name, '(\d{1,2})\s*-?\s*RM\M', 'i'))[1]::smallint
 WHERE score_type = 'load'
   AND rep_max IS NULL
   AND (regexp_match(name, '(\d{1,2})\s*-?\s*RM\M', 'i'))[1]::int BETWEEN 1 AND 20;
