# Forge PACS with every stored object in Azure Blob Storage: the index
# stays in data_dir, the DICOM objects are block blobs in one container.
# The azure backend runs as a plugin process served by the pacs executable;
# its settings are checked when it starts (the container must exist unless
# create_container = true). Check this file with
#   AZURE_STORAGE_CONNECTION_STRING=... AZURE_CONTAINER=pacs pacs config validate azure.hcl

data_dir = env("PACS_DATA_DIR", "/var/lib/pacs")

dicom {
  ae_title = "FORGE"
  listen   = "0.0.0.0:11112"
}

storage "azure" {
  backend = "azure"
  config {
    # A connection string (a secret: never logged), or account_name +
    # account_key (+ endpoint) instead.
    connection_string = env("AZURE_STORAGE_CONNECTION_STRING")
    container         = env("AZURE_CONTAINER")
    create_container  = false
    # prefix        = "pacs/"  # prepended to every key
    # access_tier   = "Cool"   # Hot, Cool, Cold or Archive (Archive: read only after rehydration)
    # block_size    = "8MiB"   # larger objects go in staged blocks of this size
    # concurrency   = 4        # blocks staged in parallel per object
    # max_retries   = 3        # retries of a failed request (-1: none)
    # retry_delay   = "4s"     # first back-off, doubled on each retry
  }
}
