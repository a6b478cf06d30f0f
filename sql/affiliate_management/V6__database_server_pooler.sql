-- The connection pooler in front of a database server for affiliate connections (PgBouncer here,
-- RDS Proxy on AWS), as HOST:PORT; empty when the application connects to the server directly.
ALTER TABLE database_server
    ADD COLUMN pooler text NOT NULL DEFAULT ''
        CONSTRAINT database_server_pooler_check CHECK (pooler = '' OR pooler ~ '^[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}$');
