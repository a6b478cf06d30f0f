-- PgBouncer's auth_query, installed by a superuser (tools/pgbouncer.sh) in template1 and in every
-- database: PgBouncer 1.18 looks a login up in the database the client asks for, as the dedicated
-- lookup role :auth_user, through this SECURITY DEFINER function. It answers only for the affiliate
-- role (fitbuddy_…) allowed to connect to the database it is asked in (each gym's database grants
-- CONNECT to its own role alone), never for a superuser, a login that may create databases or
-- roles, or the lookup role itself, and only the lookup role may call it. So from gym A's database
-- the lookup login reads gym A's verifier and no other. No file lists any gym's password.
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
      JOIN pg_catalog.pg_roles r ON r.rolname = usename
     WHERE usename = p_usename
       AND usename LIKE 'fitbuddy\_%'
       AND NOT usesuper AND NOT usecreatedb AND NOT r.rolcreaterole
       AND has_database_privilege(usename, current_database(), 'CONNECT')
$$;
REVOKE ALL ON FUNCTION pgbouncer.get_auth(text) FROM PUBLIC;
SELECT format('GRANT EXECUTE ON FUNCTION pgbouncer.get_auth(text) TO %I', :'auth_user') \gexec
