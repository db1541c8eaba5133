package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/device"
)

// memUsers is an in-memory UserStore: the database is not under test here.
type memUsers struct {
	users    map[string]*device.User
	settings map[string]string
}

func newMemUsers() *memUsers {
	return &memUsers{users: map[string]*device.User{}, settings: map[string]string{}}
}

func (m *memUsers) UserByName(_ context.Context, n string) (*device.User, error) {
	if u, ok := m.users[n]; ok {
		return u, nil
	}
	return nil, device.ErrNotFound
}
func (m *memUsers) CreateUser(_ context.Context, u *device.User) error {
	m.users[u.Username] = u
	return nil
}
func (m *memUsers) CountUsers(context.Context) (int64, error) { return int64(len(m.users)), nil }
func (m *memUsers) Setting(_ context.Context, k string) (string, bool, error) {
	v, ok := m.settings[k]
	return v, ok, nil
}
func (m *memUsers) SetSetting(_ context.Context, k, v string) error {
	m.settings[k] = v
	return nil
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	users := newMemUsers()
	dir := t.TempDir()
	if err := EnsureAdmin(ctx, users, "", dir, discard()); err != nil {
		t.Fatal(err)
	}
	a := &Auth{Users: users, TTL: time.Hour}
	if err := a.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	pw := readInitialPassword(t, dir)
	if _, _, err := a.Login(ctx, "admin", pw+"x"); err != ErrBadCredentials {
		t.Fatalf("wrong password: %v", err)
	}
	if _, _, err := a.Login(ctx, "nobody", pw); err != ErrBadCredentials {
		t.Fatalf("unknown user: %v", err)
	}
	tok, _, err := a.Login(ctx, "admin", pw)
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := a.Verify(tok); !ok || u != "admin" {
		t.Fatalf("Verify = %q %v", u, ok)
	}
	// Any change to the token invalidates it.
	for i := range tok {
		b := []byte(tok)
		b[i] ^= 1
		if _, ok := a.Verify(string(b)); ok {
			t.Fatalf("tampered token (byte %d) accepted", i)
		}
	}
	if _, ok := a.Verify(a.sign("admin", time.Now().Add(-time.Second))); ok {
		t.Fatal("expired token accepted")
	}
	// A second Auth over the same store shares the secret: tokens survive restarts.
	b := &Auth{Users: users}
	if err := b.Initialize(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Verify(tok); !ok {
		t.Fatal("token not valid after restart")
	}
	// EnsureAdmin does nothing once a user exists.
	if err := EnsureAdmin(ctx, users, "other", dir, discard()); err != nil || len(users.users) != 1 {
		t.Fatal("EnsureAdmin changed an existing user set")
	}
}

func readInitialPassword(t *testing.T, dir string) string {
	t.Helper()
	b, err := readFileMode(dir+"/"+InitialPasswordFile, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
