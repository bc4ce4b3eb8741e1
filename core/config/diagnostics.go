package config

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// WriteDiagnostics writes diags to w, each as a compiler-style line
// "file:line:col: error: summary", then, when files holds the source
// (Parser.Files), the line in question with the range underlined, then
// the detail:
//
//	site.hcl:2:3: error: Invalid AE title
//	    2 |   ae_title = ""
//	      |   ^^^^^^^^^^^^^
//	  An AE title cannot be empty.
//
// Lines and columns count from 1; columns count characters.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, files map[string]*hcl.File) error {
	bw := bufio.NewWriter(w)
	for _, d := range diags {
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		if d.Subject != nil {
			fmt.Fprintf(bw, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(bw, "%s: %s\n", sev, d.Summary)
		if d.Subject != nil {
			if f := files[d.Subject.Filename]; f != nil {
				writeSnippet(bw, f.Bytes, *d.Subject)
			}
		}
		if d.Detail != "" {
			fmt.Fprintf(bw, "  %s\n", strings.ReplaceAll(d.Detail, "\n", "\n  "))
		}
	}
	return bw.Flush()
}

// writeSnippet writes the first source line of r and a line of carets
// under the part of it r covers.
func writeSnippet(w io.Writer, src []byte, r hcl.Range) {
	if r.Start.Byte < 0 || r.Start.Byte > len(src) {
		return
	}
	start := bytes.LastIndexByte(src[:r.Start.Byte], '\n') + 1
	end := bytes.IndexByte(src[r.Start.Byte:], '\n')
	if end < 0 {
		end = len(src)
	} else {
		end += r.Start.Byte
	}
	line := strings.TrimRight(string(src[start:end]), "\r")
	from := r.Start.Byte - start
	to := r.End.Byte - start
	if to > len(line) || r.End.Line != r.Start.Line {
		to = len(line)
	}
	if from > len(line) {
		from = len(line)
	}
	if to <= from {
		to = from + 1
	}
	// Keep tabs in the indent so the carets line up under the text.
	indent := []rune(line[:from])
	for i, c := range indent {
		if c != '\t' {
			indent[i] = ' '
		}
	}
	width := len([]rune(line[from:min(to, len(line))]))
	if width == 0 {
		width = 1
	}
	num := fmt.Sprint(r.Start.Line)
	fmt.Fprintf(w, "  %4s | %s\n", num, line)
	fmt.Fprintf(w, "  %4s | %s%s\n", "", string(indent), strings.Repeat("^", width))
}
