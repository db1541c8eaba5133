// Package sip is the GB/T 28181 signalling side of the platform: the SIP
// server (UDP and TCP on one address, gosip behind our own transport in
// sip/transport), the registrar with MD5 digest authentication (sip/digest),
// the in-memory table of where each registered device can be reached
// (restored at start-up from a Registry that keeps registrations, see
// RegistrationStore and Server.Restore), the hand-over of MESSAGE and NOTIFY
// bodies, SendMessage for queries and control, and Subscribe for SUBSCRIBE
// dialogs (RFC 6665). The MANSCDP codec is sip/manscdp, PTZ sip/ptz, and
// sip/gb the GB/T 28181 protocol client (queries, controls, subscriptions,
// notifications) built on this server. Media sessions are INVITE dialogs
// (Server.Invite, Dialog: ACK, BYE from either side, CANCEL on timeout, INFO
// with MANSRTSP bodies from sip/mansrtsp) with GB SDP from sip/sdp.
//
// It speaks to the rest of the platform only through the interfaces it
// declares (Registry, RegistrationStore, MessageHandler, Credentials) and
// never imports media, storage or web. sip/gbsim is a device simulator for
// tests and load runs.
//
// What real devices need and the standard does not say (see
// ../shared/GB28181.md): replies go to the packet's source address whatever
// Via says (NAT); device IDs with odd type digits are accepted with a
// warning; the 200 to REGISTER carries a Date header devices set their clock
// from; an empty password means no authentication.
package sip
