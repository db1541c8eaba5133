package web

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/nvr/nvr/device"
	devgb "github.com/nvr/nvr/device/gb"
	"github.com/nvr/nvr/media/egress/hls"
	"github.com/nvr/nvr/media/hub"
	"github.com/nvr/nvr/web/ui"
)

// Store is what the API reads directly from the database.
type Store interface {
	Device(ctx context.Context, id int64) (*device.Device, error)
	ListDevices(ctx context.Context, opts device.ListOptions) ([]*device.Device, int64, error)
	Channels(ctx context.Context, deviceID int64) ([]*device.Channel, error)
	Channel(ctx context.Context, id int64) (*device.Channel, error)
	ListEvents(ctx context.Context, f device.EventFilter) ([]*device.Event, int64, error)
	Ping(ctx context.Context) error
}

// Server is the HTTP side of the platform. Set the fields, then use Handler.
type Server struct {
	Store   Store
	Devices *device.Service
	// GB serves the GB28181 operations (catalog refresh, PTZ, presets,
	// recordings, reboot, status, settings); nil answers them 503.
	GB *devgb.Service
	// ONVIF serves ONVIF discovery, onboarding, profile sync, snapshots,
	// PTZ and presets; nil answers them 503.
	ONVIF *device.ONVIFService
	// GBMedia serves GB28181 playback and download; nil answers them 503.
	GBMedia GBMedia
	// Recordings serves recording policies, the recordings' index, exports, playlists and
	// storage figures; nil answers them 503.
	Recordings  Recordings
	Hub         *hub.Hub
	HLS         *hls.Manager
	Auth        *Auth
	CORSOrigins []string
	Version     string
	Logger      *slog.Logger

	log     *slog.Logger
	started time.Time
}

// Handler builds the router.
func (s *Server) Handler() http.Handler {
	s.log = s.Logger.With("component", "web")
	s.started = time.Now()
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recover, s.cors, s.accessLog)
	console := ui.New()
	r.NoRoute(func(c *gin.Context) {
		// The console's page and assets are not API routes (nor in the OpenAPI
		// document); every other unknown path keeps the JSON 404.
		if console.Owns(c.Request.URL.Path) {
			console.ServeHTTP(c.Writer, c.Request)
			c.Abort()
			return
		}
		abort(c, http.StatusNotFound, codeNotFound, "no such route")
	})
	r.NoMethod(func(c *gin.Context) {
		abort(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")
	})
	type group struct {
		routes []route
		chains [][]gin.HandlerFunc
	}
	groups := map[string]*group{}
	var order []string
	for _, rt := range s.routes() {
		chain := []gin.HandlerFunc{}
		if rt.auth {
			chain = append(chain, s.Auth.middleware)
		}
		chain = append(chain, rt.handler)
		for _, m := range rt.methods() {
			key := m + " " + rt.ginPath()
			g := groups[key]
			if g == nil {
				g = &group{}
				groups[key] = g
				order = append(order, key)
			}
			g.routes = append(g.routes, rt)
			g.chains = append(g.chains, chain)
		}
	}
	for _, key := range order {
		g := groups[key]
		method, path, _ := strings.Cut(key, " ")
		if _, suf := g.routes[0].suffix(); suf == "" && len(g.routes) == 1 {
			r.Handle(method, path, g.chains[0]...)
		} else {
			r.Handle(method, path, dispatchSuffix(g.routes, g.chains))
		}
	}
	return r
}

// recover turns a panic in a handler into a 500 and a log line: a user
// never sees a stack trace.
func (s *Server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("handler panic", "path", c.Request.URL.Path, "panic", v)
			if !c.Writer.Written() {
				abort(c, http.StatusInternalServerError, codeInternal, "internal error")
			}
		}
	}()
	c.Next()
}

// cors lets a player page on another origin use the API and play URLs.
func (s *Server) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if origin != "" {
		allowed := ""
		for _, o := range s.CORSOrigins {
			if o == "*" || strings.EqualFold(o, origin) {
				allowed = o
				break
			}
		}
		if allowed != "" {
			h := c.Writer.Header()
			if allowed == "*" {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Add("Vary", "Origin")
			}
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Range")
			h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
			h.Set("Access-Control-Expose-Headers", "Content-Length, Content-Range, ETag")
			h.Set("Access-Control-Max-Age", "600")
		}
	}
	if c.Request.Method == http.MethodOptions {
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	st := c.Writer.Status()
	lvl := slog.LevelDebug
	if st >= 500 {
		lvl = slog.LevelWarn
	}
	s.log.Log(c.Request.Context(), lvl, "request", "method", c.Request.Method,
		"path", c.Request.URL.Path, "status", st, "duration", time.Since(start), "remote", c.ClientIP())
}
