-- 0001_init: users, settings, devices and their channels.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    username      TEXT     NOT NULL UNIQUE,
    password_hash TEXT     NOT NULL,
    created_at    DATETIME NOT NULL
);

-- settings keeps small values the platform must remember between runs; what an operator
-- configures lives in nvr.yaml instead.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE devices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT     NOT NULL,
    name       TEXT     NOT NULL,
    url        TEXT     NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE channels (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_id  INTEGER  NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    name       TEXT     NOT NULL,
    url        TEXT     NOT NULL DEFAULT '',
    always_on  BOOLEAN  NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

-- Channels are listed per device and the ON DELETE CASCADE looks them up by device_id.
CREATE INDEX idx_channels_device_id ON channels (device_id);
