package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"time"

	"github.com/nvr/nvr/media/testsrc"
)

// maxCameras bounds -n of the simulator and of the relay test, so that a
// typo cannot start thousands of streams on a shared machine.
const maxCameras = 1000

// videoClips maps -clip values to the embedded clips.
func videoClips() map[string]string {
	return map[string]string{
		"720p": testsrc.ClipH264HD, // 1280x720 H.264 25 fps, ~2.3 Mbit/s
		"240p": testsrc.ClipH264,   // 320x240 H.264 25 fps
		"h265": testsrc.ClipH265,   // 320x240 H.265 25 fps
	}
}

// audioClips maps -audio values to the embedded clips ("" for none).
func audioClips() map[string]string {
	return map[string]string{"aac": testsrc.ClipAAC, "pcma": testsrc.ClipPCMA, "none": ""}
}

func runCamera(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("camera", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	n := fs.Int("n", 50, "number of cameras, published at <prefix>0 … <prefix>N-1")
	addr := fs.String("addr", "127.0.0.1:8554", "RTSP address (loopback); port 0 uses the simulator's own free port without a forwarder")
	prefix := fs.String("prefix", "cam", "path prefix")
	clip := fs.String("clip", "720p", "video clip: 720p (H.264 1280x720 ~2 Mbit/s), 240p (H.264) or h265 (320x240)")
	audio := fs.String("audio", "aac", "audio clip: aac, pcma or none")
	udp := fs.Bool("udp", true, "also offer RTP over UDP (TCP interleaved is always offered)")
	duration := fs.Duration("duration", 30*time.Minute, "stop after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *n < 1 || *n > maxCameras {
		return fmt.Errorf("-n must be 1 to %d", maxCameras)
	}
	if *duration <= 0 {
		return fmt.Errorf("-duration must be positive")
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if err := checkLoopbackHost(host); err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	videoName, ok := videoClips()[*clip]
	if !ok {
		return fmt.Errorf("-clip %q: want 720p, 240p or h265", *clip)
	}
	audioName, ok := audioClips()[*audio]
	if !ok {
		return fmt.Errorf("-audio %q: want aac, pcma or none", *audio)
	}

	video, err := testsrc.LoadVideo(videoName)
	if err != nil {
		return err
	}
	var aud *testsrc.AudioClip
	if audioName != "" {
		if aud, err = testsrc.LoadAudio(audioName); err != nil {
			return err
		}
	}

	srv, err := testsrc.NewServer(testsrc.ServerConfig{Logger: e.log, UDP: *udp})
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.AddStreams(*prefix, *n, video, aud)

	public := srv.Addr()
	if port != "0" {
		// Each camera is one RTSP connection; leave room for reconnects.
		fw, err := newForwarder(*addr, srv.Addr(), 2**n+16, e.log)
		if err != nil {
			return fmt.Errorf("-addr: %w", err)
		}
		defer fw.close()
		public = *addr
	}
	fmt.Fprintf(e.stdout, "publishing %d cameras: rtsp://%s/%s0 … rtsp://%s/%s%d (%s %dx%d %d fps, audio %s, udp %v) for %s\n",
		*n, public, *prefix, public, *prefix, *n-1, video.Codec, video.Width, video.Height, video.FPS, *audio, *udp, *duration)

	t := time.NewTimer(*duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
	e.log.Info("stopping", "sessions", srv.Sessions())
	return nil
}
