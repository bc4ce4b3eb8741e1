package charset

import (
	"testing"

	"github.com/pacsforge/pacs/core/dicom"
)

func benchmarkDecode(b *testing.B, terms []string, raw string) {
	c := mustNew(b, terms...)
	in := []byte(raw)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Decode(dicom.PN, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeASCII(b *testing.B) {
	benchmarkDecode(b, []string{"ISO_IR 100"}, "Doe^John^^Dr^")
}

func BenchmarkDecodeLatin1(b *testing.B) {
	benchmarkDecode(b, []string{"ISO_IR 100"}, "Buc^J\xe9r\xf4me")
}

func BenchmarkDecodeISO2022Japanese(b *testing.B) {
	benchmarkDecode(b, []string{"", "ISO 2022 IR 87"}, samples[5].raw)
}

func BenchmarkDecodeISO2022Korean(b *testing.B) {
	benchmarkDecode(b, []string{"", "ISO 2022 IR 149"}, samples[8].raw)
}

func BenchmarkDecodeGB18030(b *testing.B) {
	benchmarkDecode(b, []string{"GB18030"}, samples[len(samples)-1].raw)
}

func BenchmarkEncodeISO2022Japanese(b *testing.B) {
	c := mustNew(b, "", "ISO 2022 IR 87")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Encode(dicom.PN, "Yamada^Tarou=山田^太郎=やまだ^たろう"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNew(b *testing.B) {
	terms := []string{"", "ISO 2022 IR 87"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(terms); err != nil {
			b.Fatal(err)
		}
	}
}
