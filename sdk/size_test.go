package sdk

import "testing"

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "65536", want: 65536}, {in: "64KiB", want: 65536}, {in: "16MB", want: 16000000}, {in: "1 MiB", want: 1 << 20},
		{in: "2GiB", want: 2 << 30}, {in: "10kB", want: 10000}, {in: "10KB", want: 10000}, {in: "7B", want: 7}, {in: "0", want: 0},
		{in: "8MiB", want: 8 << 20}, {in: "5 MiB", want: 5 << 20}, {in: "1GiB", want: 1 << 30}, {in: "10MB", want: 10e6},
		{in: "1048576", want: 1 << 20}, {in: "512B", want: 512}, {in: "9223372036854775807", want: 1<<63 - 1},
		{in: "", wantErr: true}, {in: "KiB", wantErr: true}, {in: "64kib", wantErr: true}, {in: "-1", wantErr: true},
		{in: "-1MiB", wantErr: true}, {in: "+1", wantErr: true}, {in: "1.5MB", wantErr: true}, {in: "1.5MiB", wantErr: true},
		{in: "64 K", wantErr: true}, {in: "1TiB", wantErr: true}, {in: "9999999999TiB", wantErr: true},
		{in: "9999999999999GiB", wantErr: true}, {in: "99999999999999999999", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}
