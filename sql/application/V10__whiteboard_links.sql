-- The whiteboard on the box's TV: a read-only page reached by a link without a login. A link carries
-- a random token; only its SHA-256 (bound to the gym: the hash covers the gym's id as well) is kept,
-- so this table gives nobody a working link. A coach revokes a link: it stops at the TV's next refresh.

CREATE TABLE whiteboard_link (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT whiteboard_link_pkey PRIMARY KEY,
    label           varchar(80)  NOT NULL CONSTRAINT whiteboard_link_label_check CHECK (btrim(label) <> ''),
    token_hash      varchar(64)  NOT NULL
                    CONSTRAINT whiteboard_link_token_hash_check CHECK (token_hash ~ '^[0-9a-f]{64}$')
                    CONSTRAINT whiteboard_link_token_hash_key UNIQUE,
    created_by      varchar(254) NOT NULL DEFAULT '',
    created_at      timestamptz  NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    revoked_by      varchar(254) NOT NULL DEFAULT '',
    last_seen_at    timestamptz
);

-- A workout a coach keeps from athletes until they publish it (published_at says from when, once
-- published; NULL there still means as soon as it is saved).
ALTER TABLE workout ADD COLUMN draft boolean NOT NULL DEFAULT false;
