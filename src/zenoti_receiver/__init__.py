"""Receiver for Zenoti's webhooks, every documented family: authenticate, validate, store once, publish once."""
