package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	goplugin "github.com/hashicorp/go-plugin"
	"github.com/zclconf/go-cty/cty"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/plugintest"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
	"github.com/pacsforge/pacs/sdk/rpc"
)

// startPlugin starts p in process and returns the client and go-plugin's
// client.
func startPlugin(t *testing.T, p sdk.Plugin) (*rpc.Client, *goplugin.Client) {
	t.Helper()
	return plugintest.StartClient(t, p)
}

// rawStorage returns a bare gRPC Storage client to the plugin behind gc.
func rawStorage(t *testing.T, gc *goplugin.Client) pluginv1.StorageClient {
	t.Helper()
	cp, err := gc.Client()
	if err != nil {
		t.Fatal(err)
	}
	return pluginv1.NewStorageClient(cp.(*goplugin.GRPCClient).Conn)
}

func startMemRaw(t *testing.T) (*rpc.Client, pluginv1.StorageClient, *memStorage) {
	t.Helper()
	mem := &memStorage{objects: map[string][]byte{}}
	factory := func(context.Context, string, *memConfig) (sdk.Storage, error) { return mem, nil }
	c, gc := startPlugin(t, sdk.Plugin{Name: "mem", Version: "1", Storage: sdk.NewStorage(factory)})
	if err := c.Configure(context.Background(), sdk.KindStorage, "mem", cty.NullVal(cty.DynamicPseudoType)); err != nil {
		t.Fatal(err)
	}
	return c, rawStorage(t, gc), mem
}

func TestPutChecksumMismatch(t *testing.T) {
	ctx := context.Background()
	_, raw, mem := startMemRaw(t)
	tests := []struct {
		name    string
		size    int64
		trailer *pluginv1.PutTrailer
	}{
		{name: "wrong sha", size: 5, trailer: &pluginv1.PutTrailer{Size: 5, Sha256: "00"}},
		{name: "wrong trailer size", size: -1, trailer: &pluginv1.PutTrailer{Size: 4, Sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}},
		{name: "wrong header size", size: 6, trailer: &pluginv1.PutTrailer{Size: 5, Sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}},
		{name: "no trailer", size: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream, err := raw.Put(ctx)
			if err != nil {
				t.Fatal(err)
			}
			msgs := []*pluginv1.PutRequest{
				{Msg: &pluginv1.PutRequest_Header{Header: &pluginv1.PutHeader{Instance: "mem", Key: "k", Size: tc.size}}},
				{Msg: &pluginv1.PutRequest_Chunk{Chunk: []byte("hello")}},
			}
			if tc.trailer != nil {
				msgs = append(msgs, &pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Trailer{Trailer: tc.trailer}})
			}
			for _, m := range msgs {
				if err := stream.Send(m); err != nil {
					break
				}
			}
			_, err = stream.CloseAndRecv()
			if err == nil {
				t.Fatal("Put with a bad trailer succeeded")
			}
			if tc.trailer != nil && status.Code(err) != codes.DataLoss {
				t.Errorf("Put() code = %v, want DataLoss", status.Code(err))
			}
			if mem.has("k") {
				t.Fatal("object stored despite the mismatch")
			}
		})
	}
	// A correct trailer stores.
	stream, _ := raw.Put(ctx)
	stream.Send(&pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Header{Header: &pluginv1.PutHeader{Instance: "mem", Key: "k", Size: 5}}})
	stream.Send(&pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Chunk{Chunk: []byte("hello")}})
	stream.Send(&pluginv1.PutRequest{Msg: &pluginv1.PutRequest_Trailer{Trailer: &pluginv1.PutTrailer{Size: 5,
		Sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}})
	if _, err := stream.CloseAndRecv(); err != nil || !mem.has("k") {
		t.Fatalf("Put with a correct trailer: %v", err)
	}
}

// blockingReader yields n bytes, then signals and blocks until ctx ends.
type blockingReader struct {
	ctx     context.Context
	n       int
	reached chan struct{}
}

func (r *blockingReader) Read(p []byte) (int, error) {
	if r.n > 0 {
		m := min(len(p), r.n)
		r.n -= m
		return m, nil
	}
	close(r.reached)
	<-r.ctx.Done()
	return 0, r.ctx.Err()
}

func TestPutCancelled(t *testing.T) {
	c, _, mem := startMemRaw(t)
	ctx, cancel := context.WithCancel(context.Background())
	r := &blockingReader{ctx: ctx, n: 3 << 20, reached: make(chan struct{})}
	go func() {
		<-r.reached
		cancel()
	}()
	_, err := c.Storage("mem").Put(ctx, "cancelled", r, 10<<20)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Put() error = %v, want context.Canceled", err)
	}
	// A later call on the same connection works and the object is absent.
	if _, err := c.Storage("mem").Stat(context.Background(), "cancelled"); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("Stat() after a cancelled Put: error = %v, want sdk.ErrNotFound", err)
	}
	if mem.has("cancelled") {
		t.Fatal("a cancelled Put stored its object")
	}
}

// readErr fails after a few bytes.
type readErr struct{ n int }

func (r *readErr) Read(p []byte) (int, error) {
	if r.n > 0 {
		m := min(len(p), r.n)
		r.n -= m
		return m, nil
	}
	return 0, io.ErrClosedPipe
}

func TestPutReadError(t *testing.T) {
	c, _, mem := startMemRaw(t)
	_, err := c.Storage("mem").Put(context.Background(), "broken", &readErr{n: 2 << 20}, -1)
	if !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("Put() error = %v, want the reader's error", err)
	}
	if mem.has("broken") {
		t.Fatal("a Put whose reader failed stored its object")
	}
}

// panicky panics in Stat and in Put.
type panicky struct{ *memStorage }

func (p panicky) Stat(context.Context, string) (sdk.ObjectInfo, error) { panic("stat panics") }

func TestPanicInPlugin(t *testing.T) {
	ctx := context.Background()
	mem := &memStorage{objects: map[string][]byte{}}
	factory := func(context.Context, string, *memConfig) (sdk.Storage, error) { return panicky{mem}, nil }
	c := plugintest.Start(t, sdk.Plugin{Name: "panicky", Version: "1", Storage: sdk.NewStorage(factory)})
	if err := c.Configure(ctx, sdk.KindStorage, "p", cty.NullVal(cty.DynamicPseudoType)); err != nil {
		t.Fatal(err)
	}
	st := c.Storage("p")
	if _, err := st.Stat(ctx, "x"); status.Code(err) != codes.Internal {
		t.Fatalf("Stat() (panics) error = %v, want codes.Internal", err)
	}
	if _, err := st.Put(ctx, "panic", bytes.NewReader([]byte("x")), 1); status.Code(err) != codes.Internal {
		t.Fatalf("Put() (panics) error = %v, want codes.Internal", err)
	}
	// The process lives on.
	if _, err := st.Put(ctx, "ok", bytes.NewReader([]byte("x")), 1); err != nil {
		t.Fatalf("Put() after panics: %v", err)
	}
}

func TestInfoAndHealth(t *testing.T) {
	ctx := context.Background()
	c, _ := startPlugin(t, sdk.Plugin{Name: "mem", Version: "1.2.3", Storage: sdk.NewStorage(newMem)})
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "mem" || info.Version != "1.2.3" || info.SDKVersion != sdk.SDKVersion || !info.Serves(sdk.KindStorage) || info.Serves(sdk.KindTask) {
		t.Errorf("Info() = %+v", info)
	}
	if err := c.Health(ctx, sdk.KindStorage, "x"); !errors.Is(err, sdk.ErrNotConfigured) {
		t.Errorf("Health(unconfigured) error = %v, want sdk.ErrNotConfigured", err)
	}
	up := cty.ObjectVal(map[string]cty.Value{"prefix": cty.StringVal("up")})
	down := cty.ObjectVal(map[string]cty.Value{"prefix": cty.StringVal("down")})
	for _, v := range []cty.Value{up, down} {
		if err := c.Configure(ctx, sdk.KindStorage, v.GetAttr("prefix").AsString(), v); err != nil {
			t.Fatalf("Configure() error = %v", err)
		}
	}
	if err := c.Health(ctx, sdk.KindStorage, "up"); err != nil {
		t.Errorf("Health(up) error = %v", err)
	}
	var he *rpc.HealthError
	if err := c.Health(ctx, sdk.KindStorage, "down"); !errors.As(err, &he) || he.Degraded || !errors.Is(err, sdk.ErrUnavailable) {
		t.Errorf("Health(down) error = %v, want a HealthError (down)", err)
	}
}
