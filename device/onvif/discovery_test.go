package onvif

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nvr/nvr/device/onvif/onvifsim"
)

func TestParseProbeMatches(t *testing.T) {
	got, err := parseProbeMatches(readTestdata(t, "discovery/ProbeMatches_two_default_ns.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Discovered{
		{
			EndpointRef: "urn:uuid:11111111-2222-4333-8444-555555555555",
			XAddrs:      []string{"http://192.168.7.10/onvif/device_service", "http://[fe80::1]/onvif/device_service"},
			Name:        "Front Door NVR", Hardware: "NVR-16", Location: "country/germany, city/München",
			Types: []string{"NetworkVideoTransmitter", "Device"},
			Scopes: []string{"onvif://www.onvif.org/name/Front%20Door%20NVR", "onvif://www.onvif.org/hardware/NVR-16",
				"onvif://www.onvif.org/location/country/germany", "onvif://www.onvif.org/location/city/M%C3%BCnchen",
				"onvif://www.onvif.org/type/video_encoder"},
		},
		{
			EndpointRef: "urn:uuid:66666666-7777-4888-9999-aaaaaaaaaaaa",
			XAddrs:      []string{"http://192.168.7.11:8080/onvif/device_service"},
			Name:        "bad%zzescape",
			Types:       []string{"NetworkVideoTransmitter"},
			Scopes:      []string{"onvif://www.onvif.org/name/bad%zzescape"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}

	vendors := map[string][3]string{
		"hikvision": {"HIKVISION DS-2DE4425IW-DE", "DS-2DE4425IW-DE", "city/hangzhou"},
		"dahua":     {"Dahua", "SD49225XA-HNR", "country/china"},
		"axis":      {"AXIS Q6075-E", "Q6075-E", ""},
	}
	for v, w := range vendors {
		got, err := parseProbeMatches(readTestdata(t, "sim/"+v+"/ProbeMatches.xml"))
		if err != nil || len(got) != 1 {
			t.Fatalf("%s: %v, %v", v, got, err)
		}
		d := got[0]
		if d.Name != w[0] || d.Hardware != w[1] || d.Location != w[2] || !strings.HasPrefix(d.EndpointRef, "urn:uuid:") ||
			!reflect.DeepEqual(d.XAddrs, []string{"http://192.168.1.64/onvif/device_service"}) {
			t.Errorf("%s: %+v", v, d)
		}
	}

	for _, f := range []string{"discovery/Hello.xml", "soap/not_onvif.html", "sim/axis/GetProfiles.xml"} {
		if got, err := parseProbeMatches(readTestdata(t, f)); err == nil {
			t.Errorf("%s parsed as ProbeMatches: %+v", f, got)
		}
	}
	probe := buildProbe("urn:uuid:x")
	if _, err := parseProbeMatches(probe); err == nil {
		t.Error("our own probe parsed as ProbeMatches")
	}
}

func TestMessageID(t *testing.T) {
	a, _ := newMessageID()
	b, _ := newMessageID()
	if a == b || len(a) != len("urn:uuid:")+36 || a[len("urn:uuid:")+14] != '4' {
		t.Errorf("%s %s", a, b)
	}
}

// udpNoise answers every datagram with things that are not ProbeMatches.
func udpNoise(t *testing.T) string {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	hello := readTestdata(t, "discovery/Hello.xml")
	go func() {
		buf := make([]byte, 65535)
		for {
			_, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			c.WriteToUDP([]byte("garbage \x00"), from)
			c.WriteToUDP(hello, from)
		}
	}()
	return c.LocalAddr().String()
}

func TestDiscoverUnicast(t *testing.T) {
	checkGoroutines(t)
	hik := newSim(t, onvifsim.Config{DiscoveryAddr: "127.0.0.1:0"})
	axis := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorAxis, DiscoveryAddr: "127.0.0.1:0"})
	noise := udpNoise(t)
	start := time.Now()
	found, err := Discover(testContext(t), DiscoverOptions{
		// The Hikvision simulator twice: one device in the result.
		Addresses: []string{hik.DiscoveryAddr(), axis.DiscoveryAddr(), noise, hik.DiscoveryAddr()},
		Timeout:   700 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 600*time.Millisecond || took > 3*time.Second {
		t.Errorf("collected for %v", took)
	}
	if len(found) != 2 {
		t.Fatalf("found %d devices: %+v", len(found), found)
	}
	byName := map[string]Discovered{}
	for _, d := range found {
		byName[d.Name] = d
	}
	h := byName["HIKVISION DS-2DE4425IW-DE"]
	if !reflect.DeepEqual(h.XAddrs, []string{hik.XAddr()}) || h.Hardware != "DS-2DE4425IW-DE" || h.Location != "city/hangzhou" ||
		h.From != hik.DiscoveryAddr() || !reflect.DeepEqual(h.Types, []string{"NetworkVideoTransmitter", "Device"}) || h.EndpointRef == "" {
		t.Errorf("hikvision: %+v", h)
	}
	if a := byName["AXIS Q6075-E"]; !reflect.DeepEqual(a.XAddrs, []string{axis.XAddr()}) || a.EndpointRef == h.EndpointRef {
		t.Errorf("axis: %+v", a)
	}

	// What Discover found is a device Probe can onboard.
	if _, err := Probe(testContext(t), h.XAddrs[0], testUser, testPass, WithTransport(loopbackTransport(t))); err != nil {
		t.Errorf("probe of the discovered device: %v", err)
	}
}

func TestDiscoverErrors(t *testing.T) {
	if _, err := Discover(testContext(t), DiscoverOptions{Addresses: []string{"127.0.0.1:99999"}, Timeout: 100 * time.Millisecond}); err == nil {
		t.Error("bad port accepted")
	}
	if _, err := Discover(testContext(t), DiscoverOptions{Interfaces: []string{"no-such-if0"}, Timeout: 100 * time.Millisecond}); err == nil {
		t.Error("unknown interface accepted")
	}
	// A cancelled context ends collecting at once.
	ctx, cancel := contextCancelledSoon(t, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Discover(ctx, DiscoverOptions{Addresses: []string{"127.0.0.1:9"}, Timeout: 10 * time.Second})
	if err == nil || time.Since(start) > 2*time.Second {
		t.Errorf("cancel: %v after %v", err, time.Since(start))
	}
}

// envNetns marks the re-executed test binary running in its own network
// namespace.
const envNetns = "NVR_ONVIF_IN_NETNS"

// TestDiscoverMulticast sends a real multicast probe on "lo" and gets the
// simulator's answer. Multicast is only ever sent inside a network namespace
// of its own: the test binary runs itself again under unshare(1).
func TestDiscoverMulticast(t *testing.T) {
	if os.Getenv(envNetns) == "1" {
		discoverMulticastInNamespace(t)
		return
	}
	unshare, err := exec.LookPath("unshare")
	if err == nil {
		_, err = exec.LookPath("ip")
	}
	if err != nil {
		// A missing tool: CI installs it (.ci/run), so there it fails.
		if os.Getenv("NVR_REQUIRE_TOOLS") == "1" {
			t.Fatalf("unshare/ip missing: %v", err)
		}
		t.Skipf("unshare/ip missing: %v", err)
	}
	var flag string
	// -n needs root; -rn maps us to root in a new user namespace.
	for _, f := range []string{"-n", "-rn"} {
		if exec.Command(unshare, f, "true").Run() == nil {
			flag = f
			break
		}
	}
	if flag == "" {
		// Not a missing tool but a sandbox that forbids namespaces: no
		// install step can help, and multicast must not leave one.
		t.Skip("this machine does not allow a network namespace (unshare -n and -rn refused)")
	}
	script := `ip link set lo up multicast on && ip route add 239.0.0.0/8 dev lo && exec "$0" -test.run='^TestDiscoverMulticast$' -test.v -test.count=1`
	cmd := exec.CommandContext(testContext(t), unshare, flag, "--", "sh", "-c", script, os.Args[0])
	cmd.Env = append(os.Environ(), envNetns+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: TestDiscoverMulticast")) {
		t.Fatalf("in namespace: %v\n%s", err, out)
	}
	t.Logf("in namespace (unshare %s):\n%s", flag, bytes.TrimSpace(out))
}

func discoverMulticastInNamespace(t *testing.T) {
	checkGoroutines(t)
	sim := newSim(t, onvifsim.Config{Vendor: onvifsim.VendorDahua, MulticastInterface: "lo"})
	found, err := Discover(testContext(t), DiscoverOptions{Interfaces: []string{"lo"}, Timeout: 700 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != "Dahua" || !reflect.DeepEqual(found[0].XAddrs, []string{sim.XAddr()}) {
		t.Fatalf("found %+v", found)
	}
	t.Logf("found %s at %v from %s", found[0].EndpointRef, found[0].XAddrs, found[0].From)
}
