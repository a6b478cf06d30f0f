-- Local data seed for the management database: the local database server, the demo affiliate
-- "Ironworks CrossFit" (its application database is fitbuddy-dev locally) and demo logins.
-- Applied by Flyway only through FitBuddy's seed guard (local hosts, FITBUDDY_ENV local/test).
-- Idempotent: a repeatable script re-runs whenever it changes.
--
-- Demo login (password "fitbuddy"; never used outside local/test):
--   staff            FitBuddy staff, command center superuser
-- The gym's own logins (owner, coach, an athlete) are in its database: seeds/application.

INSERT INTO database_server (name, kind, host, port, admin_secret_ref, is_default)
VALUES ('local', 'local', 'localhost', 5432, 'env:DATABASE_URL', true)
ON CONFLICT (name) DO NOTHING;

-- Registered as requested: `manage.py start_local_database` then provisions it like any other
-- affiliate (its own role fitbuddy_ironworks, grants, Flyway version) on the existing fitbuddy-dev
-- (the placeholder local_application_database, which FitBuddy passes to Flyway).
INSERT INTO affiliate (slug, name, status, database_server_id, database_name, database_role, secret_ref, seed_requested,
                       contact_email)
SELECT 'ironworks', 'Ironworks CrossFit', 'requested', s.id, '${local_application_database}', 'fitbuddy_ironworks',
       'derived:hmac-sha256:v1', true, 'owner@ironworks.localhost'
  FROM database_server s WHERE s.name = 'local'
ON CONFLICT (slug) DO NOTHING;

INSERT INTO affiliate_domain (domain, affiliate_id, is_primary)
SELECT 'ironworks.localhost', a.id, true FROM affiliate a WHERE a.slug = 'ironworks'
ON CONFLICT (domain) DO NOTHING;

-- auth_user is Django's table (schema public, created by Django's migrate before this runs).
INSERT INTO public.auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
VALUES
  ('pbkdf2_sha256$1000000$fitbuddylocalseed$bjfbf5BdL9gi87bhlJRffmODJSBfjweN1iQzbaxlZso=', true,  'staff',           'Sam',   'Staffer', 'staff@fitbuddy.localhost', true,  true, now())
ON CONFLICT (username) DO NOTHING;
