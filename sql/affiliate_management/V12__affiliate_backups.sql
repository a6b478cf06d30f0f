-- Every backup of a gym, taken or failed: nightly, by hand, before an archive. Retention prunes a
-- backup (its file deleted, or its S3 object expired by the bucket's lifecycle rules) and stamps
-- pruned_at; the row stays, so the history of a gym's backups is never lost. The tier (daily,
-- weekly, monthly, or archive: kept until staff delete it) is given when the backup is taken; the
-- newest good backup of a gym is pinned (never expired) while no newer one exists.
CREATE TABLE affiliate_backup (
    id             bigint       GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_backup_pkey PRIMARY KEY,
    affiliate_id   bigint       NOT NULL CONSTRAINT affiliate_backup_affiliate_fk REFERENCES affiliate (id) ON DELETE CASCADE,
    kind           varchar(10)  NOT NULL CONSTRAINT affiliate_backup_kind_check CHECK (kind IN ('nightly', 'manual', 'archive')),
    outcome        varchar(10)  NOT NULL CONSTRAINT affiliate_backup_outcome_check CHECK (outcome IN ('succeeded', 'failed')),
    tier           varchar(10)  NOT NULL DEFAULT 'daily' CONSTRAINT affiliate_backup_tier_check CHECK (tier IN ('daily', 'weekly', 'monthly', 'archive')),
    location       text         NOT NULL DEFAULT '',
    sha256         varchar(64)  NOT NULL DEFAULT '',
    size_bytes     bigint       CONSTRAINT affiliate_backup_size_check CHECK (size_bytes >= 0),
    schema_version varchar(50)  NOT NULL DEFAULT '',
    error          text         NOT NULL DEFAULT '',
    requested_by   varchar(150) NOT NULL DEFAULT '',
    taken_at       timestamptz  NOT NULL DEFAULT now(),
    pinned         boolean      NOT NULL DEFAULT false,
    pruned_at      timestamptz,
    CONSTRAINT affiliate_backup_good_check CHECK (outcome <> 'succeeded' OR (location <> '' AND sha256 <> ''))
);
CREATE INDEX affiliate_backup_affiliate_idx ON affiliate_backup (affiliate_id, taken_at);
-- A gym's last good backup (the command center's column, the schedule, the metrics): an index read.
CREATE INDEX affiliate_backup_good_idx ON affiliate_backup (affiliate_id, taken_at) WHERE outcome = 'succeeded' AND pruned_at IS NULL;

-- Every restore drill: a gym's backup restored into a scratch database, checked, then dropped.
CREATE TABLE backup_drill (
    id               bigint       GENERATED ALWAYS AS IDENTITY CONSTRAINT backup_drill_pkey PRIMARY KEY,
    affiliate_id     bigint       NOT NULL CONSTRAINT backup_drill_affiliate_fk REFERENCES affiliate (id) ON DELETE CASCADE,
    backup_id        bigint       CONSTRAINT backup_drill_backup_fk REFERENCES affiliate_backup (id) ON DELETE SET NULL,
    outcome          varchar(10)  NOT NULL DEFAULT 'running' CONSTRAINT backup_drill_outcome_check CHECK (outcome IN ('running', 'succeeded', 'failed')),
    server_name      varchar(100) NOT NULL DEFAULT '',
    scratch_database varchar(63)  NOT NULL DEFAULT '',
    schema_version   varchar(50)  NOT NULL DEFAULT '',
    -- What was checked, one line each ("sha256 ok", "pg_restore exit 0", …), and each table's row count.
    checks           text         NOT NULL DEFAULT '',
    table_rows       jsonb,
    error            text         NOT NULL DEFAULT '',
    requested_by     varchar(150) NOT NULL DEFAULT '',
    started_at       timestamptz  NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX backup_drill_started_idx ON backup_drill (started_at);
CREATE INDEX backup_drill_affiliate_idx ON backup_drill (affiliate_id, started_at);
