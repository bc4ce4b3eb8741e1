package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/pacsforge/pacs/core/dicom/dicomjson"
	"github.com/pacsforge/pacs/core/dicom/dump"
	"github.com/pacsforge/pacs/core/dicom/part10"
	"github.com/pacsforge/pacs/core/dicom/uid"
)

// Output streams of the commands; tests replace them.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func runDump(args []string) int {
	fs := flag.NewFlagSet("dump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print DICOM JSON (PS3.18 F.2) instead of the dcmdump layout")
	raw := fs.Bool("raw", false, "print text as encoded bytes, non-ASCII quoted as octal (dcmdump +Qo)")
	all := fs.Bool("L", false, "print long values completely")
	header := fs.Bool("header", false, "stop before Pixel Data")
	problems := fs.Bool("problems", false, "also list the irregularities the lenient reader accepted")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: pacs dump [options] FILE...\n\nPrints each DICOM file: file meta information and data set.\n\noptions:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	status := 0
	var opts []part10.Option
	if *header {
		opts = append(opts, part10.WithStopAtPixelData())
	}
	dopt := dump.Options{Raw: *raw}
	if *all {
		dopt.MaxValue = -1
	}
	for _, path := range fs.Args() {
		f, err := part10.ReadFile(path, opts...)
		if err != nil {
			out.Flush()
			fmt.Fprintf(stderr, "pacs dump: %v\n", err)
			status = 1
			if f == nil || f.Dataset == nil {
				continue
			}
		}
		if *asJSON {
			b, jerr := dicomjson.Marshal(f.Dataset, dicomjson.Options{Indent: true})
			if jerr != nil {
				fmt.Fprintf(stderr, "pacs dump: %s: %v\n", path, jerr)
				status = 1
				continue
			}
			out.Write(b)
			out.WriteByte('\n')
			continue
		}
		fmt.Fprintf(out, "\n# Dicom-File-Format (%s)\n\n# Dicom-Meta-Information-Header\n", path)
		if f.Meta.Len() > 0 {
			dump.Write(out, f.Meta, dopt)
		}
		fmt.Fprintf(out, "\n# Dicom-Data-Set\n# Used TransferSyntax: %s\n", syntaxName(f.Syntax.UID))
		dump.Write(out, f.Dataset, dopt)
		if *problems {
			for _, p := range f.Problems {
				fmt.Fprintf(out, "# problem: %s\n", p)
			}
		}
	}
	return status
}

func syntaxName(u string) string {
	if info, ok := uid.Lookup(u); ok {
		return info.Name + " (" + u + ")"
	}
	if u == "" {
		return "unknown (detected)"
	}
	return u
}
