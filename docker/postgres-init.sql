-- Run once by the postgres image on an empty data directory (/docker-entrypoint-initdb.d).
-- The two roles the tenancy model needs, as scripts/services.py provision() makes them locally:
--   crm_owner  owns the schema and runs migrations;
--   crm_app    what the application connects as: NOSUPERUSER, NOBYPASSRLS, owns nothing, with a
--              statement_timeout so one tenant's runaway query cannot hold the database.
-- Passwords come from the container's environment (docker-compose.yml), read with psql's \getenv.
\set ON_ERROR_STOP on
\getenv owner_password CRM_OWNER_PASSWORD
\getenv app_password CRM_APP_PASSWORD

CREATE ROLE crm_owner LOGIN CREATEDB PASSWORD :'owner_password';
CREATE ROLE crm_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_password';
-- owner of the narrow, reviewed SECURITY DEFINER search functions (ARCHITECTURE.md "Speed under RLS")
CREATE ROLE crm_search NOLOGIN BYPASSRLS;
GRANT crm_search TO crm_owner;
ALTER ROLE crm_app SET statement_timeout = '30s';
ALTER ROLE crm_app SET idle_in_transaction_session_timeout = '60s';
CREATE DATABASE crm OWNER crm_owner;
