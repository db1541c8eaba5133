// Package gb is the device service of GB/T 28181 devices: it keeps the database in step with
// what the SIP side learns (registrations, keepalives, catalogs, alarms, positions) and offers
// the API the device-side operations (catalog refresh, PTZ, presets, recordings, reboot, status).
//
// Service sits between the SIP server and the protocol client: it is the server's Registry (and
// RegistrationStore) and Credentials, the client's Events, and the server's MessageHandler (it
// passes every message on to the client). It talks to the database through the Store interface it declares and to devices
// through the Client interface, which *gb.Client of sip/gb satisfies.
//
// Liveness. A device is online from its REGISTER or keepalive until it unregisters, its
// registration expires, or keepalive_misses × keepalive_interval pass without a keepalive (the
// watchdog). After a platform restart every device starts offline, but the SIP server restores
// the stored registrations that have not expired (StoredRegistrations): a device's next
// keepalive brings it online and it is reachable at once, without waiting for its next
// REGISTER (a device registered over TCP once it has reconnected). Each change is logged once with the device ID. A channel's effective status is
// the ON/OFF of the last catalog while its device is online and OFF while it is offline; the
// stored status is left as the catalog said, so that a device coming back does not need a
// catalog round trip to have its channels back, and an offline NVR with 10,000 channels costs
// one write, not 10,000.
//
// After a device comes online the service asks it, in the background and a few devices at a
// time, for its DeviceInfo (manufacturer, model, firmware, name) and Catalog, and subscribes to
// catalog changes. A catalog cut short by catalog_timeout is stored without removing the
// channels it does not list.
package gb
