"""The nested `{"id": ..., "name": ...}` objects whose id a family reads (a membership's center, an invoice's guest).

Apart from the envelope so that a cold start building only the Class booking family does not build them.
"""

from __future__ import annotations

from zenoti_receiver.models.envelope import CanonicalUUID, ZenotiData


class Reference(ZenotiData):
    """A nested `{"id": ..., "name": ...}` object whose id the receiver reads (a membership's center)."""

    id: CanonicalUUID


class OptionalReference(ZenotiData):
    """A nested object whose id, when there is one, the receiver reads (an invoice's guest)."""

    id: CanonicalUUID | None = None
