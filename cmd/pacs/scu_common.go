package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pacsforge/pacs/core/config"
	"github.com/pacsforge/pacs/core/dicom"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/ul"
)

// maxContexts is the most presentation contexts one association may propose
// (PS3.8 §9.3.2.2: odd context IDs 1-255).
const maxContexts = 128

// scuFlags are the options every SCU command shares.
type scuFlags struct {
	callingAE, calledAE string
	timeout             time.Duration
	// DICOM over TLS: -tls, or implied by any of the files.
	tls                       bool
	caFile, certFile, keyFile string
}

func (f *scuFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.callingAE, "aet", "PACS", "our calling AE title")
	fs.StringVar(&f.calledAE, "aec", "ANY-SCP", "the peer's called AE title")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "timeout of the connection, the association and each DIMSE response")
	fs.BoolVar(&f.tls, "tls", false, "DICOM over TLS (1.2 or later), the peer's certificate verified for HOST against the system's CAs or -ca-file's")
	fs.StringVar(&f.caFile, "ca-file", "", "PEM `file` of the CAs trusted for the peer's certificate, instead of the system's (implies -tls)")
	fs.StringVar(&f.certFile, "cert", "", "PEM `file` of our certificate, for a peer that requires one, with -key (implies -tls)")
	fs.StringVar(&f.keyFile, "key", "", "PEM `file` of the private key of -cert")
}

// tlsConfig returns the TLS configuration to reach host with, or nil for
// plain TCP.
func (f *scuFlags) tlsConfig(host string) (*tls.Config, error) {
	if !f.tls && f.caFile == "" && f.certFile == "" && f.keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if f.caFile != "" {
		var err error
		if cfg.RootCAs, err = config.ReadCertPool(f.caFile); err != nil {
			return nil, fmt.Errorf("-ca-file: %w", err)
		}
	}
	if f.certFile != "" || f.keyFile != "" {
		if f.certFile == "" || f.keyFile == "" {
			return nil, errors.New("-cert and -key go together")
		}
		cert, err := config.LoadKeyPair(f.certFile, f.keyFile)
		if err != nil {
			return nil, fmt.Errorf("-cert %s, -key %s: %w", f.certFile, f.keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg, nil
}

// dial opens an association to addr with contexts and, for C-GET, a Mux.
func (f *scuFlags) dial(ctx context.Context, addr string, contexts []ul.ProposedContext, async *ul.AsyncOps, mux *dimse.Mux) (*dimse.Client, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	tc, err := f.tlsConfig(host)
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	c, err := dimse.DialWith(ctx, addr, ul.DialOptions{
		CallingAE: f.callingAE, CalledAE: f.calledAE,
		Contexts:         contexts,
		AsyncOps:         async,
		ConnectTimeout:   f.timeout,
		AssociateTimeout: f.timeout,
		TLS:              tc,
	}, dimse.ClientOptions{ResponseTimeout: f.timeout, Mux: mux})
	if err != nil {
		return nil, fmt.Errorf("association with %s: %w", addr, err)
	}
	return c, nil
}

// endAssociation ends an association after its operation: aborted when the
// operation failed with err (returned as is), released otherwise.
func endAssociation(c *dimse.Client, err error) error {
	if err != nil {
		c.Abort()
		return err
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	return nil
}

// nativeContext proposes abstract in the uncompressed syntaxes, explicit
// first.
func nativeContext(abstract string) ul.ProposedContext {
	return ul.ProposedContext{AbstractSyntax: abstract,
		TransferSyntaxes: []string{uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian}}
}

// hostPort checks the HOST PORT arguments and joins them.
func hostPort(host, port string) (string, error) {
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", fmt.Errorf("invalid port %q", port)
	}
	return net.JoinHostPort(host, port), nil
}

// stderrIsTerminal reports whether progress lines may be drawn on stderr.
func stderrIsTerminal() bool {
	f, ok := stderr.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// queryOptions are the options and arguments find, move and get share.
type queryOptions struct {
	scuFlags
	queryFlags
	addr string // HOST:PORT
}

// flagSet returns the flag set of the command name ("find", "move" or
// "get") with the shared options registered into o.
func (o *queryOptions) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.scuFlags.register(fs)
	o.queryFlags.register(fs)
	return fs
}

// parse parses args, options and HOST PORT, into o and returns the
// information model of the command and the request identifier with its keys
// in order. It prints a problem on stderr and returns ok false: the command
// exits with status 2.
func (o *queryOptions) parse(fs *flag.FlagSet, args []string) (model string, ident *dicom.Dataset, keys []queryKey, ok bool) {
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return "", nil, nil, false
	}
	if len(pos) != 2 {
		fs.Usage()
		return "", nil, nil, false
	}
	if o.addr, err = hostPort(pos[0], pos[1]); err == nil {
		if ident, keys, err = o.identifier(); err == nil {
			model, err = o.model(fs.Name())
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "pacs %s: %v\n", fs.Name(), err)
		return "", nil, nil, false
	}
	return model, ident, keys, true
}

// clearProgress erases the progress line drawn on w when on.
func clearProgress(on bool, w io.Writer) {
	if on {
		fmt.Fprint(w, "\r\x1b[K")
	}
}

// keyList collects the -k KEY=VALUE options of find, move and get.
type keyList []string

func (k *keyList) String() string     { return strings.Join(*k, " ") }
func (k *keyList) Set(s string) error { *k = append(*k, s); return nil }

// queryFlags are the query options of find, move and get (like findscu's).
type queryFlags struct {
	patientRoot, studyRoot bool
	level                  string
	keys                   keyList
}

func (q *queryFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&q.patientRoot, "P", false, "use the Patient Root information model")
	fs.BoolVar(&q.studyRoot, "S", false, "use the Study Root information model (the default)")
	fs.StringVar(&q.level, "L", "", "Query/Retrieve Level: PATIENT, STUDY, SERIES or IMAGE (default STUDY, or the value of -k QueryRetrieveLevel)")
	fs.Var(&q.keys, "k", "query key KEY=VALUE (KEY a keyword, gggg,eeee or a path such as\nReferencedStudySequence.ReferencedSOPInstanceUID; no =VALUE or an empty\nVALUE asks for the attribute to be returned); repeatable")
}

// model returns the SOP class of the information model for a service
// ("find", "move" or "get").
func (q *queryFlags) model(service string) (string, error) {
	if q.patientRoot && q.studyRoot {
		return "", fmt.Errorf("-P and -S exclude each other")
	}
	models := map[string][2]string{
		"find": {uid.StudyRootQueryRetrieveInformationModelFind, uid.PatientRootQueryRetrieveInformationModelFind},
		"move": {uid.StudyRootQueryRetrieveInformationModelMove, uid.PatientRootQueryRetrieveInformationModelMove},
		"get":  {uid.StudyRootQueryRetrieveInformationModelGet, uid.PatientRootQueryRetrieveInformationModelGet},
	}
	if q.patientRoot {
		return models[service][1], nil
	}
	return models[service][0], nil
}

// queryKey is one parsed -k option.
type queryKey struct {
	expr  string // as written before '='
	path  dicom.Path
	value string
}

// identifier builds the request identifier from the keys and the level. It
// returns the keys in order, for the columns of a table.
func (q *queryFlags) identifier() (*dicom.Dataset, []queryKey, error) {
	ds := dicom.NewDataset(len(q.keys) + 1)
	var keys []queryKey
	for _, k := range q.keys {
		expr, value, _ := strings.Cut(k, "=")
		expr = strings.TrimSpace(expr)
		path, err := dicom.ParsePath(expr)
		if err != nil {
			return nil, nil, fmt.Errorf("-k %s: %w", k, err)
		}
		last := path[len(path)-1].Tag
		vr := dicom.UN
		if e, ok := dicom.LookupTag(last); ok {
			vr = e.VR
		}
		if vr == dicom.UN && value != "" {
			return nil, nil, fmt.Errorf("-k %s: unknown attribute: give no value, or use a keyword of the dictionary", k)
		}
		el, err := keyElement(last, vr, value)
		if err != nil {
			return nil, nil, fmt.Errorf("-k %s: %w", k, err)
		}
		if err := ds.SetPath(expr, el); err != nil {
			return nil, nil, fmt.Errorf("-k %s: %w", k, err)
		}
		if last == dicom.QueryRetrieveLevel {
			if q.level == "" {
				q.level = value
			}
			continue
		}
		keys = append(keys, queryKey{expr: expr, path: path, value: value})
	}
	for _, k := range keys {
		if !isASCII(k.value) {
			// Values are taken as UTF-8 (PS3.5 §6.1.2.3, ISO_IR 192).
			if err := ds.SetString(dicom.SpecificCharacterSet, "ISO_IR 192"); err != nil {
				return nil, nil, err
			}
			break
		}
	}
	if q.level == "" {
		q.level = "STUDY"
	}
	q.level = strings.ToUpper(q.level)
	switch q.level {
	case "PATIENT", "STUDY", "SERIES", "IMAGE":
	default:
		return nil, nil, fmt.Errorf("invalid level %q: want PATIENT, STUDY, SERIES or IMAGE", q.level)
	}
	if err := ds.SetString(dicom.QueryRetrieveLevel, q.level); err != nil {
		return nil, nil, err
	}
	return ds, keys, nil
}

// keyElement returns the element of a query key: empty (a return key), or
// with value; a sequence key is an empty sequence.
func keyElement(t dicom.Tag, vr dicom.VR, value string) (dicom.Element, error) {
	if vr == dicom.SQ {
		if value != "" {
			return dicom.Element{}, fmt.Errorf("a sequence takes no value: give its items' keys as paths")
		}
		return dicom.Element{Tag: t, VR: vr, Items: []*dicom.Dataset{}}, nil
	}
	if value == "" {
		return dicom.Element{Tag: t, VR: vr}, nil
	}
	if err := dicom.ValidateQueryValue(vr, value); err != nil {
		return dicom.Element{}, err
	}
	return dicom.NewElement(t, vr, value, nil)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
