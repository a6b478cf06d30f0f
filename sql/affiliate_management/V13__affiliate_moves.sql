-- Moving a gym's database to another server while it serves.
--
-- affiliate.write_pause_until: while a move's last catch-up runs, the gym's requests wait (every web
-- process reads it with the routing entry) instead of writing to a database that is about to be left
-- behind. It is a deadline, not a flag: a mover that dies during the pause leaves a gym that serves
-- again once the time passes.
ALTER TABLE affiliate ADD COLUMN write_pause_until timestamptz;

-- One row per move: where from, where to, how (logical replication or dump and restore), and how far
-- it got. A move is resumed from its state after a crash; at most one move of a gym is open at a time.
CREATE TABLE affiliate_move (
    id                    bigint       GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_move_pkey PRIMARY KEY,
    affiliate_id          bigint       NOT NULL CONSTRAINT affiliate_move_affiliate_fk REFERENCES affiliate (id) ON DELETE CASCADE,
    source_server_id      bigint       NOT NULL CONSTRAINT affiliate_move_source_fk REFERENCES database_server (id),
    destination_server_id bigint       NOT NULL CONSTRAINT affiliate_move_destination_fk REFERENCES database_server (id),
    method                varchar(10)  NOT NULL CONSTRAINT affiliate_move_method_check CHECK (method IN ('logical', 'dump')),
    state                 varchar(20)  NOT NULL DEFAULT 'pending'
        CONSTRAINT affiliate_move_state_check CHECK (state IN ('pending', 'copying', 'pausing', 'switched', 'done', 'failed', 'rolled_back')),
    state_detail          text         NOT NULL DEFAULT '',
    requested_by          varchar(150) NOT NULL DEFAULT '',
    attempts              integer      NOT NULL DEFAULT 0,
    pause_ms              integer,
    tables_checked        integer,
    rows_checked          bigint,
    created_at            timestamptz  NOT NULL DEFAULT now(),
    updated_at            timestamptz  NOT NULL DEFAULT now(),
    finished_at           timestamptz,
    CONSTRAINT affiliate_move_servers_check CHECK (source_server_id <> destination_server_id)
);
CREATE UNIQUE INDEX affiliate_move_open_idx ON affiliate_move (affiliate_id)
    WHERE state NOT IN ('done', 'failed', 'rolled_back');
CREATE INDEX affiliate_move_affiliate_idx ON affiliate_move (affiliate_id, created_at);
