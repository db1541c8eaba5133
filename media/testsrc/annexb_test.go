package testsrc

import (
	"bytes"
	"testing"
)

var splitAnnexBCases = []struct {
	name string
	in   []byte
	want [][]byte
}{
	{"empty", nil, nil},
	{"no start code", []byte{1, 2, 3}, nil},
	{"3-byte", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
	{"4-byte", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
	{"trailing zeros", []byte{0, 0, 0, 1, 0x65, 7, 0, 0, 0, 0, 0, 0, 1, 0x41, 9, 0, 0}, [][]byte{{0x65, 7}, {0x41, 9}}},
	{"garbage before first", []byte{9, 9, 0, 0, 1, 0x09, 0xf0}, [][]byte{{0x09, 0xf0}}},
	{"empty units skipped", []byte{0, 0, 1, 0, 0, 1, 0x06, 5}, [][]byte{{0x06, 5}}},
}

func TestSplitAnnexB(t *testing.T) {
	for _, c := range splitAnnexBCases {
		t.Run(c.name, func(t *testing.T) {
			got := splitAnnexB(c.in)
			if len(got) != len(c.want) {
				t.Fatalf("got %d NALUs %x, want %d %x", len(got), got, len(c.want), c.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], c.want[i]) {
					t.Errorf("NALU %d = %x, want %x", i, got[i], c.want[i])
				}
			}
		})
	}
}

func FuzzSplitAnnexB(f *testing.F) {
	for _, c := range splitAnnexBCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, nalu := range splitAnnexB(in) {
			if len(nalu) == 0 || nalu[len(nalu)-1] == 0 {
				t.Fatalf("NALU %x is empty or ends with zero", nalu)
			}
			if bytes.Contains(nalu, []byte{0, 0, 1}) {
				t.Fatalf("NALU %x contains a start code", nalu)
			}
		}
	})
}
