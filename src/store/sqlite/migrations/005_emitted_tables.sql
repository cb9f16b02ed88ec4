-- The tables fan-out stages emit rows into (one structure -> its pathways): name, the emitting stage
-- and the declared columns.
CREATE TABLE IF NOT EXISTS engine_emits (
  name      TEXT PRIMARY KEY,
  stage     TEXT NOT NULL,
  spec_json TEXT NOT NULL
);
