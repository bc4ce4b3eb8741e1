package sdk

import (
	"errors"
	"testing"

	"github.com/zclconf/go-cty/cty"
)

func TestCheckKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{key: "a/b/c.dcm", want: true},
		{key: "1.2.840/1.2.3/x", want: true},
		{key: ""},
		{key: "/abs"},
		{key: "a//b"},
		{key: "a/./b"},
		{key: "a/../b"},
		{key: "a/b/"},
		{key: "nul\x00"},
		{key: string(make([]byte, MaxKeyLength+1))},
	}
	for _, tc := range tests {
		if got := CheckKey(tc.key) == nil; got != tc.want {
			t.Errorf("CheckKey(%q) ok = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestDecodeConfigTypeError(t *testing.T) {
	type cfg struct {
		Port  int `hcl:"port"`
		Inner struct {
			N int `hcl:"n"`
		} `hcl:"inner,block"`
	}
	tests := []struct {
		name     string
		val      cty.Value
		wantPath string
	}{
		{name: "fraction for an int", val: cty.ObjectVal(map[string]cty.Value{"port": cty.NumberFloatVal(1.5)}), wantPath: "port"},
		{name: "nested", val: cty.ObjectVal(map[string]cty.Value{"inner": cty.ObjectVal(map[string]cty.Value{"n": cty.StringVal("x")})}), wantPath: "inner.n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c cfg
			err := DecodeConfig(tc.val, &c)
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Path != tc.wantPath || !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("DecodeConfig() error = %v, want a ConfigError at %q", err, tc.wantPath)
			}
		})
	}
}
