package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// moveOptions are the settings of pacs move.
type moveOptions struct {
	scuFlags
	queryFlags
	addr        string
	destination string
	progress    bool
}

func runMove(args []string) int {
	fs := flag.NewFlagSet("move", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o moveOptions
	o.scuFlags.register(fs)
	o.queryFlags.register(fs)
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
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 {
		fs.Usage()
		return 2
	}
	if o.addr, err = hostPort(pos[0], pos[1]); err != nil {
		fmt.Fprintf(stderr, "pacs move: %v\n", err)
		return 2
	}
	if o.destination == "" {
		o.destination = o.callingAE
	}
	ident, _, err := o.identifier()
	if err != nil {
		fmt.Fprintf(stderr, "pacs move: %v\n", err)
		return 2
	}
	model, err := o.model("move")
	if err != nil {
		fmt.Fprintf(stderr, "pacs move: %v\n", err)
		return 2
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
	c, err := o.dial(ctx, o.addr, []ul.ProposedContext{{AbstractSyntax: model,
		TransferSyntaxes: []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}}}, nil, nil)
	if err != nil {
		return dimse.RetrieveResult{}, err
	}
	// A move takes as long as the sub-operations: each pending response
	// restarts the response timeout, which is what bounds it.
	r, err := c.MoveResult(ctx, model, o.destination, ident, progressLine(o.progress, notes))
	if o.progress {
		fmt.Fprint(notes, "\r\x1b[K")
	}
	if err != nil {
		c.Abort()
		return r, err
	}
	if err := c.Close(); err != nil {
		return r, fmt.Errorf("release: %w", err)
	}
	return r, nil
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
