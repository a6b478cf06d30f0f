-- The staff audit trail as a hash chain (issue 19, part 2).
--
-- Every staff_audit row carries chain_seq (its place in the chain: 1, 2, 3, … without gaps),
-- prev_hash (the row_hash of the row before it; 64 zeros for the first) and row_hash, a SHA-256
-- over the row's content and prev_hash. They are computed here, in the database, by a BEFORE INSERT
-- trigger that holds the one row of staff_audit_chain_head locked until its transaction ends, so two
-- inserts at once can never fork the chain: the second waits for the first to commit or roll back.
-- Whatever a client sends for created_at, chain_seq, prev_hash or row_hash is replaced.
--
-- `manage.py audit_verify` recomputes every hash in Python (affiliates/audit/chain.py) and compares
-- the last row with the head. The canonical serialisation both sides hash (docs/security-audit.md):
--
--   'fitbuddy.staff_audit.v1' followed by, for each field in this order, its UTF-8 byte length in
--   decimal, ':', the UTF-8 text, ','; a NULL is the single character '-' followed by ','.
--   Fields: chain_seq, id, created_at (UTC, 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"', always 6 fraction
--   digits), actor, channel, action, target, outcome, detail, changes (jsonb as PostgreSQL prints
--   it), prev_hash. row_hash is the lower-case hex of SHA-256 over those bytes.
--
-- The trigger function is SECURITY DEFINER (with a fixed search_path), owned by the login that runs
-- Flyway: the application's login needs only INSERT and SELECT on staff_audit (and SELECT on the head,
-- for audit_verify), never a grant on the head.

-- Before and after of a command-center change (changed fields only; secrets redacted), or NULL.
ALTER TABLE staff_audit
    ADD COLUMN changes   jsonb,
    ADD COLUMN chain_seq bigint,
    ADD COLUMN prev_hash varchar(64),
    ADD COLUMN row_hash  varchar(64);

-- The chain's head: the last row's place and hash. Exactly one row (id is true).
CREATE TABLE staff_audit_chain_head (
    id              boolean      NOT NULL DEFAULT true CONSTRAINT staff_audit_chain_head_pkey PRIMARY KEY
                    CONSTRAINT staff_audit_chain_head_one_row CHECK (id),
    chain_seq       bigint       NOT NULL CONSTRAINT staff_audit_chain_head_seq_check CHECK (chain_seq >= 0),
    row_hash        varchar(64)  NOT NULL CONSTRAINT staff_audit_chain_head_hash_check CHECK (row_hash ~ '^[0-9a-f]{64}$'),
    updated_at      timestamptz  NOT NULL DEFAULT now()
);

-- One field of the canonical serialisation: length-prefixed, so no value can pass for two.
CREATE FUNCTION staff_audit_chain_field(value text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN value IS NULL THEN '-'
                ELSE octet_length(convert_to(value, 'UTF8'))::text || ':' || value END || ','
$$;

-- A row's hash, from its content and the hash before it (the same bytes Python hashes).
CREATE FUNCTION staff_audit_chain_hash(
    chain_seq bigint, id bigint, created_at timestamptz, actor text, channel text, action text,
    target text, outcome text, detail text, changes jsonb, prev_hash text
) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = ${flyway:defaultSchema}, pg_catalog, pg_temp
AS $$
    SELECT encode(sha256(convert_to(
        'fitbuddy.staff_audit.v1'
        || staff_audit_chain_field(chain_seq::text)
        || staff_audit_chain_field(id::text)
        || staff_audit_chain_field(to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || staff_audit_chain_field(actor)
        || staff_audit_chain_field(channel)
        || staff_audit_chain_field(action)
        || staff_audit_chain_field(target)
        || staff_audit_chain_field(outcome)
        || staff_audit_chain_field(detail)
        || staff_audit_chain_field(changes::text)
        || staff_audit_chain_field(prev_hash),
        'UTF8')), 'hex')
$$;

-- The existing rows join the chain in the order they were written (id).
INSERT INTO staff_audit_chain_head (id, chain_seq, row_hash) VALUES (true, 0, repeat('0', 64));

ALTER TABLE staff_audit DISABLE TRIGGER staff_audit_no_update_or_delete;
DO $$
DECLARE
    r        record;
    seq      bigint := 0;
    previous text := repeat('0', 64);
    this_hash text;
BEGIN
    FOR r IN SELECT * FROM staff_audit ORDER BY id LOOP
        seq := seq + 1;
        this_hash := staff_audit_chain_hash(seq, r.id, r.created_at, r.actor, r.channel, r.action, r.target,
                                          r.outcome, r.detail, r.changes, previous);
        UPDATE staff_audit SET chain_seq = seq, prev_hash = previous, row_hash = this_hash WHERE id = r.id;
        previous := this_hash;
    END LOOP;
    UPDATE staff_audit_chain_head SET chain_seq = seq, row_hash = previous, updated_at = now();
END;
$$;
ALTER TABLE staff_audit ENABLE TRIGGER staff_audit_no_update_or_delete;

ALTER TABLE staff_audit
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN prev_hash SET NOT NULL,
    ALTER COLUMN row_hash SET NOT NULL,
    ADD CONSTRAINT staff_audit_chain_seq_key UNIQUE (chain_seq),
    ADD CONSTRAINT staff_audit_chain_seq_check CHECK (chain_seq > 0),
    ADD CONSTRAINT staff_audit_prev_hash_check CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
    ADD CONSTRAINT staff_audit_row_hash_check CHECK (row_hash ~ '^[0-9a-f]{64}$');

-- Each new row: its time (taken once the head is held, so times follow the chain), its place, and
-- its hash; then the head moves. The head's row lock is held until the transaction ends.
CREATE FUNCTION staff_audit_chain_append() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = ${flyway:defaultSchema}, pg_catalog, pg_temp
AS $$
DECLARE
    head staff_audit_chain_head%ROWTYPE;
BEGIN
    SELECT * INTO head FROM staff_audit_chain_head WHERE id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'staff_audit_chain_head has no row: the audit chain cannot continue'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    NEW.created_at := clock_timestamp();
    NEW.chain_seq := head.chain_seq + 1;
    NEW.prev_hash := head.row_hash;
    NEW.row_hash := staff_audit_chain_hash(NEW.chain_seq, NEW.id, NEW.created_at, NEW.actor, NEW.channel,
                                           NEW.action, NEW.target, NEW.outcome, NEW.detail, NEW.changes,
                                           NEW.prev_hash);
    UPDATE staff_audit_chain_head
       SET chain_seq = NEW.chain_seq, row_hash = NEW.row_hash, updated_at = NEW.created_at
     WHERE id;
    RETURN NEW;
END;
$$;
REVOKE ALL ON FUNCTION staff_audit_chain_append() FROM PUBLIC;

CREATE TRIGGER staff_audit_chain
    BEFORE INSERT ON staff_audit
    FOR EACH ROW EXECUTE FUNCTION staff_audit_chain_append();

-- The head is changed only by the trigger: an UPDATE outside it, a DELETE or a TRUNCATE is refused.
CREATE FUNCTION staff_audit_chain_head_guard() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND pg_trigger_depth() > 1 THEN
        RETURN NEW;  -- the chain trigger moving the head
    END IF;
    RAISE EXCEPTION 'staff_audit_chain_head moves only with a new staff_audit row: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER staff_audit_chain_head_guard
    BEFORE UPDATE OR DELETE ON staff_audit_chain_head
    FOR EACH ROW EXECUTE FUNCTION staff_audit_chain_head_guard();
CREATE TRIGGER staff_audit_chain_head_no_truncate
    BEFORE TRUNCATE ON staff_audit_chain_head
    FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_chain_head_guard();

COMMENT ON TABLE staff_audit_chain_head IS
    'The last staff_audit row''s chain_seq and row_hash; moved only by the staff_audit_chain trigger';
