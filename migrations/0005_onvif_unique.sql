-- 0005_onvif_unique: an ONVIF camera is added once.
--
-- Two onboardings of one camera that ran at the same time could both pass the service's check
-- for a device at that address and both insert one. onvif_address holds what two addresses of
-- one device service have in common, the host in lower case and the explicit port
-- ("192.0.2.10:80", device.ONVIFAddressKey), and the unique index lets only one device have it:
-- the insert of the second fails. Devices of other types leave it NULL, and NULLs never collide
-- in a unique index (SQLite, PostgreSQL and MySQL alike), so no partial index is needed.
-- VARCHAR(255) rather than TEXT so that MySQL can index it whole.
--
-- Devices added before this migration are given their address by the ONVIF service when it
-- starts (storage.DB.ClaimONVIFAddresses), in Go: host and port cannot be taken apart from a URL
-- in portable SQL, and two devices of one camera that already exist must not stop the upgrade
-- (the later one keeps NULL and is reported).

ALTER TABLE devices ADD COLUMN onvif_address VARCHAR(255);

CREATE UNIQUE INDEX idx_devices_onvif_address ON devices (onvif_address);
