"""One small module per AWS dependency; the only code that touches boto3."""
