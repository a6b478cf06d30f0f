-- What a gym's staff did that leaves nothing behind to see: a result or a workout deleted, a member
-- deactivated or reactivated. Who did it (the login, as the gym site knows it), when, and what it
-- was (names, scores and ids as they were), for the gym's owner to read on the events page.
--
-- Append-only: a row is never changed or removed by the application (a trigger refuses it), so the
-- gym's own role cannot rewrite what happened.

CREATE TABLE gym_event (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT gym_event_pkey PRIMARY KEY,
    at              timestamptz  NOT NULL DEFAULT now(),
    actor           text         NOT NULL CONSTRAINT gym_event_actor_check CHECK (btrim(actor) <> ''),
    kind            varchar(30)  NOT NULL
                    CONSTRAINT gym_event_kind_check CHECK (kind IN (
                        'result_deleted', 'workout_deleted', 'member_deactivated', 'member_reactivated')),
    detail          jsonb        NOT NULL DEFAULT '{}'
                    CONSTRAINT gym_event_detail_check CHECK (jsonb_typeof(detail) = 'object')
);
CREATE INDEX gym_event_at_idx ON gym_event (at DESC, id DESC);

CREATE FUNCTION gym_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'gym_event is append-only: events are never changed or deleted';
END;
$$;

CREATE TRIGGER gym_event_append_only_trg
    BEFORE UPDATE OR DELETE ON gym_event
    FOR EACH ROW EXECUTE FUNCTION gym_event_append_only();
