variable "region" {
  description = "AWS region of the bucket and the queue."
  type        = string
  default     = "eu-west-1"
}

variable "bucket_name" {
  description = "The bucket photos land in (created here when create_bucket is true)."
  type        = string
}

variable "create_bucket" {
  description = "Create the bucket, or use an existing one."
  type        = bool
  default     = false
}

variable "watched_prefix" {
  description = "Prefix whose new objects start uploads, e.g. \"inbox/\"."
  type        = string
  default     = "inbox/"
}

variable "ledger_prefix" {
  description = "Prefix of the shared upload ledger (FLICKR_INGEST_LEDGER=s3://bucket/<this>)."
  type        = string
  default     = "flickr-ingest/ledger/"
}

variable "report_prefix" {
  description = "Prefix where runs write their reports (FLICKR_INGEST_REPORT_DIR)."
  type        = string
  default     = "flickr-ingest/reports/"
}

variable "max_receive_count" {
  description = "Deliveries of a message before it moves to the dead-letter queue."
  type        = number
  default     = 5
}
