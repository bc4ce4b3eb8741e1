package main

import (
	"context"
	"fmt"
	"io"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// moveOptions are the settings of pacs move.
type moveOptions struct {
	queryOptions
	destination string
	progress    bool
}

func runMove(args []string) int {
	var o moveOptions
	fs := o.flagSet("move")
	fs.StringVar(&o.destination, "aem", "", "the move destination AE title (default: our -aet); the peer must know its address")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `usage: pacs move [options] HOST PORT

Asks a DICOM peer with C-MOVE (like movescu) to send the matches of the keys
to the AE -aem, for example this archive (pacs serve). Prints the peer's
progress when stderr is a terminal and a summary; exits 1 unless every
sub-operation succeeded. Example:

  pacs move -aec ORTHANC -aem FORGE -k StudyInstanceUID=1.2.3 pacs.example 4242

options:
`)
		fs.PrintDefaults()
	}
	model, ident, _, ok := o.parse(fs, args)
	if !ok {
		return 2
	}
	if o.destination == "" {
		o.destination = o.callingAE
	}
	o.progress = stderrIsTerminal()
	r, err := move(context.Background(), o, model, ident, stderr)
	n, st := r.SubOperations, r.Status
	fmt.Fprintf(stdout, "%s: %s\n", retrieveSummary("moved to "+o.destination, n), st)
	for _, inst := range r.FailedSOPInstanceUIDs {
		fmt.Fprintf(stdout, "failed: %s\n", inst)
	}
	if err != nil {
		fmt.Fprintf(stderr, "pacs move: %v\n", err)
		return 1
	}
	if n.Failed > 0 || n.Warning > 0 {
		return 1
	}
	return 0
}

// move runs one C-MOVE of ident in model to o.destination and returns the
// final status, counts and Failed SOP Instance UID List; progress lines go
// to notes when o.progress.
func move(ctx context.Context, o moveOptions, model string, ident *dicom.Dataset, notes io.Writer) (dimse.RetrieveResult, error) {
	c, err := o.dial(ctx, o.addr, []ul.ProposedContext{nativeContext(model)}, nil, nil)
	if err != nil {
		return dimse.RetrieveResult{}, err
	}
	// A move takes as long as the sub-operations: each pending response
	// restarts the response timeout, which is what bounds it.
	r, err := c.MoveResult(ctx, model, o.destination, ident, progressLine(o.progress, notes))
	clearProgress(o.progress, notes)
	return r, endAssociation(c, err)
}

// progressLine returns the pending-response callback of C-MOVE and C-GET:
// a redrawn line on a terminal, nothing otherwise.
func progressLine(on bool, w io.Writer) func(dimse.SubOperations) error {
	if !on {
		return nil
	}
	return func(n dimse.SubOperations) error {
		done := int(n.Completed) + int(n.Failed) + int(n.Warning)
		fmt.Fprintf(w, "\r%d/%d sub-operations: %d completed, %d failed, %d warning\x1b[K",
			done, done+int(n.Remaining), n.Completed, n.Failed, n.Warning)
		return nil
	}
}

// retrieveSummary formats the final counts of a C-MOVE or C-GET.
func retrieveSummary(what string, n dimse.SubOperations) string {
	return fmt.Sprintf("%s: %d completed, %d failed, %d warning", what, n.Completed, n.Failed, n.Warning)
}
