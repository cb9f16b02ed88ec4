-- The engine's registry of stages, their admission cutoffs, the event log and the attempt history.
CREATE TABLE engine_stages (
  name        TEXT PRIMARY KEY,
  work        TEXT NOT NULL,
  module      TEXT NOT NULL,
  spec_json   TEXT NOT NULL,
  workers     INTEGER NOT NULL,
  batch_size  INTEGER NOT NULL,
  priority    TEXT NOT NULL,
  created_at  REAL NOT NULL,
  updated_at  REAL NOT NULL
);
CREATE TABLE engine_cutoffs (
  stage TEXT NOT NULL,
  name  TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (stage, name)
);
CREATE TABLE engine_events (
  id     INTEGER PRIMARY KEY,
  at     REAL NOT NULL,
  stage  TEXT,
  kind   TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TABLE engine_attempts (
  id          INTEGER PRIMARY KEY,
  stage       TEXT NOT NULL,
  row_id      INTEGER NOT NULL,
  key         TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  claimed_by  TEXT,
  started_at  REAL,
  finished_at REAL NOT NULL,
  outcome     TEXT NOT NULL CHECK (outcome IN ('done', 'error', 'expired', 'released')),
  error       TEXT
);
CREATE INDEX engine_attempts_stage_row ON engine_attempts (stage, row_id);
