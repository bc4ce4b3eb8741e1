// Command pacs is Forge PACS: the archive server and its DICOM tools.
//
//	pacs dump [--json] [--raw] [-L] FILE...   print data sets like dcmdump
//	pacs echo [-aet A] [-aec B] [--repeat N] [--timeout D] [-v] HOST PORT
//	pacs store [-aet A] [-aec B] [-j N] [--timeout D] HOST PORT FILE|DIR...
//	pacs find [-aet A] [-aec B] [-P|-S] [-L LEVEL] [-k KEY=VALUE]... [--json] HOST PORT
//	pacs move [-aet A] [-aec B] -aem DEST [-P|-S] [-L LEVEL] [-k KEY=VALUE]... HOST PORT
//	pacs get [-aet A] [-aec B] [-P|-S] [-L LEVEL] [-k KEY=VALUE]... [-od DIR] HOST PORT
//	pacs serve [--config FILE] [--ae-title FORGE] [--port 11112] [--data-dir D] [--strict-ae] [-log-level L] [-log-json]
//	pacs verify [--data-dir D | --config FILE]
//	pacs config validate FILE... | pacs config defaults
//	pacs plugins list|check [--config FILE]
package main

import (
	"fmt"
	"os"
)

// command is one subcommand of pacs.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

func commands() []command {
	return []command{
		{name: "dump", summary: "print DICOM files (dcmdump layout, or DICOM JSON with --json)", run: runDump},
		{name: "echo", summary: "send C-ECHO to a DICOM peer (like echoscu)", run: runEcho},
		{name: "store", summary: "send DICOM files and folders with C-STORE (like storescu)", run: runStore},
		{name: "find", summary: "query a DICOM peer with C-FIND (like findscu)", run: runFind},
		{name: "move", summary: "ask a DICOM peer to send matches to an AE with C-MOVE (like movescu)", run: runMove},
		{name: "get", summary: "retrieve matches from a DICOM peer with C-GET into a folder (like getscu)", run: runGet},
		{name: "serve", summary: "run the DICOM server (C-ECHO, C-STORE; AE FORGE, port 11112)", run: runServe},
		{name: "verify", summary: "check that the index and the stored objects agree", run: runVerify},
		{name: "config", summary: "check configuration files, or print the defaults as HCL", run: runConfig},
		{name: "plugins", summary: "list the configured plugins, or start and check them", run: runPlugins},
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: pacs <command> [arguments]\n\ncommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'pacs <command> -h' for a command's options.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == pluginServeCommand { // hidden: the plugin manager re-executes pacs with it
		os.Exit(runPluginServe(os.Args[2:]))
	}
	for _, c := range commands() {
		if c.name == name {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	if name == "-h" || name == "--help" || name == "help" {
		usage()
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "pacs: unknown command %q\n", name)
	usage()
	os.Exit(2)
}
