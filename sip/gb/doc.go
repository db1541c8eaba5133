// Package gb is the platform's GB/T 28181 protocol client: it asks devices
// registered with a sip.Server for their catalog, information, status,
// recordings, presets and configuration, sends them control commands, holds
// catalog subscriptions, and hands what devices report on their own
// (keepalives, alarms, positions, media status, catalog changes) to Events.
//
// A query is a MESSAGE whose 200 OK only says the device received it: the
// answer is a later MESSAGE from the device, a Response with the query's
// CmdType and SN (GB/T 28181-2016 §9.5). Client numbers its queries with
// one SN counter and matches answers by (device, CmdType, SN); the
// device's SIP From identifies it, not the body's DeviceID, which devices
// fill with either the device or the channel. Catalog and RecordInfo
// answers come in parts that manscdp.Assembler puts together; a part that
// never arrives costs CatalogTimeout and the rest is returned. Control
// commands (PTZ, TeleBoot…) complete on the 200.
//
// Bodies are decoded in the charset remembered for each device (GB2312
// until a body says otherwise) and queries are written in it. A body that
// does not decode is logged at a limited rate and dropped; nothing a device
// sends can make HandleMessage panic (FuzzHandleMessage).
//
// Catalog subscriptions (§9.11.1) are refreshed by one goroutine per
// Client from a heap ordered by refresh time (refresher.go), not by a
// goroutine per device: a platform holds thousands of them for hours, and
// a goroutine each was most of its memory between keepalives. A refresh
// has a goroutine only while its SUBSCRIBE is in flight, at most 32 at a
// time, and refresh times are spread by ±10 % so that devices that
// subscribed together do not refresh together.
//
// The package holds no database and no media: what it learns goes to
// Events, which the device service implements.
package gb
