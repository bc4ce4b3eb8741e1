package config

import (
	"crypto/tls"
	"crypto/x509"

	"github.com/hashicorp/hcl/v2"
)

// Config is a site configuration. After Parse or Load, Log, DICOM and HTTP
// are never nil and Storage holds at least one tier. Fields named *Range
// are the source ranges of the attributes (zero when the value is a
// default); they let later checks point at the site's file.
type Config struct {
	// DataDir holds the index database and, unless a storage block says
	// otherwise, the stored objects (DataDir/objects). Relative paths are
	// relative to the working directory. Default "./pacs-data".
	DataDir string `hcl:"data_dir,optional"`
	// Log is the log block.
	Log *Log `hcl:"log,block"`
	// DICOM is the dicom block: the DICOM server.
	DICOM *DICOM `hcl:"dicom,block"`
	// HTTP is the http block: REST, DICOMweb, health and metrics.
	HTTP *HTTP `hcl:"http,block"`
	// Storage lists the storage tiers in order: new instances go to the
	// first; an instance moves to a later tier when it is older than that
	// tier's After. Without storage blocks, one "fs" tier named "default"
	// stores under DataDir/objects.
	Storage []*Storage `hcl:"storage,block"`
	// Remotes are the known DICOM peers, labelled by AE title.
	Remotes []*Remote `hcl:"remote,block"`
	// PluginDir is a directory of plugin executables (pacs-plugin-<name>);
	// a plugin block without a path finds its executable there. Empty:
	// none.
	PluginDir string `hcl:"plugin_dir,optional"`
	// Plugins are the plugin blocks: executables serving storage backends,
	// SOP handlers or tasks (see plugin.go).
	Plugins []*Plugin `hcl:"plugin,block"`
	// SOPHandlers are the sop_handler blocks, in the order instances pass
	// through them.
	SOPHandlers []*SOPHandler `hcl:"sop_handler,block"`

	DataDirRange   hcl.Range `hcl:"data_dir,attr_range"`
	PluginDirRange hcl.Range `hcl:"plugin_dir,attr_range"`
}

// Log is the log block: log { level = "info" }.
type Log struct {
	// Level is one of trace, debug, info, warn, error, off. Default "info".
	Level string `hcl:"level,optional"`
	// Format is "text" (human-readable lines) or "json". Default "text".
	Format string `hcl:"format,optional"`

	LevelRange  hcl.Range `hcl:"level,attr_range"`
	FormatRange hcl.Range `hcl:"format,attr_range"`
}

// DICOM is the dicom block: the DICOM server's identity, limits, timeouts
// and negotiation policy.
type DICOM struct {
	// AETitle is the server's AE title (1-16 characters of the default
	// character repertoire, no backslash). Default "FORGE".
	AETitle string `hcl:"ae_title,optional"`
	// Listen is the host:port of the DICOM listener; an empty host listens
	// on every interface, IPv4 and IPv6. Default ":11112".
	Listen string `hcl:"listen,optional"`
	// MaxAssociations bounds concurrent associations; one more is rejected
	// as a transient local limit. Default 64.
	MaxAssociations int `hcl:"max_associations,optional"`
	// MaxAssociationsPerAE bounds concurrent associations of one calling AE
	// title (0: only MaxAssociations applies). Default 0.
	MaxAssociationsPerAE int `hcl:"max_associations_per_ae,optional"`
	// MaxPDULength is the maximum P-DATA-TF length announced to peers: a
	// number of bytes or a size such as "64KiB" or "1MB", from 4KiB to
	// 64MiB. Default "65536". See MaxPDU.
	MaxPDULength string `hcl:"max_pdu_length,optional"`
	// AsyncOps is the asynchronous operations window granted at most (1:
	// synchronous; PS3.7 D.3.3.3). Default 8.
	AsyncOps int `hcl:"async_ops,optional"`
	// AssociationTimeout is the ARTIM timeout: from the connection to the
	// A-ASSOCIATE-RQ. Default "30s".
	AssociationTimeout string `hcl:"association_timeout,optional"`
	// IdleTimeout aborts an association on which no PDU arrives for this
	// long ("0s": never). Default "5m".
	IdleTimeout string `hcl:"idle_timeout,optional"`
	// DIMSETimeout bounds the wait for the next fragment of a message that
	// has begun arriving (a command's data set included), and for the
	// response to each C-STORE this archive sends (C-MOVE and C-GET
	// sub-operations); either then aborts the association ("0s": none).
	// Default "60s".
	DIMSETimeout string `hcl:"dimse_timeout,optional"`
	// ReleaseTimeout bounds the wait for the peer to close the connection
	// after a release or an abort. Default "30s".
	ReleaseTimeout string `hcl:"release_timeout,optional"`
	// StrictCalledAE rejects associations whose called AE title is not
	// AETitle. Default false.
	StrictCalledAE bool `hcl:"strict_called_ae,optional"`
	// AcceptedCallingAEs, when not empty, is the list of calling AE titles
	// accepted; others are rejected. Empty (the default) accepts any.
	AcceptedCallingAEs []string `hcl:"accepted_calling_aes,optional"`
	// SOPClasses, when not empty, lists the SOP classes accepted, as UIDs
	// or PS3.6 keywords ("CTImageStorage"). Empty (the default) accepts
	// every Storage SOP class of the registry, Verification and
	// Query/Retrieve. See SOPClassUIDs.
	SOPClasses []string `hcl:"sop_classes,optional"`
	// TransferSyntaxes, when not empty, lists the transfer syntaxes
	// accepted, most preferred first, as UIDs or keywords. Empty (the
	// default) is the default policy: Explicit and Implicit VR Little
	// Endian, Explicit VR Big Endian, Deflated, and every encapsulated
	// syntax, stored as received. See TransferSyntaxUIDs.
	TransferSyntaxes []string `hcl:"transfer_syntaxes,optional"`
	// DuplicatePolicy says what a C-STORE of a SOP Instance UID already
	// stored does: "keep" (the default) keeps the stored instance and
	// answers success, so a modality that resends after a lost response
	// does not queue a failure and nothing archived is replaced; "reject"
	// answers a failure; "overwrite" replaces the stored instance.
	DuplicatePolicy string `hcl:"duplicate_policy,optional"`
	// MaxFindResults bounds the matches a C-FIND returns (0: unlimited);
	// beyond it the query ends with a failure status. Default 10000.
	MaxFindResults int `hcl:"max_find_results,optional"`
	// CaseInsensitiveNames matches person names in C-FIND ignoring case
	// and accents for every peer, as fuzzy semantic matching negotiated by
	// a peer does for its association (PS3.4 C.2.2.2.1). Default false:
	// exact matching unless negotiated.
	CaseInsensitiveNames bool `hcl:"case_insensitive_names,optional"`
	// TLS is the tls block: a second listener, for DICOM over TLS, beside
	// Listen (nil: none).
	TLS *DICOMTLS `hcl:"tls,block"`

	AETitleRange              hcl.Range `hcl:"ae_title,attr_range"`
	ListenRange               hcl.Range `hcl:"listen,attr_range"`
	MaxAssociationsRange      hcl.Range `hcl:"max_associations,attr_range"`
	MaxAssociationsPerAERange hcl.Range `hcl:"max_associations_per_ae,attr_range"`
	MaxPDULengthRange         hcl.Range `hcl:"max_pdu_length,attr_range"`
	AsyncOpsRange             hcl.Range `hcl:"async_ops,attr_range"`
	AssociationTimeoutRange   hcl.Range `hcl:"association_timeout,attr_range"`
	IdleTimeoutRange          hcl.Range `hcl:"idle_timeout,attr_range"`
	DIMSETimeoutRange         hcl.Range `hcl:"dimse_timeout,attr_range"`
	ReleaseTimeoutRange       hcl.Range `hcl:"release_timeout,attr_range"`
	AcceptedCallingAEsRange   hcl.Range `hcl:"accepted_calling_aes,attr_range"`
	SOPClassesRange           hcl.Range `hcl:"sop_classes,attr_range"`
	TransferSyntaxesRange     hcl.Range `hcl:"transfer_syntaxes,attr_range"`
	DuplicatePolicyRange      hcl.Range `hcl:"duplicate_policy,attr_range"`
	MaxFindResultsRange       hcl.Range `hcl:"max_find_results,attr_range"`
}

// DICOMTLS is the dicom block's tls block: a listener for DICOM over TLS
// (PS3.15 B.1, TLS 1.2 or later), serving the same archive as the plain
// listener, with the same limits:
//
//	tls {
//	  listen         = ":2762"
//	  cert_file      = "/etc/pacs/server.pem"
//	  key_file       = "/etc/pacs/server.key"
//	  client_ca_file = "/etc/pacs/modalities-ca.pem"
//	}
//
// A site that admits DICOM over TLS only binds the plain listener to
// loopback. Relative file names are relative to the working directory.
// pacs serve reads the files again when they change (it looks, at a
// handshake, at most every 10 seconds): a renewed certificate needs no
// restart.
type DICOMTLS struct {
	// Listen is the host:port of the TLS listener (required; 2762 is the
	// port registered for DICOM over TLS). It differs from dicom.listen.
	Listen string `hcl:"listen"`
	// CertFile is a PEM file of the server's certificate, followed by the
	// intermediate certificates of its chain, if any; KeyFile a PEM file of
	// its private key (both required). It is also the client certificate
	// presented to remotes reached with TLS that ask for one: give it the
	// clientAuth extended key usage as well as serverAuth for them.
	CertFile string `hcl:"cert_file"`
	KeyFile  string `hcl:"key_file"`
	// ClientCAFile, when set, names a PEM file of the CA certificates that
	// sign the clients' certificates: a client must present a certificate
	// one of them signed, or its handshake fails (mutual authentication, as
	// IHE ATNA asks of secure nodes). Empty: clients are not asked for one.
	ClientCAFile string `hcl:"client_ca_file,optional"`
	// Certificate and ClientCAs are what CertFile, KeyFile and
	// ClientCAFile hold, read by Parse (ClientCAs nil without a
	// ClientCAFile).
	Certificate *tls.Certificate
	ClientCAs   *x509.CertPool

	DefRange          hcl.Range `hcl:",def_range"`
	ListenRange       hcl.Range `hcl:"listen,attr_range"`
	CertFileRange     hcl.Range `hcl:"cert_file,attr_range"`
	KeyFileRange      hcl.Range `hcl:"key_file,attr_range"`
	ClientCAFileRange hcl.Range `hcl:"client_ca_file,attr_range"`
}

// HTTP is the http block.
type HTTP struct {
	// Listen is the host:port of the HTTP server. Default "127.0.0.1:8042".
	Listen string `hcl:"listen,optional"`

	ListenRange hcl.Range `hcl:"listen,attr_range"`
}

// Storage is a storage block, one tier: storage "name" { backend = "fs" }.
type Storage struct {
	// Name is the block label, unique among storage blocks.
	Name string `hcl:"name,label"`
	// Backend is the backend's ID: "fs" (built in) or a plugin's (required).
	Backend string `hcl:"backend"`
	// After is an age such as "30d": instances older than this move here
	// from the tier before. The first tier has none; later tiers need one,
	// each larger than the one before. See Age.
	After string `hcl:"after,optional"`
	// OutOfProcess runs an "fs" backend as a plugin process (served by the
	// pacs executable) instead of inside the archive; other backends always
	// run as plugin processes. Default false.
	OutOfProcess bool `hcl:"out_of_process,optional"`
	// Config is the backend's config {} block (nil when absent).
	Config *PluginConfig `hcl:"config,block"`
	// FS is the decoded config of an "fs" backend (set by Parse; nil for
	// other backends).
	FS *FSConfig

	NameRange    hcl.Range `hcl:"name,label_range"`
	DefRange     hcl.Range `hcl:",def_range"`
	BackendRange hcl.Range `hcl:"backend,attr_range"`
	AfterRange   hcl.Range `hcl:"after,attr_range"`
}

// PluginConfig is a config {} block whose schema belongs to a backend or
// plugin: Body is kept undecoded (with its source ranges) until the owner
// decodes it, as DecodeFS does for "fs".
type PluginConfig struct {
	Body hcl.Body `hcl:",remain"`
}

// Remote is a remote block: a DICOM peer known by its AE title, the block
// label: remote "ARCHIVE" { host = "10.0.0.5" }.
type Remote struct {
	// AETitle is the block label: the peer's AE title, unique among remotes.
	AETitle string `hcl:"ae_title,label"`
	// Host is the peer's host name or IP address (required).
	Host string `hcl:"host"`
	// Port is the peer's TCP port, 1-65535. Default 104.
	Port int `hcl:"port,optional"`
	// TLS connects with TLS (DICOM over TLS, PS3.15 B.1), verifying the
	// peer's certificate for Host against the system's trusted CAs (the
	// SSL_CERT_FILE and SSL_CERT_DIR environment variables name others).
	// A peer that asks for a client certificate gets dicom.tls's, if any.
	// Default false.
	TLS bool `hcl:"tls,optional"`
	// CAFile, with TLS, names a PEM file of the CA certificates trusted for
	// the peer's certificate, instead of the system's (a site's own CA).
	CAFile string `hcl:"ca_file,optional"`
	// CAs are the certificates of CAFile, read by Parse (nil without a
	// CAFile: the system's trusted CAs apply).
	CAs *x509.CertPool

	AETitleRange hcl.Range `hcl:"ae_title,label_range"`
	DefRange     hcl.Range `hcl:",def_range"`
	HostRange    hcl.Range `hcl:"host,attr_range"`
	PortRange    hcl.Range `hcl:"port,attr_range"`
	CAFileRange  hcl.Range `hcl:"ca_file,attr_range"`
}
