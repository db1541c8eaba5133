package digest

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// Errors returned by Nonces.Check.
var (
	// ErrNonceInvalid is returned for a nonce this server did not issue (or
	// issued with another secret): answer with a fresh challenge.
	ErrNonceInvalid = errors.New("digest: unknown nonce")
	// ErrNonceStale is returned for a nonce this server issued that has
	// expired: answer with a fresh challenge and stale=true (RFC 2617
	// §3.2.1), so the device retries without asking for a password.
	ErrNonceStale = errors.New("digest: stale nonce")
)

// Layout of a nonce: 8 bytes of issue time (Unix nanoseconds), 8 random
// bytes, then the first macLen bytes of HMAC-SHA256(secret, time||random),
// all hex encoded. Stateless: any node that shares the secret can check it,
// and nothing is stored per device.
const (
	nonceRawLen = 8 + 8
	macLen      = 12
	nonceLen    = 2 * (nonceRawLen + macLen)
)

// Nonces issues and checks stateless nonces. Safe for concurrent use.
type Nonces struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// NewNonces returns a nonce source. A nil or empty secret picks a random
// one (nonces then die with the process, which only costs devices one more
// challenge round). ttl bounds how long a nonce is accepted.
func NewNonces(secret []byte, ttl time.Duration) *Nonces {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // crypto/rand.Read never fails (Go 1.24+)
	}
	return &Nonces{secret: secret, ttl: ttl, now: time.Now}
}

// New issues a nonce.
func (n *Nonces) New() string {
	var raw [nonceRawLen + macLen]byte
	binary.BigEndian.PutUint64(raw[:8], uint64(n.now().UnixNano()))
	_, _ = rand.Read(raw[8:16])
	copy(raw[nonceRawLen:], n.mac(raw[:nonceRawLen]))
	return hex.EncodeToString(raw[:])
}

// Check returns nil for a nonce this source issued within ttl,
// ErrNonceStale for one issued earlier, and ErrNonceInvalid otherwise.
func (n *Nonces) Check(nonce string) error {
	if len(nonce) != nonceLen {
		return ErrNonceInvalid
	}
	var raw [nonceRawLen + macLen]byte
	if _, err := hex.Decode(raw[:], []byte(nonce)); err != nil {
		return ErrNonceInvalid
	}
	if !hmac.Equal(raw[nonceRawLen:], n.mac(raw[:nonceRawLen])) {
		return ErrNonceInvalid
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(raw[:8])))
	age := n.now().Sub(issued)
	// A nonce from the future means the clock stepped back; treat it like
	// an old one rather than trusting it forever.
	if age > n.ttl || age < -time.Minute {
		return ErrNonceStale
	}
	return nil
}

func (n *Nonces) mac(b []byte) []byte {
	h := hmac.New(sha256.New, n.secret)
	h.Write(b)
	return h.Sum(nil)[:macLen]
}
