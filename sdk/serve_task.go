package sdk

import "github.com/pacsforge/pacs/sdk/proto/pluginv1"

// taskService implements the Task service over the configured task
// instances.
type taskService struct {
	pluginv1.UnimplementedTaskServer
	s *server
}
