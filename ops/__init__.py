"""Tools for people operating the receiver: replay stored events, look deletions up."""
