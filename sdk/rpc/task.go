package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pacsforge/pacs/sdk"
	"github.com/pacsforge/pacs/sdk/proto/pluginv1"
)

// Task returns the plugin's task instance labelled instance as an
// sdk.Task. Run streams the progress events to progress (called on Run's
// goroutine); cancelling ctx cancels the run in the plugin.
func (c *Client) Task(instance string) sdk.Task {
	return &task{c: c, instance: instance}
}

type task struct {
	c        *Client
	instance string
}

var _ sdk.Task = (*task)(nil)

func (t *task) Run(ctx context.Context, req *sdk.TaskRequest, progress func(sdk.TaskEvent)) (sdk.TaskResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr := &pluginv1.RunRequest{Instance: t.instance, Kind: req.Kind, RunId: req.RunID}
	if !req.ScheduledAt.IsZero() {
		pr.ScheduledAtUnixNano = req.ScheduledAt.UnixNano()
	}
	fail := func(err error) (sdk.TaskResult, error) {
		return sdk.TaskResult{}, fmt.Errorf("run %s %s on %s: %w", req.Kind, req.RunID, t.instance, err)
	}
	stream, err := t.c.task.Run(ctx, pr, t.c.callOpts...)
	if err != nil {
		return fail(t.c.fromStatus(err))
	}
	for {
		ev, err := stream.Recv()
		if err == io.EOF {
			return fail(errors.New("the plugin ended the run without a result"))
		}
		if err != nil {
			return fail(t.c.fromStatus(err))
		}
		switch m := ev.GetMsg().(type) {
		case *pluginv1.RunEvent_Progress:
			if progress != nil {
				progress(sdk.TaskEvent{Done: m.Progress.GetDone(), Total: m.Progress.GetTotal(), Message: m.Progress.GetMessage()})
			}
		case *pluginv1.RunEvent_Result:
			return sdk.TaskResult{Summary: m.Result.GetSummary()}, nil
		}
	}
}
