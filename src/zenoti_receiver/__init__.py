"""Receiver for Zenoti's Class booking webhooks: authenticate, validate, store once, publish once."""
