package rpc_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// envFunc is a stand-in for the host's env(): it returns "from-env-" + name.
var envFunc = function.New(&function.Spec{
	Params: []function.Parameter{{Name: "name", Type: cty.String}},
	Type:   function.StaticReturnType(cty.String),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.StringVal("from-env-" + args[0].AsString()), nil
	},
})

func parseBody(t *testing.T, src string) hcl.Body {
	t.Helper()
	f, diags := hclsyntax.ParseConfig([]byte(src), "site.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("parse: %v", diags)
	}
	return f.Body
}

func TestConfigure(t *testing.T) {
	ctx := context.Background()
	var got *memConfig
	factory := func(ctx context.Context, inst string, cfg *memConfig) (sdk.Storage, error) {
		got = cfg
		return newMem(ctx, inst, cfg)
	}
	c, _ := startPlugin(t, sdk.Plugin{Name: "mem", Version: "1", Storage: sdk.NewStorage(factory)})
	sch, err := c.Schema(ctx, sdk.KindStorage)
	if err != nil {
		t.Fatalf("Schema() error = %v", err)
	}
	if len(sch.Sensitive) != 1 || sch.Sensitive[0] != "secret" {
		t.Errorf("Schema().Sensitive = %q, want [secret]", sch.Sensitive)
	}
	if _, err := c.Schema(ctx, sdk.KindTask); err == nil {
		t.Error("Schema(task) of a storage-only plugin succeeded")
	}
	ectx := &hcl.EvalContext{Functions: map[string]function.Function{"env": envFunc}}
	tests := []struct {
		name      string
		src       string
		wantDiag  bool // a decode diagnostic on the host
		wantPath  string
		wantLine  int
		check     func(t *testing.T, cfg *memConfig)
		wantError error
	}{
		{name: "empty body", src: ``, check: func(t *testing.T, cfg *memConfig) {
			if cfg.Prefix != "" || cfg.Limits != nil || len(cfg.Tags) != 0 {
				t.Errorf("config = %+v, want zero", cfg)
			}
		}},
		{name: "everything", src: "prefix = env(\"P\")\nsecret = \"s3cr3t\"\nlimits {\n  max_bytes = 10\n}\ntag {\n  name = \"a\"\n}\ntag {\n  name = \"b\"\n  value = \"v\"\n}\n",
			check: func(t *testing.T, cfg *memConfig) {
				if cfg.Prefix != "from-env-P" || cfg.Secret != "s3cr3t" || cfg.Limits == nil || cfg.Limits.MaxBytes != 10 ||
					len(cfg.Tags) != 2 || cfg.Tags[1].Name != "b" || cfg.Tags[1].Value != "v" {
					t.Errorf("config = %+v", cfg)
				}
			}},
		{name: "plugin objects to an attribute", src: "secret = \"x\"\nprefix = \"bad\"\n", wantPath: "prefix", wantLine: 2, wantError: sdk.ErrInvalidConfig},
		{name: "plugin objects to a nested attribute", src: "limits {\n  max_bytes = -1\n}\n", wantPath: "limits.max_bytes", wantLine: 2, wantError: sdk.ErrInvalidConfig},
		{name: "unknown attribute", src: "bucket = \"x\"\n", wantDiag: true},
		{name: "wrong type", src: "limits {\n  max_bytes = \"many\"\n}\n", wantDiag: true},
		{name: "missing required", src: "limits {\n}\n", wantDiag: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := parseBody(t, tc.src)
			val, diags := rpc.DecodeConfig(body, sch.Spec, ectx)
			if diags.HasErrors() != tc.wantDiag {
				t.Fatalf("DecodeConfig() diags = %v, want errors %v", diags, tc.wantDiag)
			}
			if tc.wantDiag {
				return
			}
			got = nil
			err := c.Configure(ctx, sdk.KindStorage, "m", val)
			if tc.wantError != nil {
				if !errors.Is(err, tc.wantError) {
					t.Fatalf("Configure() error = %v, want %v", err, tc.wantError)
				}
				ces := rpc.ConfigErrors(err)
				if len(ces) != 1 || ces[0].Path != tc.wantPath {
					t.Fatalf("ConfigErrors() = %v, want one at %q", ces, tc.wantPath)
				}
				d := rpc.ConfigDiagnostics(body, err)
				if len(d) != 1 || d[0].Subject.Filename != "site.hcl" || d[0].Subject.Start.Line != tc.wantLine {
					t.Fatalf("ConfigDiagnostics() = %v, want site.hcl:%d", d, tc.wantLine)
				}
				return
			}
			if err != nil {
				t.Fatalf("Configure() error = %v", err)
			}
			tc.check(t, got)
			if red := rpc.Redacted(val, sch.Sensitive); !val.IsNull() && red.GetAttr("secret").Equals(val.GetAttr("secret")).True() && !val.GetAttr("secret").IsNull() {
				t.Error("Redacted() left the secret")
			}
		})
	}
}

func TestConfigRange(t *testing.T) {
	body := parseBody(t, "a = 1\nb {\n  c = 2\n}\nl {\n  x = 1\n}\nl {\n  x = 2\n}\n")
	tests := []struct {
		path     string
		wantLine int
	}{
		{path: "a", wantLine: 1},
		{path: "b", wantLine: 2},
		{path: "b.c", wantLine: 3},
		{path: "l[1].x", wantLine: 9},
		{path: "missing", wantLine: 1},   // where the body starts
		{path: "b.missing", wantLine: 2}, // the block's body
	}
	for _, tc := range tests {
		if got := rpc.ConfigRange(body, tc.path); got.Start.Line != tc.wantLine {
			t.Errorf("ConfigRange(%q) = %v, want line %d", tc.path, got, tc.wantLine)
		}
	}
}

func TestSchemaOfRejects(t *testing.T) {
	type withLabel struct {
		Name string `hcl:"name,label"`
	}
	if _, err := sdk.SchemaOf[withLabel](); err == nil {
		t.Error("SchemaOf(a struct with a label field) succeeded")
	}
	if _, err := sdk.SchemaOf[int](); err == nil {
		t.Error("SchemaOf(int) succeeded")
	}
	if _, err := sdk.NewServeConfig(sdk.Plugin{Name: "bad", Storage: sdk.NewStorage(func(context.Context, string, *withLabel) (sdk.Storage, error) { return nil, nil })}); err == nil {
		t.Error("NewServeConfig() with a bad config type succeeded")
	}
}
