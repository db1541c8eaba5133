// Package sdp writes and reads the SDP bodies of GB/T 28181 media sessions
// (GB/T 28181-2016 §9.2 and Annex F; RFC 4566 for the syntax): the platform's
// offer in an INVITE and the device's answer in its 200 OK. It knows the GB
// extensions: s=Play|Playback|Download|Talk, u=<channelID>:0, t= in Unix
// seconds, y= (the SSRC, a decimal string of ten digits), f= (media format),
// a=setup / a=connection for TCP media (RFC 4145), a=downloadspeed,
// a=filesize, and the sub-stream selectors.
//
// The reader is lenient, because answers are written by camera firmware:
// CRLF or LF line ends, blanks around values, unknown lines and attributes,
// session-level attributes, y= and f= anywhere (also after m=), a missing c=
// (the o= address is used), an SSRC that is not ten digits or is missing,
// NTP instead of Unix times in t=, and several m= sections (the first video
// one is used). It is fuzzed (FuzzSDP): nothing a device sends makes it
// panic, and what it reads writes back to the same session.
//
// Sub-stream selection has no single standard form (see ../../shared/GB28181.md):
// GB/T 28181-2016 devices (Hikvision among them) read a=stream:N, GB/T
// 28181-2022 defines a=streamnumber:N, Dahua reads a=streamprofile:N and
// TP-Link a=streamMode:main|sub. For Stream > 0 the writer sends the three
// numeric forms by default: RFC 4566 §5.13 tells receivers to ignore
// attributes they do not know, and devices do, so sending all three costs
// nothing and reaches every family. a=streamMode is sent only when asked for
// (StreamMode in Session.StreamStyle): its value is a word, and what "sub"
// means for a third stream is not defined. Stream 0 (the main stream) writes
// no attribute at all, which is what every device defaults to.
package sdp
