-- Stage workers (`fracflow worker`, one stage's pool in one process on any host) and the batch jobs
-- that `fracflow launch` submitted for them.
CREATE TABLE IF NOT EXISTS engine_workers (
  id           TEXT PRIMARY KEY,          -- the worker's lease holder name, host:pid:tag
  host         TEXT NOT NULL,
  pid          INTEGER NOT NULL,
  stage        TEXT NOT NULL,
  threads      INTEGER NOT NULL,          -- its allotment: `scale` spreads a stage's count over its workers
  started_at   REAL NOT NULL,
  heartbeat_at REAL NOT NULL,
  rows_done    INTEGER NOT NULL DEFAULT 0,
  job          TEXT                        -- the batch job it runs in (e.g. slurm:1234_5), if any
);
CREATE INDEX IF NOT EXISTS engine_workers_stage ON engine_workers (stage, started_at);
CREATE TABLE IF NOT EXISTS engine_jobs (
  id           INTEGER PRIMARY KEY,
  scheduler    TEXT NOT NULL CHECK (scheduler IN ('slurm', 'pbs')),
  job_id       TEXT NOT NULL,
  stage        TEXT NOT NULL,
  tasks        INTEGER NOT NULL,
  script       TEXT NOT NULL,
  submitted_at REAL NOT NULL,
  state        TEXT,                       -- last state the scheduler reported (counted per task)
  checked_at   REAL,
  UNIQUE (scheduler, job_id)
);
