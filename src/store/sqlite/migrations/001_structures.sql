-- The diffusion workflow's structures and the inputs that could not be imported.
CREATE TABLE structures (
  id              INTEGER PRIMARY KEY,
  source_id       TEXT NOT NULL UNIQUE,
  dataset         TEXT NOT NULL,
  formula         TEXT NOT NULL,
  reduced_formula TEXT NOT NULL,
  nsites          INTEGER NOT NULL,
  volume_ang3     REAL NOT NULL,
  density_g_cm3   REAL NOT NULL,
  e_above_hull    REAL,
  formation_energy_per_atom REAL,
  lattice         BLOB NOT NULL,
  species         TEXT NOT NULL,
  frac_coords     BLOB NOT NULL,
  oxidation_states BLOB,
  info_json       TEXT NOT NULL,
  content_hash    TEXT NOT NULL,
  code_version    TEXT NOT NULL,
  created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX structures_dataset ON structures (dataset);
CREATE TABLE import_errors (
  id         INTEGER PRIMARY KEY,
  dataset    TEXT NOT NULL,
  source_id  TEXT,
  message    TEXT NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
