# Forge PACS with the whole archive on S3 or an S3-compatible object store
# (MinIO, Ceph RGW, VersityGW, ...), served by the storage-s3 plugin that
# the pacs binary runs itself. Its settings are checked when the plugin
# starts: the bucket must exist (or create_bucket = true) and the
# credentials must reach it.
#
#   S3_BUCKET=pacs S3_ENDPOINT=http://127.0.0.1:7070 \
#   S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=... pacs serve --config s3.hcl
#
# On AWS leave S3_ENDPOINT, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY unset:
# the default AWS credential chain (environment, shared files, instance or
# container role) applies; set path_style = false there.

data_dir = env("PACS_DATA_DIR", "./pacs-data") # the index and the spool

dicom {
  ae_title = "FORGE"
  listen   = ":11112"
}

storage "s3" {
  backend = "s3"
  config {
    bucket            = env("S3_BUCKET")
    endpoint          = env("S3_ENDPOINT", "")    # empty: AWS S3
    region            = env("S3_REGION", "us-east-1")
    access_key_id     = env("S3_ACCESS_KEY_ID", "") # empty: the default AWS credential chain
    secret_access_key = env("S3_SECRET_ACCESS_KEY", "")
    path_style        = true  # http://host/bucket/key, as most S3-compatible servers need
    create_bucket     = false # true: create the bucket at start-up when missing
    # prefix                 = "pacs"    # key prefix inside the bucket
    # server_side_encryption = "AES256"  # or "aws:kms" with sse_kms_key_id
    # part_size              = "8MiB"    # multipart part size and threshold, 5MiB to 5GiB
    # concurrency            = 4         # parts of one object uploaded at once
    # max_retries            = 2         # retries of a throttled or failed request
    # max_backoff            = "20s"     # longest wait between retries
  }
}
