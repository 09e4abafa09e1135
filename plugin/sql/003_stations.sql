-- SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
-- jobwire journal, schema version 3: stations going online and offline.
-- One row per transition of a station's presence (docs/topics.md,
-- "Stations"): when it came online, when it went offline and whether the
-- broker said so (broker_generated: no status within
-- plugin_opt_station_timeout). Answers "when was scope-3 down this week".
-- Run after 002, by the plugin when it connects or once by hand by a DBA;
-- safe to run again. Grant the plugin's role:
--   GRANT SELECT, INSERT ON jobwire_station_transitions TO <role>;
--   GRANT USAGE ON SEQUENCE jobwire_station_transitions_id_seq TO <role>;

CREATE TABLE IF NOT EXISTS jobwire_station_transitions (
    id               bigserial   PRIMARY KEY,
    station          text        NOT NULL,
    state            text        NOT NULL CHECK (state IN ('online', 'offline')),
    status           jsonb       NOT NULL,   -- the status that made the change
    at               timestamptz NOT NULL,   -- when the broker saw the change
    broker_generated boolean     NOT NULL DEFAULT false,
    client_id        text,
    node             text        NOT NULL,
    journaled_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (station, at, state, node)
);
CREATE INDEX IF NOT EXISTS jobwire_station_transitions_recent
    ON jobwire_station_transitions (station, at DESC);

INSERT INTO jobwire_schema_version (version) VALUES (3) ON CONFLICT DO NOTHING;
