"""A subscriber of the receiver's topic: acts once on each deleted class booking (SNS -> SQS -> Lambda)."""
