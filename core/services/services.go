package services

import (
	"crypto/tls"
	"slices"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pacsforge/pacs/core/archive"
	"github.com/pacsforge/pacs/core/dicom/uid"
	"github.com/pacsforge/pacs/core/dimse"
	"github.com/pacsforge/pacs/core/index"
	"github.com/pacsforge/pacs/core/storage"
	"github.com/pacsforge/pacs/core/ul"
)

// Remote is a known DICOM peer: a C-MOVE destination and a target of
// outgoing associations.
type Remote struct {
	AETitle string
	Host    string
	Port    int
	// TLS, when not nil, is the configuration of DICOM over TLS (PS3.15
	// B.1) to the peer; nil connects in the clear.
	TLS *tls.Config
}

// Options configure the services of an archive. Archive, Index and Storage
// are required; the zero value of every other field has a sensible meaning.
type Options struct {
	// AETitle is the archive's AE title, the calling AE of the associations
	// it opens (C-MOVE sub-operations).
	AETitle string
	// Archive performs C-STORE.
	Archive *archive.Archive
	// Index answers C-FIND and locates the instances to retrieve.
	Index *index.Index
	// Storage holds the objects to retrieve.
	Storage storage.Backend
	// SOPClasses, when not empty, are the only SOP classes accepted (Storage
	// and Query/Retrieve; Verification is always accepted). Empty means
	// every Storage SOP class of the registry and every Query/Retrieve SOP
	// class served.
	SOPClasses []string
	// StoreSyntaxes are the transfer syntaxes accepted for C-STORE, most
	// preferred first; empty means DefaultStoreSyntaxes.
	StoreSyntaxes []string
	// Remotes are the peers known by AE title: the C-MOVE destinations.
	Remotes []Remote
	// MaxFindResults bounds the matches of one C-FIND (0: unlimited).
	MaxFindResults int
	// CaseInsensitivePN matches person names in C-FIND ignoring case and
	// accents on every association, not only where fuzzy semantic
	// matching was negotiated.
	CaseInsensitivePN bool
	// DIMSETimeout bounds each wait for a C-STORE response from a C-MOVE
	// destination (0: as long as the association lives).
	DIMSETimeout time.Duration
	// Logger receives the services' log; nil logs nowhere.
	Logger hclog.Logger
}

// Register installs the services on mux and adds what they accept to
// policy (Syntaxes, and the Roles and ExtendedNegotiation hooks they
// need). C-ECHO is answered by the Mux itself.
func Register(mux *dimse.Mux, policy *ul.Policy, o Options) {
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
	if policy.Syntaxes == nil {
		policy.Syntaxes = map[string][]string{}
	}
	registerStorage(mux, policy, o)
	registerFind(mux, policy, o)
	registerRetrieve(mux, policy, o)
	if len(o.SOPClasses) != 0 {
		// Negotiation refuses what the site did not list; the handlers
		// stay but are never reached.
		for as := range policy.Syntaxes {
			if as != uid.Verification && !slices.Contains(o.SOPClasses, as) {
				delete(policy.Syntaxes, as)
			}
		}
	}
}
