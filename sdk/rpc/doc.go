// Package rpc is the host's side of the Forge PACS plugin protocol: the
// go-plugin plugin set (VersionedPlugins) whose dispensed value is a
// *Client, and the Client, which turns the plugin's gRPC services back into
// the sdk interfaces (sdk.Storage, sdk.SOPHandler, sdk.Task) with the sdk's
// error sentinels (errors.Is(err, sdk.ErrNotFound) works on the host).
//
// Launching a plugin binary and using one of its storage instances:
//
//	gc := goplugin.NewClient(&goplugin.ClientConfig{
//		HandshakeConfig:  rpc.Handshake,
//		VersionedPlugins: rpc.VersionedPlugins(),
//		Cmd:              exec.Command(path),
//		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
//		AutoMTLS:         true,
//		Logger:           log.Named("plugin." + name), // the plugin's JSON stderr lands here
//	})
//	defer gc.Kill()
//	cp, err := gc.Client() // starts the process; a protocol mismatch fails here
//	raw, err := cp.Dispense(rpc.PluginName)
//	c := raw.(*rpc.Client)
//	info, err := c.Info(ctx) // info.Serves(sdk.KindStorage)
//	sch, err := c.Schema(ctx, sdk.KindStorage)
//	val, diags := rpc.DecodeConfig(block.Config.Body, sch.Spec, evalCtx) // env() on the host
//	err = c.Configure(ctx, sdk.KindStorage, "warm", val)
//	diags = rpc.ConfigDiagnostics(block.Config.Body, err) // the plugin's *sdk.ConfigError at file:line
//	var st sdk.Storage = c.Storage("warm")
//
// After a plugin restart the instances are gone: calls fail with
// sdk.ErrNotConfigured until Configure runs again. A dead process gives
// sdk.ErrUnavailable (codes.Unavailable); c.Exited() is closed then.
package rpc
