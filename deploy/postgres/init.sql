-- Extensions fieldops needs, created when the compose database is first initialised (the postgis image
-- runs /docker-entrypoint-initdb.d/* once, on an empty data directory, in the POSTGRES_DB database).
-- fieldops' migrations create them too if missing; failing here is clearer. pg_trgm is a trusted
-- extension, PostGIS is not: it needs a superuser, which POSTGRES_USER is in the compose file.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
