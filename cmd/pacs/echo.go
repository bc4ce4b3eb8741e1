package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// echoOptions are the settings of pacs echo.
type echoOptions struct {
	scuFlags
	addr    string // host:port
	repeat  int
	verbose bool
}

func runEcho(args []string) int {
	fs := flag.NewFlagSet("echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o echoOptions
	o.register(fs)
	fs.IntVar(&o.repeat, "repeat", 1, "number of C-ECHO requests sent on the association")
	fs.BoolVar(&o.verbose, "v", false, "print a line per echo with its round-trip time")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pacs echo [options] HOST PORT\n\nSends C-ECHO (Verification) to a DICOM peer; exits 0 when every echo succeeds.\n\noptions:\n")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(pos) != 2 || o.repeat < 1 {
		fs.Usage()
		return 2
	}
	if o.addr, err = hostPort(pos[0], pos[1]); err != nil {
		fmt.Fprintf(stderr, "pacs echo: %v\n", err)
		return 2
	}
	if err := echo(context.Background(), o, stdout); err != nil {
		fmt.Fprintf(stderr, "pacs echo: %v\n", err)
		return 1
	}
	return 0
}

// parseInterspersed parses fs allowing options after positional arguments,
// as dcmtk's tools do, and returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// echo opens one association to o.addr, sends o.repeat C-ECHO requests and
// releases it. With o.verbose it writes one line per echo to out.
func echo(ctx context.Context, o echoOptions, out io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, o.timeout*time.Duration(o.repeat+2))
	defer cancel()
	c, err := o.dial(ctx, o.addr, []ul.ProposedContext{dimse.VerificationContext()}, nil, nil)
	if err != nil {
		return err
	}
	for i := 1; i <= o.repeat; i++ {
		ectx, ecancel := context.WithTimeout(ctx, o.timeout)
		t0 := time.Now()
		err := c.Echo(ectx)
		ecancel()
		if err != nil {
			return endAssociation(c, fmt.Errorf("echo %d of %d: %w", i, o.repeat, err))
		}
		if o.verbose {
			fmt.Fprintf(out, "C-ECHO %d/%d to %s (%s): success in %.3f ms\n", i, o.repeat, o.calledAE, o.addr, float64(time.Since(t0).Microseconds())/1000)
		}
	}
	return endAssociation(c, nil)
}
