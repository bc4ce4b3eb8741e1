package main

import (
	"bufio"
	"flag"
	"fmt"

	"github.com/pacsforge/pacs/core/config"
)

// runConfig is pacs config: validate site files or print the defaults.
//
//	pacs config validate FILE...   print every problem; exit 1 if any file has an error
//	pacs config defaults           print the default configuration as HCL
func runConfig(args []string) int {
	usage := func() {
		fmt.Fprintf(stderr, `usage: pacs config validate FILE...
       pacs config defaults

validate  checks each file as pacs serve would load it, printing every
          problem with file:line:col; exits 1 if a file has an error.
          Nothing is started.
defaults  prints the built-in configuration as HCL, every attribute with
          its default value.
`)
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	fs := flag.NewFlagSet("config "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = usage
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	switch args[0] {
	case "validate":
		if fs.NArg() == 0 {
			usage()
			return 2
		}
		return validateConfigs(fs.Args())
	case "defaults":
		if fs.NArg() != 0 {
			usage()
			return 2
		}
		out := bufio.NewWriter(stdout)
		fmt.Fprintf(out, "# The built-in configuration of pacs serve (pacs config defaults).\n\n")
		out.Write(config.Encode(config.Default()))
		if err := out.Flush(); err != nil {
			fmt.Fprintf(stderr, "pacs config: %v\n", err)
			return 1
		}
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	}
	fmt.Fprintf(stderr, "pacs config: unknown subcommand %q\n", args[0])
	usage()
	return 2
}

// loadConfig returns the configuration of a command: the file at path read
// with p, or config.Default() when path is empty. It prints the file's
// diagnostics to stderr and returns false when any is an error.
func loadConfig(p *config.Parser, path string) (*config.Config, bool) {
	if path == "" {
		return config.Default(), true
	}
	cfg, diags := p.Load(path)
	if len(diags) != 0 {
		config.WriteDiagnostics(stderr, diags, p.Files())
	}
	return cfg, !diags.HasErrors()
}

// validateConfigs loads each file, prints its diagnostics to stderr and a
// line per valid file to stdout, and returns 1 if any file has an error.
func validateConfigs(paths []string) int {
	code := 0
	for _, path := range paths {
		p := config.NewParser()
		cfg, diags := p.Load(path)
		if !diags.HasErrors() {
			diags = append(diags, checkFirstPartyBodies(cfg, p.EvalContext())...)
		}
		if len(diags) != 0 {
			config.WriteDiagnostics(stderr, diags, p.Files())
		}
		if diags.HasErrors() {
			fmt.Fprintf(stderr, "%s: %d error(s)\n", path, len(diags.Errs()))
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: valid\n", path)
	}
	return code
}
