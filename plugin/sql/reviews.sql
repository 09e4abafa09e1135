-- SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
-- jobwire journal: reviews. Its own file and table, created (IF NOT EXISTS)
-- by the plugin when it connects, after 001_finished_jobs.sql. Where the
-- plugin's role may not create tables, a DBA applies it once, then grants
--   GRANT SELECT, INSERT ON jobwire_reviews TO <role>;
--   GRANT USAGE ON SEQUENCE jobwire_reviews_id_seq TO <role>;

-- One row per answered review: the validation-required event's question
-- and the accepted control {"action":"review"} that answered it.
CREATE TABLE IF NOT EXISTS jobwire_reviews (
    id           bigserial        PRIMARY KEY,
    session_id   text             NOT NULL,
    job_id       text             NOT NULL,
    reason       text             NOT NULL,  -- validation-required: "reason"
    confidence   double precision NOT NULL,  -- validation-required: "confidence"
    threshold    double precision,           -- validation-required: "threshold"
    item         jsonb,                      -- validation-required: "item"
    choice       text             NOT NULL,  -- the review's "choice"
    comment      text,                       -- the review's "comment"
    answered_by  text,                       -- token subject with JWT on, else the client id
    asked_at     timestamptz      NOT NULL,  -- validation-required's ts
    answered_at  timestamptz      NOT NULL,  -- when the broker accepted the answer
    client_id    text,                       -- the answering client's id
    username     text,                       -- its username, if any
    node         text             NOT NULL,  -- broker node name (plugin_opt_node_name)
    control      jsonb            NOT NULL,  -- the review control as published
    attempt      integer          NOT NULL DEFAULT 1 CHECK (attempt >= 1),  -- of the job (retries)
    journaled_at timestamptz      NOT NULL DEFAULT now(),
    UNIQUE (session_id, job_id, answered_at, node)
);
CREATE INDEX IF NOT EXISTS jobwire_reviews_session_recent
    ON jobwire_reviews (session_id, answered_at DESC);
