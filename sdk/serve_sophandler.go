package sdk

import "github.com/pacsforge/pacs/sdk/proto/pluginv1"

// sopHandlerService implements the SopHandler service over the configured
// SOP handler instances.
type sopHandlerService struct {
	pluginv1.UnimplementedSopHandlerServer
	s *server
}
