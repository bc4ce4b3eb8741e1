package config

import "github.com/hashicorp/hcl/v2"

// The defaults of the zero-config archive.
const (
	DefaultDataDir              = "./pacs-data"
	DefaultLogLevel             = "info"
	DefaultLogFormat            = "text"
	DefaultAETitle              = "FORGE"
	DefaultDICOMListen          = ":11112"
	DefaultMaxAssociations      = 64
	DefaultMaxPDULength         = "65536"
	DefaultAsyncOps             = 8
	DefaultAssociationTimeout   = "30s"
	DefaultIdleTimeout          = "5m"
	DefaultDIMSETimeout         = "60s"
	DefaultReleaseTimeout       = "30s"
	DefaultDuplicatePolicy      = DuplicateKeep
	DefaultMaxFindResults       = 10000
	DefaultHTTPListen           = "127.0.0.1:8042"
	DefaultStorageName          = "default"
	DefaultRemotePort           = 104
	DefaultFSLayout             = LayoutUID
	defaultObjectsDirInsideData = "objects"
)

// The values of DICOM.DuplicatePolicy.
const (
	DuplicateKeep      = "keep"
	DuplicateReject    = "reject"
	DuplicateOverwrite = "overwrite"
)

// Default returns the zero-config archive: the configuration of an empty
// file. Each call returns a new value the caller may change.
func Default() *Config {
	c := &Config{DataDir: DefaultDataDir}
	c.applyDefaults()
	return c
}

// applyDefaults fills what a file left out: the blocks it did not write
// and the default storage tier. Attributes inside written blocks got their
// defaults before decoding (newBlocks).
func (c *Config) applyDefaults() {
	d := newBlocks()
	if c.Log == nil {
		c.Log = d.Log
	}
	if c.DICOM == nil {
		c.DICOM = d.DICOM
	}
	if c.HTTP == nil {
		c.HTTP = d.HTTP
	}
	if len(c.Storage) == 0 {
		c.Storage = []*Storage{{Name: DefaultStorageName, Backend: BackendFS, FS: &FSConfig{Layout: DefaultFSLayout}}}
	}
	d2 := c.DICOM
	for _, list := range []*[]string{&d2.AcceptedCallingAEs, &d2.SOPClasses, &d2.TransferSyntaxes} {
		if len(*list) == 0 {
			*list = nil // an empty list is the default
		}
	}
	for _, r := range c.Remotes {
		if r.PortRange == (hcl.Range{}) {
			r.Port = DefaultRemotePort
		}
	}
	c.applyPluginDefaults()
}

// newBlocks returns a Config whose single blocks hold their defaults, the
// value a file is decoded into: an attribute the file leaves out keeps
// its default.
func newBlocks() *Config {
	return &Config{
		DataDir: DefaultDataDir,
		Log:     &Log{Level: DefaultLogLevel, Format: DefaultLogFormat},
		DICOM: &DICOM{
			AETitle:            DefaultAETitle,
			Listen:             DefaultDICOMListen,
			MaxAssociations:    DefaultMaxAssociations,
			MaxPDULength:       DefaultMaxPDULength,
			AsyncOps:           DefaultAsyncOps,
			AssociationTimeout: DefaultAssociationTimeout,
			IdleTimeout:        DefaultIdleTimeout,
			DIMSETimeout:       DefaultDIMSETimeout,
			ReleaseTimeout:     DefaultReleaseTimeout,
			DuplicatePolicy:    DefaultDuplicatePolicy,
			MaxFindResults:     DefaultMaxFindResults,
		},
		HTTP: &HTTP{Listen: DefaultHTTPListen},
	}
}
