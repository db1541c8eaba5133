package manscdp

import "testing"

// BenchmarkDecodeCatalog100 decodes one GB2312 catalog response of 100
// channels with Chinese names, the largest part a device sends in practice.
func BenchmarkDecodeCatalog100(b *testing.B) {
	body := catalogParts(b, "34020000001180000001", 1, 100, 100)[0]
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m, _, err := Decode(body, GB2312)
		if err != nil || len(m.Catalog.Items) != 100 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeKeepalive decodes the message every device sends every
// minute.
func BenchmarkDecodeKeepalive(b *testing.B) {
	body := readBody(b, "hikvision_keepalive.xml")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(body, GB2312); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeCatalog100 encodes a 100-channel catalog response in
// GB2312, as the simulator and a cascade answer.
func BenchmarkEncodeCatalog100(b *testing.B) {
	body := catalogParts(b, "34020000001180000001", 1, 100, 100)[0]
	m, _, err := Decode(body, GB2312)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(m, GB2312); err != nil {
			b.Fatal(err)
		}
	}
}
