-- Programming that copies: a day made of parts, copies of a day or a week, and search over workouts.
--
-- A workout is one part of its day and track (a warm-up, a strength piece, a metcon…), with its own
-- score and results. ``part`` is its label ('' when the coach gave none); ``part_position`` its
-- place in the day and track (1 first). A workout inserted without a place (0), or moved to another
-- day or track, goes last there: every way in (the form, the library, a copy, an import) gets it.
-- A row written back with 0 on the same day and track keeps the place it had.
ALTER TABLE workout
    ADD COLUMN part varchar(40) NOT NULL DEFAULT ''
        CONSTRAINT workout_part_check CHECK (part = btrim(part)),
    ADD COLUMN part_position smallint NOT NULL DEFAULT 0
        CONSTRAINT workout_part_position_check CHECK (part_position >= 0);

-- The workouts a gym already has: each day and track in the order they were made.
UPDATE workout AS w
   SET part_position = ordered.n
  FROM (SELECT id, row_number() OVER (PARTITION BY scheduled_on, track ORDER BY id) AS n FROM workout) AS ordered
 WHERE ordered.id = w.id;

CREATE INDEX workout_day_parts_idx ON workout (scheduled_on, track, part_position, id);

CREATE FUNCTION workout_part_place() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' AND NEW.part_position > 0 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.scheduled_on = OLD.scheduled_on AND NEW.track = OLD.track THEN
        IF NEW.part_position = 0 THEN  -- a row written back whole, unplaced: it keeps its place
            NEW.part_position := OLD.part_position;
        END IF;
        RETURN NEW;
    END IF;
    NEW.part_position := coalesce(
        (SELECT max(part_position) FROM workout
          WHERE scheduled_on = NEW.scheduled_on AND track = NEW.track AND id <> NEW.id), 0) + 1;
    RETURN NEW;
END;
$$;

CREATE TRIGGER workout_part_place_trg
    BEFORE INSERT OR UPDATE OF scheduled_on, track ON workout
    FOR EACH ROW EXECUTE FUNCTION workout_part_place();

-- A copy of a day's or a week's programming, kept by the token of the form that asked for it: the
-- same form sent twice (a double click, a reload) copies once. Who copied what is also a gym event.
CREATE TABLE programming_copy (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT programming_copy_pkey PRIMARY KEY,
    token           uuid         NOT NULL CONSTRAINT programming_copy_token_key UNIQUE,
    source_start    date         NOT NULL,
    target_start    date         NOT NULL,
    days            smallint     NOT NULL CONSTRAINT programming_copy_days_check CHECK (days IN (1, 7)),
    workouts        integer      NOT NULL CONSTRAINT programming_copy_workouts_check CHECK (workouts >= 0),
    actor           text         NOT NULL CONSTRAINT programming_copy_actor_check CHECK (btrim(actor) <> ''),
    at              timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT programming_copy_dates_check CHECK (source_start <> target_start)
);

-- The events page says who copied programming. The kinds allowed are those already allowed (other
-- scripts may have added some) and this one.
DO $$
DECLARE
    kinds text;
BEGIN
    SELECT string_agg(DISTINCT quote_literal(m[1]), ', ')
      INTO kinds
      FROM pg_constraint c,
           regexp_matches(pg_get_constraintdef(c.oid), '''([a-z_]+)''', 'g') AS m
     WHERE c.conname = 'gym_event_kind_check' AND c.conrelid = 'gym_event'::regclass;
    EXECUTE 'ALTER TABLE gym_event DROP CONSTRAINT gym_event_kind_check';
    EXECUTE format(
        'ALTER TABLE gym_event ADD CONSTRAINT gym_event_kind_check CHECK (kind IN (%s, %L))',
        kinds, 'programming_copied');
END;
$$;

-- Search over a gym's whole history: "thruster" in a workout's name or description, accents and
-- case ignored, through a trigram index. unaccent is stable (its dictionary could change); naming
-- the dictionary makes the wrapper safe to index. pg_trgm is a trusted extension, like unaccent.
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA master;

CREATE FUNCTION workout_search_text(name text, description text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(master.unaccent('master.unaccent'::regdictionary, name || ' ' || description))
$$;

CREATE INDEX workout_search_idx ON workout USING gin (workout_search_text(name, description) master.gin_trgm_ops);
