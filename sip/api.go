package sip

import (
	"context"
	"time"
)

// Registry receives registration events. Calls are made from the request's
// goroutine after the device has been answered, so a slow Registry delays
// nothing on the wire; it must be safe for concurrent use.
type Registry interface {
	// Registered is called for every successful REGISTER, including
	// refreshes (info.Refresh).
	Registered(ctx context.Context, info RegisterInfo)
	// Unregistered is called when a device unregisters (Expires: 0) or its
	// registration expires without a refresh.
	Unregistered(ctx context.Context, deviceID string, reason UnregisterReason)
}

// RegistrationStore is implemented by a Registry that keeps registrations
// across restarts of the platform (in the database). Initialize restores
// what it returns before serving: a device that registered with the
// previous run stays reachable, instead of waiting for its next REGISTER,
// which may be most of an hour away (GB/T 28181 devices refresh at the end
// of their registration, not on a platform restart they cannot see).
type RegistrationStore interface {
	// StoredRegistrations returns the registrations recorded by earlier
	// runs that have not expired: DeviceID, RemoteAddr, Transport,
	// RegisteredAt and ExpiresAt are needed, the others are optional.
	StoredRegistrations(ctx context.Context) ([]RegisterInfo, error)
}

// MessageHandler receives MESSAGE and NOTIFY requests from devices. The
// device has already been answered 200 OK when it is called (GB/T 28181
// expects the 200 at once; answers to queries come as new MESSAGEs). It must
// be safe for concurrent use.
type MessageHandler interface {
	HandleMessage(ctx context.Context, m Message)
}

// Credentials looks up per-device passwords, typically from the database.
type Credentials interface {
	// Password returns the device's own password and known=true when the
	// platform knows the device. An empty password for a known device means
	// "use the global password". known=false means an unknown device: the
	// global password applies, or the device is refused when the server
	// does not auto-accept.
	Password(ctx context.Context, deviceID string) (password string, known bool)
}

// RegisterInfo describes a device's registration.
type RegisterInfo struct {
	DeviceID string
	// RemoteAddr is the address ("ip:port") the REGISTER came from, where
	// the platform sends its requests; not the Via or Contact address.
	RemoteAddr string
	// Transport is "UDP" or "TCP".
	Transport string
	// Contact is the Contact URI as the device wrote it (may name a private
	// address behind NAT).
	Contact   string
	UserAgent string
	// Expires is the granted registration lifetime.
	Expires      time.Duration
	RegisteredAt time.Time
	ExpiresAt    time.Time
	// Refresh is true when the device was already registered.
	Refresh bool
	// Authenticated is true when a digest answer was verified (false when
	// no password applies, and for a restored registration).
	Authenticated bool
	// Restored is true for a registration re-created by Server.Restore from
	// an earlier run's record, until the device registers again.
	Restored bool
}

// UnregisterReason says why a registration ended.
type UnregisterReason int

// Reasons a registration ends.
const (
	// UnregisterRequested: a REGISTER with Expires: 0.
	UnregisterRequested UnregisterReason = iota + 1
	// UnregisterExpired: no refresh before the registration expired.
	UnregisterExpired
)

func (r UnregisterReason) String() string {
	switch r {
	case UnregisterRequested:
		return "unregistered"
	case UnregisterExpired:
		return "expired"
	default:
		return "unknown"
	}
}

// Message is a MESSAGE or NOTIFY request from a device.
type Message struct {
	// Method is "MESSAGE" or "NOTIFY".
	Method string
	// DeviceID is the user part of From.
	DeviceID string
	// RemoteAddr is the address ("ip:port") the request came from.
	RemoteAddr string
	// Transport is "UDP" or "TCP".
	Transport string
	// ContentType as sent, e.g. "Application/MANSCDP+xml".
	ContentType string
	// Event is the NOTIFY Event header (e.g. "Catalog"), empty for MESSAGE.
	Event string
	// Body is the raw body, in the device's charset (GB2312 by default).
	Body []byte
	// Registered reports whether the sender is currently registered
	// (restored registrations included).
	Registered bool
	// CallID is the request's Call-ID. A MediaStatus sent in a media
	// session's dialog carries the INVITE's (Server.Dialog finds it); some
	// devices send it outside the dialog with a Call-ID of its own.
	CallID string
}
