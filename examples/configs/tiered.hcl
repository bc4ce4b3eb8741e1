# Forge PACS with two storage tiers: recent studies on local disk, older
# ones in an S3-compatible bucket (served by the storage-s3 plugin, whose
# settings are checked when the plugin starts).

data_dir = "/var/lib/pacs"

log {
  format = "json"
}

dicom {
  ae_title             = "FORGE"
  listen               = "0.0.0.0:104"
  max_associations     = 128
  strict_called_ae     = true
  accepted_calling_aes = ["CT1", "MR1", "WORKSTATION"]
}

storage "hot" {
  backend = "fs"
  config {
    root   = "/var/lib/pacs/objects"
    layout = "date"
  }
}

storage "warm" {
  backend = "s3"
  after   = "30d" # instances older than this are to move here from "hot"
  # (migration between tiers is not implemented yet: pacs serve warns, and
  # stores and serves every instance from the first tier)
  config {
    bucket   = "pacs-warm"
    endpoint = env("S3_ENDPOINT")
  }
}

remote "ARCHIVE" {
  host = "archive.example.org"
  port = 11112
  tls  = true
}
