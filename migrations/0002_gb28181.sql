-- 0002_gb28181: GB28181 device and channel fields, and the events table for alarms.
--
-- SQLite adds one column per ALTER TABLE. Every new column has a default so that rows written
-- by 0001 stay valid; times are NULL for "never".

ALTER TABLE devices ADD COLUMN gb_id            TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN manufacturer     TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN model            TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN firmware         TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN transport        TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN remote_addr      TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN charset          TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN online           BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN registered_at    DATETIME;
ALTER TABLE devices ADD COLUMN last_keepalive   DATETIME;
ALTER TABLE devices ADD COLUMN expires_at       DATETIME;
ALTER TABLE devices ADD COLUMN password         TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN stream_transport TEXT    NOT NULL DEFAULT 'udp';
ALTER TABLE devices ADD COLUMN longitude        REAL    NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN latitude         REAL    NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN position_at      DATETIME;

-- A GB ID names one device; devices of other types have none. Registration looks devices up
-- by it.
CREATE UNIQUE INDEX idx_devices_gb_id ON devices (gb_id) WHERE gb_id <> '';

ALTER TABLE channels ADD COLUMN gb_id        TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN parent_id    TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN manufacturer TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN model        TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN status       TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN ptz_type     INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN civil_code   TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN address      TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN longitude    REAL    NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN latitude     REAL    NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN kind         TEXT    NOT NULL DEFAULT 'channel';

-- A catalog item's ID is unique within its device (not across devices: two NVRs may number
-- their channels alike). Catalog syncs upsert on it, so the conflict target of their
-- INSERT ... ON CONFLICT must repeat this WHERE.
CREATE UNIQUE INDEX idx_channels_device_gb_id ON channels (device_id, gb_id) WHERE gb_id <> '';
-- The console walks the catalog tree by parent.
CREATE INDEX idx_channels_parent_id ON channels (parent_id);

-- events holds what devices report, alarms so far. Time is the device's clock, created_at ours.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id     INTEGER  NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    channel_gb_id TEXT     NOT NULL DEFAULT '',
    kind          TEXT     NOT NULL,
    priority      INTEGER  NOT NULL DEFAULT 0,
    method        INTEGER  NOT NULL DEFAULT 0,
    alarm_type    TEXT     NOT NULL DEFAULT '',
    description   TEXT     NOT NULL DEFAULT '',
    longitude     REAL     NOT NULL DEFAULT 0,
    latitude      REAL     NOT NULL DEFAULT 0,
    time          DATETIME NOT NULL,
    created_at    DATETIME NOT NULL
);

-- Events are listed newest first, per device or for all devices; the cascade finds them by
-- device_id through the first index.
CREATE INDEX idx_events_device_time ON events (device_id, time);
CREATE INDEX idx_events_time ON events (time);
