-- PgBouncer's auth_query, installed by a superuser (tools/pgbouncer.sh) in template1 and in every
-- database: PgBouncer 1.18 looks a login up in the database the client asks for, as the dedicated
-- lookup role :auth_user, through this SECURITY DEFINER function. It answers only for affiliate
-- roles (fitbuddy_…), never for a superuser, the administrator or the lookup role itself, and only
-- the lookup role may call it. No file lists any gym's password.
SET client_min_messages = warning;
SELECT format('CREATE SCHEMA IF NOT EXISTS pgbouncer') \gexec
REVOKE ALL ON SCHEMA pgbouncer FROM PUBLIC;
SELECT format('GRANT USAGE ON SCHEMA pgbouncer TO %I', :'auth_user') \gexec
CREATE OR REPLACE FUNCTION pgbouncer.get_auth(p_usename text, OUT username text, OUT password text)
    RETURNS SETOF record
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog
AS $$
    SELECT usename::text, passwd::text
      FROM pg_catalog.pg_shadow
     WHERE usename = p_usename
       AND usename LIKE 'fitbuddy\_%'
       AND NOT usesuper
$$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
SELECT format('GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO %I', :'auth_user') \gexec
