-- Participations: one member's result on one workout, with the single sort key the
-- leaderboards rank on (../shared/DOMAIN.md, "Ranking one workout").
--
-- sort_key (numeric(38,0), lower ranks higher) packs, most significant first:
--   level     1 digit   rx_plus 0, rx 1, scaled 2, foundations 3
--   status    1 digit   finished 0, capped 1, dnf/dq 2, withdrawn 3
--   value    13 digits  the primary score, flipped (9999999999999 - v) where higher is better
--   secondary 10 digits reps completed under a cap, flipped (more is better)
--   tiebreak 13 digits  lower is better
-- A trigger computes it from the row and its workout's score type, so every writer (the app,
-- seeds, a psql session) gets the same ranking.

CREATE TABLE participation (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT participation_pkey PRIMARY KEY,
    workout_id      bigint       NOT NULL
                    CONSTRAINT participation_workout_fkey REFERENCES workout (id) ON DELETE CASCADE,
    member_id       bigint       NOT NULL
                    CONSTRAINT participation_member_fkey REFERENCES member (id) ON DELETE RESTRICT,
    scaling_level   varchar(12)  NOT NULL DEFAULT 'rx'
                    CONSTRAINT participation_scaling_level_check CHECK (scaling_level IN ('rx_plus', 'rx', 'scaled', 'foundations')),
    status          varchar(10)  NOT NULL DEFAULT 'finished'
                    CONSTRAINT participation_status_check CHECK (status IN ('finished', 'capped', 'dnf', 'dq', 'withdrawn')),
    -- Canonical integer units: milliseconds, rounds*100000+reps, reps, grams, calories,
    -- millimetres, points, or 1/0 for pass/fail.
    score_value     bigint       CONSTRAINT participation_score_value_check CHECK (score_value BETWEEN 0 AND 9999999999999),
    -- Reps completed when the time cap stopped a for-time workout.
    reps_completed  integer      CONSTRAINT participation_reps_completed_check CHECK (reps_completed BETWEEN 0 AND 999999999),
    tiebreak_ms     bigint       CONSTRAINT participation_tiebreak_check CHECK (tiebreak_ms BETWEEN 0 AND 9999999999999),
    sort_key        numeric(38, 0),
    notes           text         NOT NULL DEFAULT '',
    performed_on    date         NOT NULL DEFAULT current_date,
    -- Who recorded or last edited the result (a login of the management database).
    recorded_by     varchar(150) NOT NULL DEFAULT '',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT participation_workout_member_key UNIQUE (workout_id, member_id),
    CONSTRAINT participation_capped_has_reps_check CHECK (status <> 'capped' OR reps_completed IS NOT NULL)
);
CREATE INDEX participation_leaderboard_idx ON participation (workout_id, sort_key, id);
CREATE INDEX participation_member_idx ON participation (member_id, performed_on);

CREATE FUNCTION participation_sort_key(
    p_score_type varchar, p_scaling_level varchar, p_status varchar,
    p_score_value bigint, p_reps_completed integer, p_tiebreak_ms bigint
) RETURNS numeric(38, 0)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE WHEN p_score_type = 'none' THEN NULL ELSE
      (CASE p_scaling_level WHEN 'rx_plus' THEN 0 WHEN 'rx' THEN 1 WHEN 'scaled' THEN 2 ELSE 3 END)::numeric * 1e37
    + (CASE p_status WHEN 'finished' THEN 0 WHEN 'capped' THEN 1 WHEN 'withdrawn' THEN 3 ELSE 2 END)::numeric * 1e36
    + (CASE
         WHEN p_status <> 'finished' OR p_score_value IS NULL THEN 9999999999999
         WHEN p_score_type = 'time' THEN p_score_value
         ELSE 9999999999999 - p_score_value
       END)::numeric * 1e23
    + (CASE WHEN p_status = 'capped' THEN 9999999999 - coalesce(p_reps_completed, 0) ELSE 0 END)::numeric * 1e13
    + coalesce(p_tiebreak_ms, 9999999999999)::numeric
  END;

CREATE FUNCTION participation_set_sort_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.sort_key := participation_sort_key(
        (SELECT w.score_type FROM workout w WHERE w.id = NEW.workout_id),
        NEW.scaling_level, NEW.status, NEW.score_value, NEW.reps_completed, NEW.tiebreak_ms);
    RETURN NEW;
END;
$$;

CREATE TRIGGER participation_sort_key_trg
    BEFORE INSERT OR UPDATE ON participation
    FOR EACH ROW EXECUTE FUNCTION participation_set_sort_key();

-- A workout's score type decides how its results rank: re-key them when it changes.
CREATE FUNCTION workout_rekey_participations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE participation SET sort_key = NULL WHERE workout_id = NEW.id;  -- fires the row trigger
    RETURN NULL;
END;
$$;

CREATE TRIGGER workout_score_type_rekey_trg
    AFTER UPDATE OF score_type ON workout
    FOR EACH ROW WHEN (OLD.score_type IS DISTINCT FROM NEW.score_type)
    EXECUTE FUNCTION workout_rekey_participations();

-- A member's best result per exercise, kept current as results are recorded.
CREATE TABLE personal_record (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT personal_record_pkey PRIMARY KEY,
    member_id       bigint       NOT NULL
                    CONSTRAINT personal_record_member_fkey REFERENCES member (id) ON DELETE CASCADE,
    exercise_id     bigint       NOT NULL
                    CONSTRAINT personal_record_exercise_fkey REFERENCES exercise (id) ON DELETE CASCADE,
    -- In the exercise's unit, canonical integers as for participations.
    value           bigint       NOT NULL CONSTRAINT personal_record_value_check CHECK (value >= 0),
    participation_id bigint
                    CONSTRAINT personal_record_participation_fkey REFERENCES participation (id) ON DELETE SET NULL,
    achieved_on     date         NOT NULL,
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT personal_record_member_exercise_key UNIQUE (member_id, exercise_id)
);
CREATE INDEX personal_record_exercise_idx ON personal_record (exercise_id);
