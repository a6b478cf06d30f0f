-- An affiliate's members (the original seed's "Users") and its exercise library.

CREATE TABLE member (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT member_pkey PRIMARY KEY,
    first_name      varchar(100) NOT NULL CONSTRAINT member_first_name_check CHECK (btrim(first_name) <> ''),
    last_name       varchar(100) NOT NULL DEFAULT '',
    email           varchar(254) NOT NULL CONSTRAINT member_email_check CHECK (email = lower(email) AND email LIKE '%_@_%'),
    gender          varchar(1)   NOT NULL DEFAULT 'X'
                    CONSTRAINT member_gender_check CHECK (gender IN ('F', 'M', 'X')),
    birth_date      date,
    joined_on       date         NOT NULL DEFAULT current_date,
    is_active       boolean      NOT NULL DEFAULT true,
    hide_scores     boolean      NOT NULL DEFAULT false,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT member_email_key UNIQUE (email)
);
CREATE INDEX member_name_idx ON member (last_name, first_name);

CREATE TABLE exercise (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT exercise_pkey PRIMARY KEY,
    name            varchar(100) NOT NULL CONSTRAINT exercise_name_check CHECK (btrim(name) <> ''),
    category        varchar(20)  NOT NULL
                    CONSTRAINT exercise_category_check CHECK (category IN (
                        'weightlifting', 'gymnastics', 'monostructural', 'strongman', 'other')),
    -- What a personal record on this exercise is measured in.
    unit            varchar(10)  NOT NULL
                    CONSTRAINT exercise_unit_check CHECK (unit IN ('load', 'reps', 'time', 'distance', 'calories')),
    description     text         NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX exercise_name_key ON exercise (lower(name));
