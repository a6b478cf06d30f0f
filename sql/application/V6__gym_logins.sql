-- The gym's own logins: owners, admins, coaches and athletes, in the gym's own database, so a gym's
-- people are part of its data (archived, restored and moved with it). Command-center staff are not
-- here: they are Django users in the management database.
--
-- email is the login name: stored lower-case, unique in the gym (a person who trains at two gyms
-- has a login in each). password holds a Django hasher's string ('' or '!…' when none is usable).
-- An athlete's login is a member of the gym: member_id says which.

CREATE TABLE gym_login (
    id              bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT gym_login_pkey PRIMARY KEY,
    email           varchar(254) NOT NULL
                    CONSTRAINT gym_login_email_check CHECK (email = lower(btrim(email)) AND email LIKE '%_@_%'),
    password        varchar(128) NOT NULL DEFAULT '',
    name            varchar(150) NOT NULL DEFAULT '',
    role            varchar(10)  NOT NULL
                    CONSTRAINT gym_login_role_check CHECK (role IN ('owner', 'admin', 'coach', 'athlete')),
    is_active       boolean      NOT NULL DEFAULT true,
    last_login      timestamptz,
    member_id       bigint
                    CONSTRAINT gym_login_member_fkey REFERENCES member (id) ON DELETE SET NULL,
    invited_at      timestamptz,
    created_at      timestamptz  NOT NULL DEFAULT now(),
    updated_at      timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT gym_login_email_key UNIQUE (email),
    CONSTRAINT gym_login_member_key UNIQUE (member_id)
);

-- Who entered a result first (recorded_by keeps who last changed it): a coach, or the athlete.
ALTER TABLE participation ADD COLUMN entered_by varchar(254) NOT NULL DEFAULT '';
UPDATE participation SET entered_by = recorded_by WHERE entered_by = '';

-- When athletes see a workout: NULL means as soon as it exists (what every workout did until now).
ALTER TABLE workout ADD COLUMN published_at timestamptz;
