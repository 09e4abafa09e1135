-- SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
-- jobwire journal, schema version 2: one row per attempt.
-- A failed job may be retried (docs/lifecycle.md, "Retry"); each attempt
-- that ends is a row of jobwire_finished_jobs, so the key gains the
-- attempt number. Migrates a database made by 001 in place: the column is
-- added with 1 for every row already there (nothing is lost or rewritten
-- but the key), then the primary key becomes (session_id, job_id, attempt).
-- Run after 001, by the plugin when it connects or once by hand by a DBA
-- (the plugin's role then needs no ALTER right: each step runs only when
-- it is still to be done). Safe to run again, and from two brokers at once
-- (the table lock makes the second wait and then find the work done).

DO $jobwire$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_index i
        JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
        WHERE i.indrelid = 'jobwire_finished_jobs'::regclass AND i.indisprimary
          AND a.attname = 'attempt'
    ) THEN
        LOCK TABLE jobwire_finished_jobs IN ACCESS EXCLUSIVE MODE;
        IF NOT EXISTS (
            SELECT 1 FROM pg_attribute
            WHERE attrelid = 'jobwire_finished_jobs'::regclass AND attname = 'attempt'
              AND NOT attisdropped
        ) THEN
            -- 1: which run of the job ended (2, 3, ... after retries).
            ALTER TABLE jobwire_finished_jobs
                ADD COLUMN attempt integer NOT NULL DEFAULT 1 CHECK (attempt >= 1);
        END IF;
        -- Checked again under the lock: another broker may have done it.
        IF NOT EXISTS (
            SELECT 1 FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
            WHERE i.indrelid = 'jobwire_finished_jobs'::regclass AND i.indisprimary
              AND a.attname = 'attempt'
        ) THEN
            ALTER TABLE jobwire_finished_jobs
                DROP CONSTRAINT IF EXISTS jobwire_finished_jobs_pkey,
                ADD CONSTRAINT jobwire_finished_jobs_pkey
                    PRIMARY KEY (session_id, job_id, attempt);
        END IF;
    END IF;
END
$jobwire$;

INSERT INTO jobwire_schema_version (version) VALUES (2) ON CONFLICT DO NOTHING;
