"""Receiver for Zenoti's Class.Booking.Deleted webhook: authenticate, validate, store once, publish."""
