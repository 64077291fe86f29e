"""A subscriber of the receiver's topic: acts once on each booking event of the types it handles (SQS -> Lambda)."""
