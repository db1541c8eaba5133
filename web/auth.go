package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"

	"github.com/nvr/nvr/device"
)

// UserStore is what authentication needs from the database.
type UserStore interface {
	UserByName(ctx context.Context, name string) (*device.User, error)
	CreateUser(ctx context.Context, u *device.User) error
	CountUsers(ctx context.Context) (int64, error)
	Setting(ctx context.Context, key string) (string, bool, error)
	SetSetting(ctx context.Context, key, value string) error
}

const (
	secretSetting = "auth.token_secret"
	// InitialPasswordFile is written in the data dir when the admin password
	// was generated, so an operator who missed the log line can read it.
	InitialPasswordFile = "initial-admin-password"
	adminUser           = "admin"
)

// Auth issues and checks bearer tokens. A token is "<payload>.<mac>":
// the payload is the base64url of "user:expiry-unix", the mac an
// HMAC-SHA256 of it with a secret kept in the database. Checking one costs a
// hash, not a database query, which matters for every play request.
type Auth struct {
	Users  UserStore
	TTL    time.Duration
	secret []byte
	dummy  []byte // a bcrypt hash checked for unknown users
}

// Initialize loads the token secret, creating it on first start.
func (a *Auth) Initialize(ctx context.Context) error {
	v, ok, err := a.Users.Setting(ctx, secretSetting)
	if err != nil {
		return err
	}
	if !ok {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		v = hex.EncodeToString(b)
		if err := a.Users.SetSetting(ctx, secretSetting, v); err != nil {
			return err
		}
	}
	a.secret, err = hex.DecodeString(v)
	if err != nil || len(a.secret) < 16 {
		return fmt.Errorf("auth: stored token secret is corrupt")
	}
	if a.dummy, err = bcrypt.GenerateFromPassword(a.secret, bcrypt.DefaultCost); err != nil {
		return err
	}
	if a.TTL <= 0 {
		a.TTL = 24 * time.Hour
	}
	return nil
}

// ErrBadCredentials is returned by Login for an unknown user or a wrong password.
var ErrBadCredentials = errors.New("wrong username or password")

// Login checks a username and password and returns a token.
func (a *Auth) Login(ctx context.Context, username, password string) (string, time.Time, error) {
	u, err := a.Users.UserByName(ctx, username)
	if errors.Is(err, device.ErrNotFound) {
		// Spend the same time as a real check so that timing does not tell
		// which usernames exist.
		_ = bcrypt.CompareHashAndPassword(a.dummy, []byte(password))
		return "", time.Time{}, ErrBadCredentials
	}
	if err != nil {
		return "", time.Time{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return "", time.Time{}, ErrBadCredentials
	}
	exp := time.Now().Add(a.TTL)
	return a.sign(u.Username, exp), exp, nil
}

func (a *Auth) sign(user string, exp time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(user + ":" + strconv.FormatInt(exp.Unix(), 10)))
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(payload))
	return payload + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Verify returns the user a valid, unexpired token was issued to.
func (a *Auth) Verify(token string) (string, bool) {
	payload, mac, ok := strings.Cut(token, ".")
	if !ok {
		return "", false
	}
	// Compare the canonical text of the MAC, not decoded bytes: lenient
	// base64 decoding would give one token several valid spellings.
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(payload))
	if !hmac.Equal([]byte(mac), []byte(base64.RawURLEncoding.EncodeToString(m.Sum(nil)))) {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return "", false
	}
	user, expS, ok := strings.Cut(string(raw), ":")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if !ok || err != nil || time.Now().Unix() >= exp {
		return "", false
	}
	return user, true
}

// middleware requires a valid token in the Authorization header, or in the
// token query parameter (players such as VLC cannot set headers).
func (a *Auth) middleware(c *gin.Context) {
	tok := ""
	if h := c.GetHeader("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(h, " ")
		if strings.EqualFold(scheme, "Bearer") {
			tok = strings.TrimSpace(rest)
		}
	}
	if tok == "" {
		tok = c.Query("token")
	}
	user, ok := a.Verify(tok)
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="nvr"`)
		abort(c, http.StatusUnauthorized, codeUnauthorized, "a valid bearer token is required")
		return
	}
	c.Set("user", user)
	c.Next()
}

// EnsureAdmin creates the admin user on first start. With an empty
// password it generates one, logs it once and writes it to
// <dataDir>/initial-admin-password with mode 0600.
func EnsureAdmin(ctx context.Context, users UserStore, password, dataDir string, log *slog.Logger) error {
	n, err := users.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	generated := password == ""
	if generated {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password = base64.RawURLEncoding.EncodeToString(b)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	if err := users.CreateUser(ctx, &device.User{Username: adminUser, PasswordHash: string(hash)}); err != nil {
		return err
	}
	if !generated {
		log.Info("created user admin with the configured password")
		return nil
	}
	path := filepath.Join(dataDir, InitialPasswordFile)
	if err := os.WriteFile(path, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	log.Warn("created user admin with a generated password; change it after logging in",
		"password", password, "also_in", path)
	return nil
}
