# Forge PACS: a single-node archive.
#
# Every attribute is shown with its default value; delete what you do not
# change. Check a file with `pacs config validate FILE`, print the defaults
# with `pacs config defaults`, start with `pacs serve --config FILE`.
# Command-line flags (--port, --ae-title, --data-dir, -log-level, -log-json)
# override what this file says.
#
# Functions: env("NAME") is an environment variable (an error when unset),
# env("NAME", "fallback") gives a fallback; lower, upper and trimspace.

# The index database and, unless a storage block says otherwise, the
# stored objects (data_dir/objects). Relative to the working directory.
data_dir = env("PACS_DATA_DIR", "./pacs-data")

log {
  level  = "info" # trace, debug, info, warn, error or off
  format = "text" # text or json
}

dicom {
  ae_title = "FORGE"  # 1-16 characters, no backslash
  listen   = ":11112" # host:port; an empty host is every interface (IPv4 and IPv6)

  max_associations        = 64      # concurrent associations
  max_associations_per_ae = 0       # per calling AE title (0: no such limit)
  max_pdu_length          = "64KiB" # 4KiB to 64MiB, or a number of bytes
  async_ops               = 8       # asynchronous operations window (1: synchronous)

  association_timeout = "30s" # connection to A-ASSOCIATE-RQ (ARTIM)
  idle_timeout        = "5m"  # no PDU for this long aborts ("0s": never)
  dimse_timeout       = "60s" # wait for the rest of a message, or a C-STORE response ("0s": none)
  release_timeout     = "30s" # wait for the peer to close after a release

  strict_called_ae     = false # reject a called AE title other than ae_title
  accepted_calling_aes = []    # empty: any calling AE title

  # Empty: every Storage SOP class, Verification and Query/Retrieve. UIDs or
  # keywords, e.g. ["CTImageStorage", "1.2.840.10008.5.1.4.1.1.4"].
  sop_classes = []
  # Empty: Explicit and Implicit VR Little Endian, Explicit VR Big Endian,
  # Deflated and every encapsulated syntax, stored as received.
  transfer_syntaxes = []

  # A SOP instance received again: "keep" the stored one and answer success,
  # "reject" it with a failure, or "overwrite" the stored one.
  duplicate_policy       = "keep"
  max_find_results       = 10000 # C-FIND matches at most (0: unlimited)
  case_insensitive_names = false # C-FIND matches person names ignoring case and accents

  # DICOM over TLS (TLS 1.2 or later) on a second port, beside `listen`, for
  # the same archive. To admit TLS only, bind `listen` to 127.0.0.1. The files
  # are read again when they change: renewing the certificate needs no restart.
  # tls {
  #   listen         = ":2762"                     # the port registered for DICOM over TLS
  #   cert_file      = "/etc/pacs/server.pem"      # certificate, then its chain; also shown to remotes that ask for a client certificate
  #   key_file       = "/etc/pacs/server.key"
  #   client_ca_file = "/etc/pacs/modalities-ca.pem" # set: clients must present a certificate these CAs signed
  # }
}

http {
  listen = "127.0.0.1:8042" # REST, DICOMweb, /health
}

# Storage tiers, in order: new instances go to the first; a later tier
# takes the instances older than its `after` age ("12h", "30d", "1y").
storage "hot" {
  backend = "fs"
  config {
    # root   = "/var/lib/pacs/objects" # default: data_dir/objects
    layout = "uid" # uid (Study/Series/Instance UIDs) or date (received date, then UIDs)
  }
}

# A DICOM peer, labelled by its AE title.
remote "ARCHIVE" {
  host = "10.0.0.5"
  port = 104   # default 104
  tls  = false # DICOM over TLS, the certificate checked against the system CAs
  # ca_file = "/etc/pacs/site-ca.pem" # with tls: trust these CAs instead
}
