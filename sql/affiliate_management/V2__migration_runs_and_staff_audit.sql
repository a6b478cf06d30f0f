-- Fleet migrations and the staff audit trail.
--
-- A migration run brings many application databases to one Flyway version (kind 'migrate') or
-- checks them for drift (kind 'check'); it has one row per affiliate, worked through in waves
-- (wave 0 is the canary group when there is one). A run that stops (canary failed, on-error stop,
-- a killed worker) is resumed from its rows: succeeded ones are never redone.

CREATE TABLE migration_run (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT migration_run_pkey PRIMARY KEY,
    kind            varchar(10)  NOT NULL
                    CONSTRAINT migration_run_kind_check CHECK (kind IN ('migrate', 'check')),
    status          varchar(10)  NOT NULL DEFAULT 'pending'
                    CONSTRAINT migration_run_status_check CHECK (status IN (
                        'pending', 'running', 'succeeded', 'failed', 'stopped')),
    status_detail   text         NOT NULL DEFAULT '',
    target_version  varchar(50)  NOT NULL,
    started_by      varchar(150) NOT NULL,
    canary          integer      NOT NULL DEFAULT 0 CONSTRAINT migration_run_canary_check CHECK (canary >= 0),
    wave_size       integer      CONSTRAINT migration_run_wave_size_check CHECK (wave_size > 0),
    parallel        integer      NOT NULL DEFAULT 4 CONSTRAINT migration_run_parallel_check CHECK (parallel > 0),
    on_error        varchar(10)  NOT NULL DEFAULT 'stop'
                    CONSTRAINT migration_run_on_error_check CHECK (on_error IN ('stop', 'continue')),
    created_at      timestamptz  NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX migration_run_created_idx ON migration_run (created_at DESC);

CREATE TABLE migration_run_affiliate (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT migration_run_affiliate_pkey PRIMARY KEY,
    run_id          bigint       NOT NULL
                    CONSTRAINT migration_run_affiliate_run_fkey REFERENCES migration_run (id) ON DELETE CASCADE,
    affiliate_id    bigint       NOT NULL
                    CONSTRAINT migration_run_affiliate_affiliate_fkey REFERENCES affiliate (id) ON DELETE CASCADE,
    wave            integer      NOT NULL DEFAULT 1 CONSTRAINT migration_run_affiliate_wave_check CHECK (wave >= 0),
    -- pending → running → succeeded | failed; skipped: no database any more (archived);
    -- busy: another operation held the affiliate for the whole wait.
    outcome         varchar(10)  NOT NULL DEFAULT 'pending'
                    CONSTRAINT migration_run_affiliate_outcome_check CHECK (outcome IN (
                        'pending', 'running', 'succeeded', 'failed', 'skipped', 'busy')),
    -- check runs: current, behind, ahead, failed, checksum_mismatch, drift, unreachable, error.
    state           varchar(20)  NOT NULL DEFAULT '',
    from_version    varchar(50)  NOT NULL DEFAULT '',
    to_version      varchar(50)  NOT NULL DEFAULT '',
    migrations_executed integer  NOT NULL DEFAULT 0,
    duration_ms     integer      CONSTRAINT migration_run_affiliate_duration_check CHECK (duration_ms >= 0),
    error_code      varchar(100) NOT NULL DEFAULT '',
    error_message   text         NOT NULL DEFAULT '',
    finished_at     timestamptz,
    CONSTRAINT migration_run_affiliate_run_affiliate_key UNIQUE (run_id, affiliate_id)
);
CREATE INDEX migration_run_affiliate_run_wave_idx ON migration_run_affiliate (run_id, wave, outcome);
-- "The last migration of each affiliate" (the command center's filter) reads this index.
CREATE INDEX migration_run_affiliate_affiliate_idx ON migration_run_affiliate (affiliate_id, id DESC);

-- Every staff operation, from the admin or a command: who, when, what, on what, and how it ended.
-- Append-only: rows are inserted, never changed or removed (the trigger refuses both).
CREATE TABLE staff_audit (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT staff_audit_pkey PRIMARY KEY,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    actor           varchar(150) NOT NULL,
    channel         varchar(10)  NOT NULL
                    CONSTRAINT staff_audit_channel_check CHECK (channel IN ('admin', 'command', 'task')),
    action          varchar(40)  NOT NULL,
    target          varchar(200) NOT NULL DEFAULT '',
    outcome         varchar(10)  NOT NULL
                    CONSTRAINT staff_audit_outcome_check CHECK (outcome IN ('started', 'succeeded', 'failed', 'refused')),
    detail          text         NOT NULL DEFAULT ''
);
CREATE INDEX staff_audit_created_idx ON staff_audit (created_at DESC);

CREATE FUNCTION staff_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'staff_audit is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER staff_audit_no_update_or_delete
    BEFORE UPDATE OR DELETE ON staff_audit
    FOR EACH ROW EXECUTE FUNCTION staff_audit_append_only();
CREATE TRIGGER staff_audit_no_truncate
    BEFORE TRUNCATE ON staff_audit
    FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_append_only();
