-- The affiliate registry: which gyms FitBuddy serves, where each one's database lives, who may
-- work in it, and every provisioning step taken for it. Django's framework tables (auth,
-- sessions, admin) live beside these in schema public, created by Django's own migrate.

CREATE TABLE database_server (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT database_server_pkey PRIMARY KEY,
    name            varchar(100) NOT NULL CONSTRAINT database_server_name_key UNIQUE,
    kind            varchar(20)  NOT NULL DEFAULT 'local'
                    CONSTRAINT database_server_kind_check CHECK (kind IN ('local', 'aurora')),
    host            varchar(253) NOT NULL,
    port            integer      NOT NULL DEFAULT 5432
                    CONSTRAINT database_server_port_check CHECK (port BETWEEN 1 AND 65535),
    -- Where the administrative credentials live (an environment variable or a secrets-manager
    -- reference), never the password itself.
    admin_secret_ref varchar(255) NOT NULL DEFAULT '',
    is_default      boolean      NOT NULL DEFAULT false,
    is_accepting    boolean      NOT NULL DEFAULT true,
    created_at      timestamptz  NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX database_server_one_default_idx ON database_server (is_default) WHERE is_default;

CREATE TABLE affiliate (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_pkey PRIMARY KEY,
    -- django-tenants' TenantMixin calls this schema_name; for FitBuddy it is the affiliate's slug,
    -- the stem of its database and role names.
    slug            varchar(63)  NOT NULL CONSTRAINT affiliate_slug_key UNIQUE
                    CONSTRAINT affiliate_slug_check CHECK (slug ~ '^[a-z][a-z0-9_]*$'),
    name            varchar(200) NOT NULL CONSTRAINT affiliate_name_check CHECK (btrim(name) <> ''),
    status          varchar(20)  NOT NULL DEFAULT 'requested'
                    CONSTRAINT affiliate_status_check CHECK (status IN (
                        'requested', 'database_created', 'migrated', 'seeded', 'active',
                        'failed', 'suspended', 'archived')),
    status_detail   text         NOT NULL DEFAULT '',
    database_server_id bigint
                    CONSTRAINT affiliate_database_server_fkey REFERENCES database_server (id) ON DELETE RESTRICT,
    database_name   varchar(63)  CONSTRAINT affiliate_database_name_key UNIQUE,
    database_role   varchar(63)  CONSTRAINT affiliate_database_role_key UNIQUE,
    -- Reference to the role's credentials (secrets manager id or local key), never the password.
    secret_ref      varchar(255) NOT NULL DEFAULT '',
    schema_version  varchar(50)  NOT NULL DEFAULT '',
    seed_requested  boolean      NOT NULL DEFAULT false,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    activated_at    timestamptz
);
CREATE INDEX affiliate_status_idx ON affiliate (status);
CREATE INDEX affiliate_database_server_idx ON affiliate (database_server_id);

CREATE TABLE affiliate_domain (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_domain_pkey PRIMARY KEY,
    domain          varchar(253) NOT NULL CONSTRAINT affiliate_domain_domain_key UNIQUE
                    CONSTRAINT affiliate_domain_domain_check CHECK (domain = lower(domain)),
    affiliate_id    bigint       NOT NULL
                    CONSTRAINT affiliate_domain_affiliate_fkey REFERENCES affiliate (id) ON DELETE CASCADE,
    is_primary      boolean      NOT NULL DEFAULT true
);
CREATE INDEX affiliate_domain_affiliate_idx ON affiliate_domain (affiliate_id);
CREATE UNIQUE INDEX affiliate_domain_one_primary_idx ON affiliate_domain (affiliate_id) WHERE is_primary;

-- A login (Django's auth_user, in schema public) working in one affiliate with a role. user_id
-- carries no foreign key: auth_user belongs to Django's migrate, which runs after Flyway.
CREATE TABLE affiliate_membership (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT affiliate_membership_pkey PRIMARY KEY,
    affiliate_id    bigint       NOT NULL
                    CONSTRAINT affiliate_membership_affiliate_fkey REFERENCES affiliate (id) ON DELETE CASCADE,
    user_id         integer      NOT NULL,
    role            varchar(10)  NOT NULL
                    CONSTRAINT affiliate_membership_role_check CHECK (role IN ('owner', 'admin', 'coach')),
    created_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT affiliate_membership_affiliate_user_key UNIQUE (affiliate_id, user_id)
);
CREATE INDEX affiliate_membership_user_idx ON affiliate_membership (user_id);

CREATE TABLE provisioning_event (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT provisioning_event_pkey PRIMARY KEY,
    affiliate_id    bigint       NOT NULL
                    CONSTRAINT provisioning_event_affiliate_fkey REFERENCES affiliate (id) ON DELETE CASCADE,
    step            varchar(40)  NOT NULL,
    outcome         varchar(10)  NOT NULL
                    CONSTRAINT provisioning_event_outcome_check CHECK (outcome IN ('started', 'succeeded', 'skipped', 'failed')),
    duration_ms     integer      CONSTRAINT provisioning_event_duration_check CHECK (duration_ms >= 0),
    error           text         NOT NULL DEFAULT '',
    requested_by    varchar(150) NOT NULL DEFAULT '',
    created_at      timestamptz  NOT NULL DEFAULT now()
);
CREATE INDEX provisioning_event_affiliate_created_idx ON provisioning_event (affiliate_id, created_at);
