// Command nvrload measures the nvr against the performance targets of
// issue #2: it simulates cameras, adds them to a running nvr, opens
// HTTP-FLV viewers, and samples the nvr process's CPU time and memory from
// /proc. See docs/performance.md for the figures and how they were taken.
//
//	nvrload camera     -n 50 -addr 127.0.0.1:8554 -clip 720p
//	nvrload relay      -nvr http://127.0.0.1:8080 -pass X -n 50 -duration 60s -pid PID
//	nvrload viewers    -nvr http://127.0.0.1:8080 -pass X -n 500 -duration 30s -pid PID
//	nvrload firstframe -nvr http://127.0.0.1:8080 -pass X -n 50
//	nvrload gb         -nvr http://127.0.0.1:8080 -pass X -n 200 -transport udp -pid PID -sim-pid PID
//	nvrload gbfirstframe -nvr http://127.0.0.1:8080 -pass X -n 50
//
// Every address must be a loopback one, and every command ends by itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is what a command writes to: results to stdout, flag errors to
// stderr, progress to log.
type env struct {
	stdout, stderr io.Writer
	log            *slog.Logger
}

// command is one subcommand: it parses its flags from args and returns an
// error for the exit code.
type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) error
}

func commands() []command {
	return []command{
		{"camera", "publish simulated RTSP cameras until interrupted or -duration", runCamera},
		{"relay", "add N cameras to the nvr and measure its CPU and RSS per camera", runRelay},
		{"viewers", "open N HTTP-FLV viewers of one camera and measure delivery and CPU per viewer", runViewers},
		{"firstframe", "measure the time from request to the first keyframe of a new viewer", runFirstFrame},
		{"gb", "start N GB28181 channels (always_on) and measure CPU, RSS, UDP drops and loss per channel", runGB},
		{"gbfirstframe", "measure cold starts (INVITE included) of GB28181 channels to the first keyframe", runGBFirstFrame},
	}
}

// run is main without the process, so that tests can drive it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: nvrload <command> [flags]   (nvrload <command> -h for its flags)")
		fmt.Fprintln(stderr, "\ncommands:")
		for _, c := range commands() {
			fmt.Fprintf(stderr, "  %-13s %s\n", c.name, c.summary)
		}
		fmt.Fprintln(stderr, "\nglobal flag (before the command): -log-level debug|info|warn|error")
	}
	global := flag.NewFlagSet("nvrload", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = usage
	level := global.String("log-level", "info", "least severe level logged")
	if err := global.Parse(args); err != nil {
		return 2
	}
	if global.NArg() == 0 {
		usage()
		return 2
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(stderr, "nvrload: -log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	name, rest := global.Arg(0), global.Args()[1:]
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		e := env{stdout: stdout, stderr: stderr, log: log.With("component", "nvrload", "command", name)}
		err := c.run(ctx, e, rest)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		}
		fmt.Fprintf(stderr, "nvrload %s: %v\n", name, err)
		return 1
	}
	fmt.Fprintf(stderr, "nvrload: unknown command %q\n", name)
	usage()
	return 2
}

// errUsage is returned by a command whose flags are wrong; the flag
// package has already said why.
var errUsage = errors.New("usage")

// parseFlags parses a command's flags, turning a parse error into errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %q\n", fs.Args())
		return errUsage
	}
	return nil
}
