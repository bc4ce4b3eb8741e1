package sdk

import (
	"context"
	"time"
)

// TaskRequest is one run of a scheduled task.
type TaskRequest struct {
	// Instance is the configured task (task block label); Kind its kind.
	Instance string
	Kind     string
	// RunID identifies this run; ScheduledAt is when it was due.
	RunID       string
	ScheduledAt time.Time
}

// TaskEvent is a progress report of a running task.
type TaskEvent struct {
	// Done and Total count units of work (Total 0: unknown).
	Done, Total int64
	// Message is a line for the run's log.
	Message string
}

// TaskResult is the outcome of a run.
type TaskResult struct {
	// Summary is a one-line account of what the run did.
	Summary string
}

// Task runs scheduled work of the kinds it declares. Run reports progress
// with progress (which is safe to call from any goroutine) and stops when
// ctx is cancelled.
type Task interface {
	Run(ctx context.Context, req *TaskRequest, progress func(TaskEvent)) (TaskResult, error)
}

// TaskFactory returns the Task of one configured instance (a task block)
// with its decoded config.
type TaskFactory[C any] func(ctx context.Context, instance string, cfg *C) (Task, error)
