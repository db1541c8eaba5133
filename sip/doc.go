// Package sip will hold the GB28181 signalling side: the SIP transport
// (gosip behind our own small type), the registrar, the MANSCDP XML codec,
// GB SDP and INVITE/BYE dialogs, and MANSRTSP playback control. It speaks to
// the rest of the platform only through interfaces it declares, and never
// imports media, storage or web. Planned in issue #3.
package sip
