-- Each gym's load, read from its database server's statistics (pg_stat_database, pg_database_size)
-- by the load collector: a beat task every LOAD_COLLECT_EVERY_SECONDS, and manage.py collect_load.
-- Placement weighs servers by it; the command center's "Gym load" page lists the heaviest, the
-- busiest and the fastest-growing gyms from it.

-- The latest reading of each gym. The cumulative counters are kept as last read, so the next
-- reading turns their difference into a rate; a counter that went down (a server restart that lost
-- the statistics, pg_stat_reset) is a reset, never a negative rate.
CREATE TABLE affiliate_load (
    affiliate_id         bigint           CONSTRAINT affiliate_load_pkey PRIMARY KEY
                                          CONSTRAINT affiliate_load_affiliate_fk REFERENCES affiliate (id) ON DELETE CASCADE,
    -- NULL: the server's administrator may not read the database's size.
    size_bytes           bigint,
    connections          integer          NOT NULL DEFAULT 0 CONSTRAINT affiliate_load_connections_check CHECK (connections >= 0),
    -- pg_stat_database's counters as last read: commits + rollbacks; rows inserted + updated + deleted.
    xact_total           bigint           NOT NULL DEFAULT 0,
    rows_changed_total   bigint           NOT NULL DEFAULT 0,
    -- When the server last reset the database's statistics (pg_stat_database.stats_reset).
    stats_reset          timestamptz,
    -- From the previous reading; NULL until there are two readings.
    xacts_per_day        double precision CONSTRAINT affiliate_load_xacts_per_day_check CHECK (xacts_per_day >= 0),
    rows_changed_per_day double precision CONSTRAINT affiliate_load_rows_changed_per_day_check CHECK (rows_changed_per_day >= 0),
    -- Size now less the size on the oldest day of the last 7 with a reading; NULL without one.
    growth_7d_bytes      bigint,
    -- The first reading that saw the counters move since the one before (NULL: not seen moving yet).
    last_activity        timestamptz,
    read_at              timestamptz      NOT NULL DEFAULT now()
);
-- The command center's top lists: the heaviest, the busiest, the fastest-growing.
CREATE INDEX affiliate_load_size_idx ON affiliate_load (size_bytes DESC NULLS LAST);
CREATE INDEX affiliate_load_xacts_idx ON affiliate_load (xacts_per_day DESC NULLS LAST);
CREATE INDEX affiliate_load_growth_idx ON affiliate_load (growth_7d_bytes DESC NULLS LAST);

-- A gym's load per day (UTC): its size at the day's last reading, and the transactions and rows
-- changed counted in the day's readings. Kept LOAD_HISTORY_DAYS days.
CREATE TABLE affiliate_load_day (
    id           bigint  GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_load_day_pkey PRIMARY KEY,
    affiliate_id bigint  NOT NULL CONSTRAINT affiliate_load_day_affiliate_fk REFERENCES affiliate (id) ON DELETE CASCADE,
    day          date    NOT NULL,
    size_bytes   bigint,
    xacts        bigint  NOT NULL DEFAULT 0 CONSTRAINT affiliate_load_day_xacts_check CHECK (xacts >= 0),
    rows_changed bigint  NOT NULL DEFAULT 0 CONSTRAINT affiliate_load_day_rows_changed_check CHECK (rows_changed >= 0),
    CONSTRAINT affiliate_load_day_affiliate_day_key UNIQUE (affiliate_id, day)
);
-- Pruning by age.
CREATE INDEX affiliate_load_day_day_idx ON affiliate_load_day (day);
