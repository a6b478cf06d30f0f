-- Staff notes on a gym: what support learned on a call, and whether something is still open. The
-- command center adds notes and closes open ones; it never rewrites a note's text (a correction is a
-- new note). Each note names its author (a staff username) and time.
CREATE TABLE affiliate_note (
    id           bigint       GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_note_pkey PRIMARY KEY,
    affiliate_id bigint       NOT NULL CONSTRAINT affiliate_note_affiliate_fk REFERENCES affiliate (id) ON DELETE CASCADE,
    author       varchar(150) NOT NULL,
    body         text         NOT NULL CONSTRAINT affiliate_note_body_check CHECK (length(btrim(body)) BETWEEN 1 AND 4000),
    is_open      boolean      NOT NULL DEFAULT false,
    created_at   timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX affiliate_note_affiliate_idx ON affiliate_note (affiliate_id, created_at);
