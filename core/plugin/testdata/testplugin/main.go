// Command testplugin is a storage plugin for core/plugin's tests: an
// in-memory backend whose instances can be told to hang in Put, and which
// can speak another protocol version (-protocol 2).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/storagetest"
)

// Config is an instance's config { } body.
type Config struct {
	// HangPut makes Put never return.
	HangPut bool `hcl:"hang_put,optional"`
	// Token is a secret that must never be logged by the host.
	Token string `hcl:"token,optional"`
	// Refuse makes Configure refuse the token with this message.
	Refuse string `hcl:"refuse,optional"`
}

type hanging struct{ *storagetest.Memory }

func (h hanging) Put(ctx context.Context, key string, r io.Reader, size int64) (sdk.ObjectInfo, error) {
	io.Copy(io.Discard, r)
	select {} // stops answering
}

func main() {
	protocol := flag.Int("protocol", sdk.ProtocolVersion, "protocol version to announce")
	flag.Parse()
	log := hclog.New(&hclog.LoggerOptions{Name: "testplugin", Output: os.Stderr, JSONFormat: true, Level: hclog.Debug})
	p := sdk.Plugin{
		Name:    "testplugin",
		Version: "1.2.3",
		Logger:  log,
		Storage: sdk.NewStorage(func(ctx context.Context, instance string, cfg *Config) (sdk.Storage, error) {
			if cfg.Refuse != "" {
				return nil, &sdk.ConfigError{Path: "token", Message: cfg.Refuse}
			}
			log.Info("configured test instance", "instance", instance, "hang_put", cfg.HangPut)
			if cfg.HangPut {
				return hanging{storagetest.NewMemory()}, nil
			}
			return storagetest.NewMemory(), nil
		}),
	}
	cfg, err := sdk.NewServeConfig(p)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if *protocol != sdk.ProtocolVersion {
		set := cfg.VersionedPlugins[sdk.ProtocolVersion]
		cfg.HandshakeConfig.ProtocolVersion = uint(*protocol)
		cfg.VersionedPlugins = map[int]goplugin.PluginSet{*protocol: set}
	}
	goplugin.Serve(cfg)
}
