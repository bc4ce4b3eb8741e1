package fsstorage

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
)

// TestLocalStaging, over the plugin protocol: the host writes a staged
// file itself and the plugin commits it under a key; a path that is not a
// staged file of the root is refused; staged files left behind are removed
// when the storage is configured again.
func TestLocalStaging(t *testing.T) {
	ctx := t.Context()
	c := plugintest.Start(t, Plugin())
	root := t.TempDir()
	cfg := cty.ObjectVal(map[string]cty.Value{"root": cty.StringVal(root)})
	if err := c.Configure(ctx, sdk.KindStorage, "hot", cfg); err != nil {
		t.Fatal(err)
	}
	st := c.Storage("hot")
	ls, ok := st.(sdk.LocalStager)
	if !ok {
		t.Fatal("the plugin client's storage is not an sdk.LocalStager")
	}
	path, err := ls.StageLocal(ctx)
	if err != nil {
		t.Fatalf("StageLocal() error = %v", err)
	}
	if err := os.WriteFile(path, []byte("written by the host"), 0o644); err != nil {
		t.Fatalf("the host cannot write the staged file: %v", err)
	}
	if err := ls.CommitLocal(ctx, path, "1.2/1.2.3/1.2.3.4.dcm"); err != nil {
		t.Fatalf("CommitLocal() error = %v", err)
	}
	r, err := st.Get(ctx, "1.2/1.2.3/1.2.3.4.dcm", 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "written by the host" {
		t.Errorf("object = %q", got)
	}

	outside := filepath.Join(t.TempDir(), "x.dcm")
	os.WriteFile(outside, []byte("x"), 0o644)
	if err := ls.CommitLocal(ctx, outside, "a.dcm"); err == nil {
		t.Error("a file outside the root was committed")
	}
	left, err := ls.StageLocal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(ctx, sdk.KindStorage, "hot", cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a staged file left behind survived a new configuration: %v", err)
	}
}
