-- 0003_recordings: the index of recorded segments, channel recording policies, and the
-- bookkeeping retention needs.
--
-- A row describes one segment file (fMP4, about a minute) of a channel's stream. Times are Unix
-- milliseconds (UTC by definition): a month of one channel is 43,200 rows, and integers compare,
-- index and subtract faster than DATETIME text.

CREATE TABLE recordings (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    channel_id INTEGER  NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    stream     TEXT     NOT NULL,
    start_ms   INTEGER  NOT NULL,
    end_ms     INTEGER  NOT NULL,
    bytes      INTEGER  NOT NULL,
    codecs     TEXT     NOT NULL DEFAULT '',
    path       TEXT     NOT NULL,
    created_at DATETIME NOT NULL,
    CHECK (end_ms >= start_ms),
    CHECK (bytes >= 0)
);

-- Listing a channel's recordings over a time range, and the cascade from channels.
CREATE INDEX idx_recordings_channel_start ON recordings (channel_id, start_ms);
-- Retention takes the oldest segments of all channels first.
CREATE INDEX idx_recordings_start ON recordings (start_ms);
-- A file is indexed once: recovery after a crash may offer a segment again.
CREATE UNIQUE INDEX idx_recordings_path ON recordings (path);

-- recording_usage holds the total size of all recordings in one row, kept by triggers, so that
-- retention reads it in O(1) instead of summing millions of rows every pass.
CREATE TABLE recording_usage (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    bytes INTEGER NOT NULL,
    count INTEGER NOT NULL
);
INSERT INTO recording_usage (id, bytes, count) VALUES (1, 0, 0);

CREATE TRIGGER recordings_usage_insert AFTER INSERT ON recordings
BEGIN
    UPDATE recording_usage SET bytes = bytes + NEW.bytes, count = count + 1 WHERE id = 1;
END;

CREATE TRIGGER recordings_usage_delete AFTER DELETE ON recordings
BEGIN
    UPDATE recording_usage SET bytes = bytes - OLD.bytes, count = count - 1 WHERE id = 1;
END;

-- Deleting a channel deletes its rows (ON DELETE CASCADE) but not its files. The cascade fires
-- this trigger after the channel row is gone, so the paths are queued here for retention to
-- remove; rows that retention itself deletes (the channel still exists) are not queued.
CREATE TABLE recording_orphans (
    path  TEXT    PRIMARY KEY,
    bytes INTEGER NOT NULL
);

CREATE TRIGGER recordings_orphan AFTER DELETE ON recordings
WHEN NOT EXISTS (SELECT 1 FROM channels WHERE id = OLD.channel_id)
BEGIN
    INSERT OR IGNORE INTO recording_orphans (path, bytes) VALUES (OLD.path, OLD.bytes);
END;

-- A channel's recording policy; a channel without a row is not recorded. schedule is JSON owned
-- by the scheduler (used when mode is 'schedule'); max_age_s 0 keeps segments until the global
-- quotas need their space.
CREATE TABLE recording_policies (
    channel_id INTEGER  PRIMARY KEY REFERENCES channels (id) ON DELETE CASCADE,
    mode       TEXT     NOT NULL DEFAULT 'off' CHECK (mode IN ('off', 'continuous', 'schedule')),
    schedule   TEXT     NOT NULL DEFAULT '',
    max_age_s  INTEGER  NOT NULL DEFAULT 0 CHECK (max_age_s >= 0),
    updated_at DATETIME NOT NULL
);
