// Package transport is the platform's SIP transport: UDP and TCP listeners on
// one address, framing, and the hand-over of parsed messages to gosip's
// transaction layer. It implements gosip's transport.Layer so that gosip's
// own transport (a data race in its Send was fixed upstream only after the
// version we pin) is never used, and so that
// the things GB/T 28181 devices need are decided here:
//
//   - Replies go to the address a request came from, whatever its Via says
//     (RFC 3581 rport and RFC 3261 §18.2.1 received are filled in). A camera
//     behind NAT puts its private address in Via and Contact.
//   - Malformed input (garbage, truncated headers, a Content-Length larger
//     than the datagram, a body over the limit) is answered with 400 or 413
//     when the request can be identified and dropped otherwise, with a
//     rate-limited log line; the listener keeps serving.
//   - Writes to one TCP connection are serialized; UDP writes go through the
//     single listening socket so the source port is the platform's port.
//   - Requests the platform sends run in Layer.Request, a client
//     transaction of our own: gosip's records its transaction only after
//     sending, so an answer that comes back fast (LAN, TCP) is lost.
//   - Requests of the methods given to Layer.Handle (REGISTER, MESSAGE,
//     NOTIFY: answered at once, from thousands of devices) get a server
//     transaction of our own, a table entry holding the encoded response
//     for Timer J, instead of gosip's, which holds about 22 KiB and a
//     goroutine for 32 s per request. Other requests (INVITE dialogs) go
//     through gosip's transaction layer.
//
// It also adapts gosip's logger interface to log/slog (Logger), so nothing
// gosip says ends up on stdout.
package transport
