// Package rpc is the host's side of the Forge PACS plugin protocol: it
// launches nothing itself, but gives go-plugin the plugin set
// (VersionedPlugins) whose dispensed value is a *Client, and the Client
// turns the plugin's gRPC services back into the sdk interfaces
// (sdk.Storage, sdk.SOPHandler, sdk.Task), with the sdk's error sentinels.
package rpc
