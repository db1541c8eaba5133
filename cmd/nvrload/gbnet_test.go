package main

import (
	"errors"
	"net"
	"os"
	"testing"
)

func TestParseUDPCounters(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want udpCounters
		err  error
	}{
		{
			name: "linux 6.x",
			in: "Ip: Forwarding DefaultTTL\nIp: 1 64\n" +
				"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
				"Udp: 17134629 121967 5103499 22375368 5103400 0 0 0 0\n" +
				"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
				"UdpLite: 0 0 0 0 0 0 0 0 0\n",
			want: udpCounters{InErrors: 5103499, RcvbufErrors: 5103400},
		},
		{
			name: "columns in another order",
			in:   "Udp: RcvbufErrors InErrors\nUdp: 7 9\n",
			want: udpCounters{InErrors: 9, RcvbufErrors: 7},
		},
		{name: "no values line", in: "Udp: InErrors RcvbufErrors\n", err: errSNMPFormat},
		{name: "no udp", in: "Ip: 1 2\nIp: 3 4\n", err: errSNMPFormat},
		{name: "old kernel without RcvbufErrors", in: "Udp: InDatagrams InErrors\nUdp: 1 2\n", err: errSNMPFormat},
		{name: "not a number", in: "Udp: InErrors RcvbufErrors\nUdp: x 1\n", err: errSNMPFormat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseUDPCounters([]byte(tc.in))
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

// udpTable is a /proc/net/udp of Linux 6.x: inodes 100 (drops 0), 200
// (drops 17) and 300 (drops 5).
const udpTable = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 0100007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 100 2 0000000000000000 0
  124: 0100007F:9C41 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 200 2 0000000000000000 17
  125: 0100007F:62A4 0100007F:13C4 01 00000000:00000000 00:00000000 00000000     0        0 300 2 0000000000000000 5
`

func TestParseSocketDrops(t *testing.T) {
	got := socketDrops{}
	if err := parseSocketDrops([]byte(udpTable), map[uint64]bool{100: true, 200: true, 999: true}, got); err != nil {
		t.Fatal(err)
	}
	want := socketDrops{100: 0, 200: 17}
	if len(got) != len(want) || got[100] != 0 || got[200] != 17 {
		t.Errorf("got %v, want %v", got, want)
	}
	if err := parseSocketDrops([]byte("header\n 1: a b c d e f g h x j k l\n"), nil, socketDrops{}); err == nil {
		t.Error("a bad inode was taken")
	}
}

func TestDropsDelta(t *testing.T) {
	before := socketDrops{1: 5, 2: 0, 3: 9}
	after := socketDrops{1: 7, 2: 0, 4: 3} // 3 closed, 4 opened
	total, sockets := dropsDelta(before, after)
	if total != 5 || sockets != 2 {
		t.Errorf("got %d on %d sockets, want 5 on 2", total, sockets)
	}
}

func TestReadSocketDropsOfThisProcess(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	drops, err := readSocketDrops(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if len(drops) == 0 {
		t.Error("the test's own UDP socket was not found")
	}
	if _, err := readSocketDrops(1 << 30); err == nil {
		t.Error("no error for a pid that does not exist")
	}
}
