-- 0004_onvif: ONVIF device and channel fields.
--
-- An ONVIF device keeps its device service address, the camera account (the password goes into
-- the password column of 0002) and the camera's clock offset; it shares manufacturer, model,
-- firmware, online and last_keepalive with GB28181 devices. Each media profile of the camera is
-- one channel, found again by its token when the profiles are re-read.

ALTER TABLE devices ADD COLUMN xaddr           TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN username        TEXT    NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN serial          TEXT    NOT NULL DEFAULT '';
-- The camera's clock minus ours, in milliseconds.
ALTER TABLE devices ADD COLUMN clock_offset_ms INTEGER NOT NULL DEFAULT 0;

ALTER TABLE channels ADD COLUMN profile_token TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN role          TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN codec         TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN width         INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN height        INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN fps           INTEGER NOT NULL DEFAULT 0;
ALTER TABLE channels ADD COLUMN snapshot_uri  TEXT    NOT NULL DEFAULT '';
ALTER TABLE channels ADD COLUMN ptz           BOOLEAN NOT NULL DEFAULT 0;

-- A profile token names one profile of a device; channels of other devices have none.
CREATE UNIQUE INDEX idx_channels_device_profile ON channels (device_id, profile_token) WHERE profile_token <> '';
