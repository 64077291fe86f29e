"""What happens to a delivery: authenticate, validate, store once, publish. Plain Python, no HTTP."""
