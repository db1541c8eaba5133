// Command nvr runs the video platform: the API and play URLs over HTTP, the
// media hub, and (in later releases) the GB28181 SIP server and ONVIF.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"gopkg.in/yaml.v3"

	"github.com/nvr/nvr/config"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it returns the exit code, so that tests
// can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nvr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("c", "", "configuration file (YAML); every key has a default")
	showVersion := fs.Bool("version", false, "print the version and exit")
	printConfig := fs.Bool("print-config", false, "print the effective configuration as YAML and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: nvr [-c nvr.yaml]\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nenvironment overrides:\n")
		for _, e := range config.EnvVars() {
			fmt.Fprintf(stderr, "  %-24s %s (%s)\n", e.Name, e.Help, e.Key)
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "nvr", version)
		return 0
	}
	cfg, err := config.Load(*cfgPath)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintln(stderr, "nvr:", err)
		return 1
	}
	if *printConfig {
		if cfg.Admin.Password != "" {
			cfg.Admin.Password = "***"
		}
		if err := yaml.NewEncoder(stdout).Encode(cfg); err != nil {
			fmt.Fprintln(stderr, "nvr:", err)
			return 1
		}
		return 0
	}
	log := newLogger(stderr, cfg.Log)
	a, err := newApp(ctx, cfg, log)
	if err != nil {
		log.Error("start-up failed", "error", err)
		return 1
	}
	if err := a.serve(ctx); err != nil {
		log.Error("server failed", "error", err)
		a.shutdown()
		return 1
	}
	a.shutdown()
	log.Info("stopped")
	return 0
}

func newLogger(w io.Writer, c config.LogConfig) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
