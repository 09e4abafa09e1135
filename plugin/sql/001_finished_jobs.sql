-- SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
-- jobwire journal, schema version 1.
-- The plugin runs the same statements (IF NOT EXISTS) when it connects, so
-- applying this file by hand is only needed where the plugin's database
-- role may not create tables: a DBA applies it once, then grants
--   GRANT SELECT, INSERT ON jobwire_finished_jobs, jobwire_events TO <role>;
--   GRANT USAGE ON SEQUENCE jobwire_events_id_seq TO <role>;
-- Later versions add files 002_..., never edit this one.

CREATE TABLE IF NOT EXISTS jobwire_schema_version (
    version     integer PRIMARY KEY,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per finished job. The first terminal event for a job wins:
-- inserts use ON CONFLICT (session_id, job_id) DO NOTHING.
CREATE TABLE IF NOT EXISTS jobwire_finished_jobs (
    session_id      text        NOT NULL,
    job_id          text        NOT NULL,
    status          text        NOT NULL CHECK (status IN ('complete', 'failed')),
    error           text,                   -- failed: the event's "error"
    code            text,                   -- failed: e.g. heartbeat_timeout
    retryable       boolean,                -- failed: the event's "retryable"
    result          jsonb,                  -- complete: the event's "result"
    final_event     jsonb       NOT NULL,   -- the terminal event as delivered (with ts)
    started_at      timestamptz,            -- first started event, if seen
    finished_at     timestamptz NOT NULL,   -- the terminal event's ts
    duration_s      double precision,       -- finished_at - started_at
    final_progress  double precision,       -- last progress known, 0..100
    client_id       text,                   -- publisher's client id; NULL when broker-generated
    username        text,                   -- publisher's username, if any
    broker_generated boolean    NOT NULL DEFAULT false, -- e.g. heartbeat_timeout
    node            text        NOT NULL,   -- broker node name (plugin_opt_node_name)
    journaled_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (session_id, job_id)
);

-- "Recent jobs of a session".
CREATE INDEX IF NOT EXISTS jobwire_finished_jobs_session_recent
    ON jobwire_finished_jobs (session_id, finished_at DESC);
-- "Failures since T".
CREATE INDEX IF NOT EXISTS jobwire_finished_jobs_failures
    ON jobwire_finished_jobs (finished_at)
    WHERE status = 'failed';

-- Other event types, when plugin_opt_journal_events asks for them
-- (default: none; terminal states always go to jobwire_finished_jobs).
CREATE TABLE IF NOT EXISTS jobwire_events (
    id           bigserial   PRIMARY KEY,
    session_id   text        NOT NULL,
    job_id       text        NOT NULL,
    type         text        NOT NULL,
    event        jsonb       NOT NULL,
    event_ts     timestamptz NOT NULL,   -- the event's ts
    seq          bigint      NOT NULL,   -- the job's per-job seq at this event
    client_id    text,
    username     text,
    node         text        NOT NULL,
    journaled_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (session_id, job_id, seq, node)
);
CREATE INDEX IF NOT EXISTS jobwire_events_session_recent
    ON jobwire_events (session_id, event_ts DESC);

INSERT INTO jobwire_schema_version (version) VALUES (1) ON CONFLICT DO NOTHING;
