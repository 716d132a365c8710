output "queue_url" {
  description = "Give it to `flickr-ingest relay --queue-url`."
  value       = aws_sqs_queue.events.id
}

output "dead_letter_queue_url" {
  value = aws_sqs_queue.dead_letters.id
}

output "relay_policy_arn" {
  description = "Attach to the role or user the relay runs as."
  value       = aws_iam_policy.relay.arn
}

output "worker_policy_arn" {
  description = "Attach to the role or user Prefect workers run as."
  value       = aws_iam_policy.worker.arn
}
