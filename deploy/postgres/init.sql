-- Extensions fieldops needs; its migrations create them too, but failing here is clearer.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
