"""The SQL scripts that build and upgrade zaspot's database, oldest first.

`MIGRATIONS[i]` takes a database from version i to i+1 (store/schema.py runs them and
records the count in `PRAGMA user_version`). Append new scripts, never edit one that
has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: initial schema
    """
    CREATE TABLE IF NOT EXISTS stations (
        id            TEXT PRIMARY KEY NOT NULL,
        ocpp_version  TEXT,
        vendor        TEXT,
        model         TEXT,
        serial        TEXT,
        firmware      TEXT,
        registration  TEXT,
        connected     INTEGER NOT NULL DEFAULT 0,
        remote        TEXT,
        last_seen     REAL,
        last_boot     REAL,
        first_seen    REAL
    );

    CREATE TABLE IF NOT EXISTS connectors (
        station_id        TEXT NOT NULL,
        evse_id           INTEGER NOT NULL,
        connector_id      INTEGER NOT NULL,
        status            TEXT,
        error_code        TEXT,
        vendor_error_code TEXT,
        info              TEXT,
        updated_at        REAL,
        PRIMARY KEY (station_id, evse_id, connector_id)
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS transactions (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id     TEXT NOT NULL,
        tx_key         TEXT,
        evse_id        INTEGER,
        connector_id   INTEGER,
        id_token       TEXT,
        reservation_id INTEGER,
        meter_start_wh REAL,
        meter_stop_wh  REAL,
        started_at     REAL,
        stopped_at     REAL,
        stop_reason    TEXT,
        state          TEXT NOT NULL DEFAULT 'active',
        last_seq_no    INTEGER,
        updated_at     REAL,
        UNIQUE (station_id, tx_key)
    );
    CREATE INDEX IF NOT EXISTS transactions_station
        ON transactions (station_id, id);
    CREATE INDEX IF NOT EXISTS transactions_start
        ON transactions (station_id, connector_id, started_at);

    CREATE TABLE IF NOT EXISTS transaction_events (
        id             INTEGER PRIMARY KEY,
        station_id     TEXT NOT NULL,
        tx_key         TEXT NOT NULL,
        seq_no         INTEGER,
        event_type     TEXT NOT NULL,
        ts             REAL,
        trigger_reason TEXT,
        charging_state TEXT,
        meter_wh       REAL,
        UNIQUE (station_id, tx_key, seq_no)
    );

    CREATE TABLE IF NOT EXISTS meter_samples (
        station_id   TEXT NOT NULL,
        evse_id      INTEGER,
        connector_id INTEGER,
        tx_key       TEXT,
        ts           REAL NOT NULL,
        measurand    TEXT,
        phase        TEXT,
        location     TEXT,
        context      TEXT,
        unit         TEXT,
        value        REAL
    );
    CREATE INDEX IF NOT EXISTS meter_samples_station_ts
        ON meter_samples (station_id, ts);

    CREATE TABLE IF NOT EXISTS events (
        id         INTEGER PRIMARY KEY,
        ts         REAL NOT NULL,
        station_id TEXT,
        type       TEXT NOT NULL,
        data       TEXT
    );
    CREATE INDEX IF NOT EXISTS events_station ON events (station_id, id);
    CREATE INDEX IF NOT EXISTS events_type ON events (type, id);

    CREATE TABLE IF NOT EXISTS commands (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id TEXT,
        command    TEXT NOT NULL,
        action     TEXT,
        payload    TEXT,
        source     TEXT,
        sent_at    REAL,
        done_at    REAL,
        ok         INTEGER,
        status     TEXT,
        result     TEXT,
        error      TEXT
    );
    CREATE INDEX IF NOT EXISTS commands_station ON commands (station_id, id);

    CREATE TABLE IF NOT EXISTS id_tokens (
        id_token TEXT PRIMARY KEY NOT NULL,
        status   TEXT NOT NULL DEFAULT 'Accepted',
        expiry   REAL
    );
    """,
    # operator API tokens, station passwords, raw OCPP frame log
    """
    CREATE TABLE IF NOT EXISTS api_tokens (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        name       TEXT NOT NULL,
        hash       TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE TABLE IF NOT EXISTS station_credentials (
        station_id    TEXT PRIMARY KEY NOT NULL,
        password_hash TEXT,
        updated_at    REAL
    );
    CREATE TABLE IF NOT EXISTS frames (
        id         INTEGER PRIMARY KEY,
        station_id TEXT NOT NULL,
        ts         REAL NOT NULL,
        direction  TEXT NOT NULL,
        data       TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS frames_station ON frames (station_id, id);
    """,
    # diagnostics: alarms, temperature history of both versions, power modules
    """
    CREATE TABLE IF NOT EXISTS alarms (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id   TEXT NOT NULL,
        evse_id      INTEGER NOT NULL DEFAULT 0,
        connector_id INTEGER NOT NULL DEFAULT 0,
        component    TEXT NOT NULL,
        instance     TEXT,
        code         TEXT NOT NULL,
        severity     TEXT NOT NULL,
        message      TEXT,
        raised_at    REAL NOT NULL,
        cleared_at   REAL,
        details      TEXT
    );
    CREATE INDEX IF NOT EXISTS alarms_station ON alarms (station_id, id);
    CREATE INDEX IF NOT EXISTS alarms_open ON alarms (id) WHERE cleared_at IS NULL;

    CREATE TABLE IF NOT EXISTS temperatures (
        station_id   TEXT NOT NULL,
        ts           REAL NOT NULL,
        location     TEXT NOT NULL,
        celsius      REAL NOT NULL,
        evse_id      INTEGER NOT NULL DEFAULT 0,
        connector_id INTEGER NOT NULL DEFAULT 0,
        instance     TEXT,
        source       TEXT
    );
    CREATE INDEX IF NOT EXISTS temperatures_station_ts ON temperatures (station_id, ts);

    CREATE TABLE IF NOT EXISTS power_modules (
        station_id TEXT NOT NULL,
        instance   TEXT NOT NULL,
        enabled    INTEGER,
        problem    INTEGER,
        tripped    INTEGER,
        celsius    REAL,
        updated_at REAL,
        PRIMARY KEY (station_id, instance)
    ) WITHOUT ROWID;
    """,
    # rules: one row per run of a rule (the whole trace as JSON)
    """
    CREATE TABLE IF NOT EXISTS rule_traces (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL,
        rule_id    TEXT NOT NULL,
        station_id TEXT,
        started    REAL NOT NULL,
        finished   REAL,
        outcome    TEXT NOT NULL,
        errors     INTEGER NOT NULL DEFAULT 0,
        trace      TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rule_traces_rule ON rule_traces (rule_id, id);
    CREATE INDEX IF NOT EXISTS rule_traces_station ON rule_traces (station_id, id);
    """,
    # frame log: no index, so inserts stay cheap on the hot path (a station's latest
    # frames are found by scanning back from the newest rowid); frames may be BLOBs
    """
    DROP INDEX IF EXISTS frames_station;
    """,
    # energy management: each EVSE's limit now, every limit sent with the answer,
    # the latest site state, the prices the planner used
    """
    CREATE TABLE IF NOT EXISTS ems_limits (
        station_id TEXT NOT NULL,
        evse_id    INTEGER NOT NULL,
        amps       REAL NOT NULL,
        watts      REAL NOT NULL,
        reason     TEXT,
        ok         INTEGER NOT NULL,
        error      TEXT,
        updated_at REAL NOT NULL,
        PRIMARY KEY (station_id, evse_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS ems_limit_log (
        id         INTEGER PRIMARY KEY,
        ts         REAL NOT NULL,
        station_id TEXT NOT NULL,
        evse_id    INTEGER NOT NULL,
        amps       REAL NOT NULL,
        previous   REAL,
        reason     TEXT,
        ok         INTEGER NOT NULL,
        error      TEXT
    );
    CREATE INDEX IF NOT EXISTS ems_limit_log_station ON ems_limit_log (station_id, id);
    CREATE TABLE IF NOT EXISTS ems_state (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        ts       REAL NOT NULL,
        strategy TEXT NOT NULL,
        data     TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS ems_prices (
        start REAL PRIMARY KEY,
        end   REAL NOT NULL,
        price REAL NOT NULL,
        unit  TEXT NOT NULL
    );
    """,
    # frame log in chunks: one row per station per flush (not per frame) keeps its
    # cost off the hot path; a chunk packs frames as (ts, direction, length, bytes)
    """
    DROP TABLE IF EXISTS frames;
    CREATE TABLE IF NOT EXISTS frame_chunks (
        id         INTEGER PRIMARY KEY,
        station_id TEXT NOT NULL,
        ts         REAL NOT NULL,
        frames     INTEGER NOT NULL,
        data       BLOB NOT NULL
    );
    CREATE INDEX IF NOT EXISTS frame_chunks_station ON frame_chunks (station_id, id);
    """,
    # retention: raw meter samples older than retention.raw_days fold into these buckets
    """
    CREATE TABLE IF NOT EXISTS meter_aggregates (
        station_id   TEXT NOT NULL,
        evse_id      INTEGER NOT NULL,
        connector_id INTEGER NOT NULL,
        measurand    TEXT NOT NULL,
        phase        TEXT NOT NULL,
        unit         TEXT NOT NULL,
        bucket       REAL NOT NULL,
        n            INTEGER NOT NULL,
        min          REAL,
        max          REAL,
        mean         REAL,
        PRIMARY KEY (station_id, evse_id, connector_id, measurand, phase, unit, bucket)
    ) WITHOUT ROWID;
    """,
    # alarms: a generic alarm (Faulted) closed because the same fault's specific code
    # (GroundFailure) took its place names that code, so a history shows one fault once
    """
    ALTER TABLE alarms ADD COLUMN superseded_by TEXT;
    """,
    # trustworthy state: the events table is the durable event log (its id is the
    # position), each consumer keeps its position; a rule run names the event that
    # triggered it (a replay after a crash runs it once); a late meter sample says so;
    # a 2.0.1 transaction keeps the remoteStartId of the RequestStartTransaction behind it
    """
    CREATE TABLE IF NOT EXISTS consumer_positions (
        name       TEXT PRIMARY KEY NOT NULL,
        seq        INTEGER NOT NULL,
        updated_at REAL NOT NULL
    );
    ALTER TABLE rule_traces ADD COLUMN trigger_seq INTEGER;
    CREATE INDEX IF NOT EXISTS rule_traces_trigger ON rule_traces (trigger_seq) WHERE trigger_seq IS NOT NULL;
    ALTER TABLE meter_samples ADD COLUMN after_tx_end INTEGER;
    ALTER TABLE transactions ADD COLUMN remote_start_id INTEGER;
    """,
    # who may charge and a station's life (#17): cards with group, driver and note and the
    # list version of their last change; local lists per station; reservations; firmware
    # files, updates and rollouts; log uploads; station names; refused connections
    """
    ALTER TABLE id_tokens ADD COLUMN group_id TEXT;
    ALTER TABLE id_tokens ADD COLUMN driver TEXT;
    ALTER TABLE id_tokens ADD COLUMN note TEXT;
    ALTER TABLE id_tokens ADD COLUMN updated_at REAL;
    ALTER TABLE id_tokens ADD COLUMN list_version INTEGER;
    UPDATE id_tokens SET list_version = rowid;  -- cards from before: a version each, as if added one by one
    CREATE TABLE IF NOT EXISTS card_removals (
        id_token     TEXT PRIMARY KEY NOT NULL,
        list_version INTEGER NOT NULL,
        removed_at   REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS local_lists (
        station_id TEXT PRIMARY KEY NOT NULL,
        version    INTEGER,
        supported  INTEGER,
        synced_at  REAL,
        error      TEXT
    );

    CREATE TABLE IF NOT EXISTS reservations (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id   TEXT NOT NULL,
        evse_id      INTEGER,
        connector_id INTEGER,
        id_token     TEXT NOT NULL,
        group_id     TEXT,
        expires_at   REAL NOT NULL,
        status       TEXT NOT NULL,
        station_status TEXT,
        detail       TEXT,
        source       TEXT,
        tx_key       TEXT,
        created_at   REAL NOT NULL,
        updated_at   REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS reservations_station ON reservations (station_id, status);
    CREATE INDEX IF NOT EXISTS reservations_active ON reservations (expires_at) WHERE status = 'active';
    -- the stale-transaction sweeper's look at what is open
    CREATE INDEX IF NOT EXISTS transactions_active ON transactions (id) WHERE state = 'active';

    CREATE TABLE IF NOT EXISTS firmware_files (
        name     TEXT PRIMARY KEY NOT NULL,
        path     TEXT NOT NULL,
        size     INTEGER NOT NULL,
        sha256   TEXT NOT NULL,
        added_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS firmware_rollouts (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        firmware     TEXT NOT NULL,
        concurrency  INTEGER NOT NULL,
        max_failures INTEGER NOT NULL,
        state        TEXT NOT NULL,
        install_at   REAL,
        signature    TEXT,
        signing_certificate TEXT,
        source       TEXT,
        created_at   REAL NOT NULL,
        updated_at   REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS firmware_updates (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id TEXT NOT NULL,
        rollout_id INTEGER,
        firmware   TEXT NOT NULL,
        token      TEXT NOT NULL UNIQUE,
        status     TEXT NOT NULL,
        detail     TEXT,
        position   INTEGER NOT NULL DEFAULT 0,
        sent_at    REAL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        done_at    REAL
    );
    CREATE INDEX IF NOT EXISTS firmware_updates_station ON firmware_updates (station_id, id);
    CREATE INDEX IF NOT EXISTS firmware_updates_rollout ON firmware_updates (rollout_id, position);

    CREATE TABLE IF NOT EXISTS log_uploads (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id TEXT NOT NULL,
        log_type   TEXT NOT NULL,
        token      TEXT NOT NULL UNIQUE,
        status     TEXT NOT NULL,
        filename   TEXT,
        path       TEXT,
        size       INTEGER,
        detail     TEXT,
        source     TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS log_uploads_station ON log_uploads (station_id, id);

    ALTER TABLE stations ADD COLUMN name TEXT;
    ALTER TABLE stations ADD COLUMN site TEXT;
    ALTER TABLE stations ADD COLUMN notes TEXT;
    """,
    # a charging network on spot prices (#18): the spot prices by source and period, each
    # session's cost with its breakdown per period, a session's energy need and departure
    """
    CREATE TABLE IF NOT EXISTS spot_prices (
        source     TEXT NOT NULL,
        start      REAL NOT NULL,
        end        REAL NOT NULL,
        price      REAL NOT NULL,
        unit       TEXT NOT NULL,
        fetched_at REAL NOT NULL,
        PRIMARY KEY (source, start)
    ) WITHOUT ROWID;

    -- what a session costs (zaspot.pricing.service), and all it was computed from
    CREATE TABLE IF NOT EXISTS session_costs (
        transaction_id INTEGER PRIMARY KEY NOT NULL,  -- transactions.id
        station_id     TEXT NOT NULL,
        tx_key         TEXT NOT NULL,
        tariff         TEXT NOT NULL,
        currency       TEXT NOT NULL,
        energy_wh      REAL NOT NULL,
        cost_excl_vat  REAL NOT NULL,
        cost_incl_vat  REAL NOT NULL,
        periods        TEXT NOT NULL,  -- JSON: [{start, end, energy_wh, spot, price, cost, ...}]
        terms          TEXT NOT NULL,  -- JSON: the tariff as it was used
        readings       TEXT NOT NULL,  -- JSON: [[ts, Wh], ...] the energy register readings
        detail         TEXT NOT NULL,  -- JSON: fees, idle time, the span, the locked spot price
        final          INTEGER NOT NULL DEFAULT 0,
        updated_at     REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS session_costs_open ON session_costs (final) WHERE final = 0;

    CREATE TABLE IF NOT EXISTS session_needs (
        station_id  TEXT NOT NULL,
        evse_id     INTEGER NOT NULL,
        tx_key      TEXT,
        energy_wh   REAL,
        departure   REAL,
        charge_now  INTEGER NOT NULL DEFAULT 0,
        source      TEXT NOT NULL,
        updated_at  REAL NOT NULL,
        PRIMARY KEY (station_id, evse_id)
    ) WITHOUT ROWID;
    """,
    # fleet health (zaspot.health): each charging port's state as the health consumer last
    # saw it (evse 0 / connector 0 is the station: networked, its own status), its outages as
    # intervals with their cause, time excluded from uptime (maintenance, from the config or
    # the API), temperature against current folded per day, and where each fold has got to
    """
    CREATE TABLE IF NOT EXISTS health_ports (
        station_id   TEXT NOT NULL,
        evse_id      INTEGER NOT NULL,
        connector_id INTEGER NOT NULL,
        first_seen   REAL NOT NULL,
        status       TEXT,
        error_code   TEXT,
        networked    INTEGER NOT NULL DEFAULT 0,
        updated_at   REAL NOT NULL,
        PRIMARY KEY (station_id, evse_id, connector_id)
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS outages (
        id           INTEGER PRIMARY KEY,
        station_id   TEXT NOT NULL,
        evse_id      INTEGER NOT NULL,
        connector_id INTEGER NOT NULL,
        cause        TEXT NOT NULL,
        code         TEXT,
        detail       TEXT,
        started      REAL NOT NULL,
        ended        REAL
    );
    CREATE INDEX IF NOT EXISTS outages_port ON outages (station_id, evse_id, connector_id, started);
    CREATE INDEX IF NOT EXISTS outages_started ON outages (started);
    CREATE INDEX IF NOT EXISTS outages_open ON outages (station_id) WHERE ended IS NULL;

    CREATE TABLE IF NOT EXISTS health_exclusions (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        station_id   TEXT,
        evse_id      INTEGER,
        connector_id INTEGER,
        start_ts     REAL NOT NULL,
        end_ts       REAL NOT NULL,
        reason       TEXT NOT NULL,
        source       TEXT NOT NULL,
        created_at   REAL NOT NULL
    );

    CREATE TABLE IF NOT EXISTS temperature_load_daily (
        station_id   TEXT NOT NULL,
        evse_id      INTEGER NOT NULL,
        connector_id INTEGER NOT NULL,
        location     TEXT NOT NULL,
        instance     TEXT NOT NULL DEFAULT '',
        day          TEXT NOT NULL,
        n            INTEGER NOT NULL,
        sum_i        REAL NOT NULL,
        sum_t        REAL NOT NULL,
        sum_ii       REAL NOT NULL,
        sum_it       REAL NOT NULL,
        sum_tt       REAL NOT NULL,
        PRIMARY KEY (station_id, evse_id, connector_id, location, instance, day)
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS health_marks (
        name       TEXT PRIMARY KEY NOT NULL,
        upto       REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX IF NOT EXISTS temperatures_ts ON temperatures (ts);
    CREATE INDEX IF NOT EXISTS alarms_raised ON alarms (raised_at);
    """,
    # one row per meter value, its sampled values packed (#21): a MeterValues of three values
    # was three rows and three entries in the (station_id, ts) index; now it is one row, and
    # the station index is a table that store/filing.py fills in bulk a moment later (an
    # index SQLite keeps put a page per station into every commit). meter_rows is every
    # meter value, filed or not yet; meter_samples stays the view readers know, a row per
    # sampled value (after_tx_end and ordering columns included, where rowid was), and an
    # insert into it still stores a sample
    """
    -- ids grow (SQLite's MAX + 1); meter_filed.upto says which are in the index, and
    -- store/filing.py lowers it when the newest meter values are deleted, so that an id
    -- used again is never taken for filed (AUTOINCREMENT cost a page in every commit)
    CREATE TABLE IF NOT EXISTS meter_values (
        id           INTEGER PRIMARY KEY,
        station_id   TEXT NOT NULL,
        evse_id      INTEGER,
        connector_id INTEGER,
        tx_key       TEXT,
        ts           REAL NOT NULL,
        after_tx_end INTEGER,
        samples      TEXT NOT NULL  -- JSON: [[measurand, phase, location, context, unit, value], ...]
    );
    INSERT INTO meter_values (station_id, evse_id, connector_id, tx_key, ts, after_tx_end, samples)
    SELECT station_id, evse_id, connector_id, tx_key, ts, after_tx_end,
           json_group_array(json_array(measurand, phase, location, context, unit, value))
    FROM (SELECT * FROM meter_samples ORDER BY rowid)
    GROUP BY station_id, evse_id, connector_id, tx_key, ts, after_tx_end
    ORDER BY MIN(rowid);
    DROP TABLE meter_samples;
    CREATE TABLE IF NOT EXISTS meter_index (
        station_id TEXT NOT NULL,
        ts         REAL NOT NULL,
        value_id   INTEGER NOT NULL,
        PRIMARY KEY (station_id, ts, value_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS meter_filed (
        one  INTEGER PRIMARY KEY CHECK (one = 1),
        upto INTEGER NOT NULL  -- meter values with ids up to this are in meter_index
    );
    INSERT INTO meter_index (station_id, ts, value_id) SELECT station_id, ts, id FROM meter_values ORDER BY 1, 2, 3;
    INSERT INTO meter_filed (one, upto) SELECT 1, COALESCE(MAX(id), 0) FROM meter_values;
    CREATE VIEW meter_rows AS
    SELECT m.id AS id, i.station_id AS station_id, m.evse_id AS evse_id, m.connector_id AS connector_id,
           m.tx_key AS tx_key, i.ts AS ts, m.after_tx_end AS after_tx_end, m.samples AS samples
    FROM meter_index AS i JOIN meter_values AS m ON m.id = i.value_id
    UNION ALL
    SELECT id, station_id, evse_id, connector_id, tx_key, ts, after_tx_end, samples
    FROM meter_values AS n WHERE id > (SELECT upto FROM meter_filed) AND NOT EXISTS (
        -- filed by a round not finished yet (store/filing.py)
        SELECT 1 FROM meter_index AS f WHERE f.station_id = n.station_id AND f.ts = n.ts AND f.value_id = n.id);
    CREATE VIEW meter_samples AS
    SELECT m.station_id AS station_id, m.evse_id AS evse_id, m.connector_id AS connector_id,
           m.tx_key AS tx_key, m.ts AS ts,
           json_extract(s.value, '$[0]') AS measurand, json_extract(s.value, '$[1]') AS phase,
           json_extract(s.value, '$[2]') AS location, json_extract(s.value, '$[3]') AS context,
           json_extract(s.value, '$[4]') AS unit, CAST(json_extract(s.value, '$[5]') AS REAL) AS value,
           m.after_tx_end AS after_tx_end, m.id AS meter_value_id, s.key AS position
    FROM meter_rows AS m, json_each(m.samples) AS s;
    CREATE TRIGGER meter_samples_insert INSTEAD OF INSERT ON meter_samples
    BEGIN
        INSERT INTO meter_values (station_id, evse_id, connector_id, tx_key, ts, after_tx_end, samples)
        VALUES (NEW.station_id, NEW.evse_id, NEW.connector_id, NEW.tx_key, NEW.ts, NEW.after_tx_end,
                json_array(json_array(NEW.measurand, NEW.phase, NEW.location, NEW.context, NEW.unit, NEW.value)));
    END;
    """,
]
