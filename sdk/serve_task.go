package sdk

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// taskService implements the Task service over the configured task
// instances.
type taskService struct {
	pluginv1.UnimplementedTaskServer
	s *server
}

// Run runs the task and streams its progress, then the result. Progress
// reported after Run returned is dropped.
func (ts *taskService) Run(req *pluginv1.RunRequest, stream pluginv1.Task_RunServer) error {
	impl, err := ts.s.instance(KindTask, req.GetInstance())
	if err != nil {
		return err
	}
	if !slices.Contains(ts.s.p.Task.kinds, req.GetKind()) {
		return status.Errorf(codes.InvalidArgument, "run: plugin %q has no task kind %q", ts.s.p.Name, req.GetKind())
	}
	tr := &TaskRequest{Instance: req.GetInstance(), Kind: req.GetKind(), RunID: req.GetRunId()}
	if ns := req.GetScheduledAtUnixNano(); ns != 0 {
		tr.ScheduledAt = time.Unix(0, ns)
	}
	var (
		mu      sync.Mutex
		done    bool
		sendErr error
	)
	progress := func(ev TaskEvent) {
		mu.Lock()
		defer mu.Unlock()
		if done || sendErr != nil {
			return
		}
		sendErr = stream.Send(&pluginv1.RunEvent{Msg: &pluginv1.RunEvent_Progress{Progress: &pluginv1.Progress{
			Done: ev.Done, Total: ev.Total, Message: ev.Message}}})
	}
	ctx := ts.s.callContext(stream.Context(), KindTask, req.GetInstance())
	res, err := impl.(Task).Run(ctx, tr, progress)
	mu.Lock()
	done = true
	mu.Unlock()
	if err != nil {
		return statusError(fmt.Errorf("run %s %s: %w", req.GetKind(), req.GetRunId(), err))
	}
	return stream.Send(&pluginv1.RunEvent{Msg: &pluginv1.RunEvent_Result{Result: &pluginv1.RunResult{Summary: res.Summary}}})
}
