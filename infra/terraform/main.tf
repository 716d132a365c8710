# The AWS side of flickr-ingest: bucket notifications -> SQS (with a dead-letter queue)
# for `flickr-ingest relay`, and least-privilege IAM policies for the relay and workers.

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

resource "aws_s3_bucket" "photos" {
  count  = var.create_bucket ? 1 : 0
  bucket = var.bucket_name
}

data "aws_s3_bucket" "photos" {
  bucket     = var.bucket_name
  depends_on = [aws_s3_bucket.photos]
}

resource "aws_sqs_queue" "dead_letters" {
  name                      = "${var.bucket_name}-flickr-ingest-dlq"
  message_retention_seconds = 1209600 # 14 days to look at what could not be read
}

resource "aws_sqs_queue" "events" {
  name                       = "${var.bucket_name}-flickr-ingest-events"
  visibility_timeout_seconds = 60    # longer than the relay needs to post one message's events
  receive_wait_time_seconds  = 20    # long polling
  message_retention_seconds  = 345600 # 4 days: the nightly sweep catches anything older
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letters.arn
    maxReceiveCount     = var.max_receive_count
  })
}

# Only this bucket may send to the queue.
data "aws_iam_policy_document" "bucket_may_send" {
  statement {
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.events.arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [data.aws_s3_bucket.photos.arn]
    }
  }
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy    = data.aws_iam_policy_document.bucket_may_send.json
}

resource "aws_s3_bucket_notification" "new_photos" {
  bucket = data.aws_s3_bucket.photos.id
  queue {
    queue_arn     = aws_sqs_queue.events.arn
    events        = ["s3:ObjectCreated:*"]
    filter_prefix = var.watched_prefix
  }
  depends_on = [aws_sqs_queue_policy.events]
}

# The relay: read and delete messages of its queue, nothing else.
data "aws_iam_policy_document" "relay" {
  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.events.arn]
  }
}

resource "aws_iam_policy" "relay" {
  name   = "${var.bucket_name}-flickr-ingest-relay"
  policy = data.aws_iam_policy_document.relay.json
}

# Workers: list and read the watched prefix; read and write the ledger and the reports.
data "aws_iam_policy_document" "worker" {
  statement {
    actions   = ["s3:ListBucket"]
    resources = [data.aws_s3_bucket.photos.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.watched_prefix}*", "${var.ledger_prefix}*", "${var.report_prefix}*"]
    }
  }
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${data.aws_s3_bucket.photos.arn}/${var.watched_prefix}*"]
  }
  statement {
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [
      "${data.aws_s3_bucket.photos.arn}/${var.ledger_prefix}*",
      "${data.aws_s3_bucket.photos.arn}/${var.report_prefix}*",
    ]
  }
}

resource "aws_iam_policy" "worker" {
  name   = "${var.bucket_name}-flickr-ingest-worker"
  policy = data.aws_iam_policy_document.worker.json
}
