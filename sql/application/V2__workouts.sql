-- Workouts of the day and benchmarks, with how they are scored (../shared/DOMAIN.md).

CREATE TABLE workout (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT workout_pkey PRIMARY KEY,
    name            varchar(120) NOT NULL CONSTRAINT workout_name_check CHECK (btrim(name) <> ''),
    description     text         NOT NULL DEFAULT '',
    scheduled_on    date         NOT NULL DEFAULT current_date,
    track           varchar(40)  NOT NULL DEFAULT 'main',
    score_type      varchar(12)  NOT NULL
                    CONSTRAINT workout_score_type_check CHECK (score_type IN (
                        'time', 'rounds_reps', 'reps', 'load', 'calories', 'distance', 'points',
                        'pass_fail', 'none')),
    time_cap_seconds integer     CONSTRAINT workout_time_cap_check CHECK (time_cap_seconds > 0),
    -- Reps in one round (AMRAP) or in the whole workout (for time): turns "5+12" and capped
    -- results into reps.
    reps_per_round  integer      CONSTRAINT workout_reps_per_round_check CHECK (reps_per_round > 0),
    scaling_levels  varchar(12)[] NOT NULL DEFAULT '{rx,scaled}'
                    CONSTRAINT workout_scaling_levels_check CHECK (
                        cardinality(scaling_levels) > 0
                        AND scaling_levels <@ ARRAY['rx_plus', 'rx', 'scaled', 'foundations']::varchar(12)[]),
    tiebreak_scheme varchar(10)  NOT NULL DEFAULT 'none'
                    CONSTRAINT workout_tiebreak_scheme_check CHECK (tiebreak_scheme IN ('none', 'time', 'reps')),
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX workout_scheduled_on_idx ON workout (scheduled_on DESC, id);

CREATE TABLE workout_exercise (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT workout_exercise_pkey PRIMARY KEY,
    workout_id      bigint       NOT NULL
                    CONSTRAINT workout_exercise_workout_fkey REFERENCES workout (id) ON DELETE CASCADE,
    exercise_id     bigint       NOT NULL
                    CONSTRAINT workout_exercise_exercise_fkey REFERENCES exercise (id) ON DELETE RESTRICT,
    position        smallint     NOT NULL CONSTRAINT workout_exercise_position_check CHECK (position > 0),
    prescription    varchar(200) NOT NULL DEFAULT '',
    rx_load_grams   integer      CONSTRAINT workout_exercise_rx_load_check CHECK (rx_load_grams >= 0),
    scaled_load_grams integer    CONSTRAINT workout_exercise_scaled_load_check CHECK (scaled_load_grams >= 0),
    CONSTRAINT workout_exercise_workout_position_key UNIQUE (workout_id, position)
);
CREATE INDEX workout_exercise_exercise_idx ON workout_exercise (exercise_id);
