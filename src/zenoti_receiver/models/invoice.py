"""The Invoice webhook body: `Invoice.Closed`, an invoice closed at a center (also for web-store purchases).

Zenoti's own name (its sample shows it). Everything is inside `data.invoice`: its id, its center,
its guest (whose `mobile_phone` is a string here, an object elsewhere), items and appointments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import INVOICE
from zenoti_receiver.models.envelope import (
    CanonicalUUID,
    Person,
    ZenotiData,
    ZenotiEvent,
    guest,
    guid_text,
)
from zenoti_receiver.models.references import OptionalReference

if TYPE_CHECKING:
    InvoiceEventType = str
else:  # the name is the catalog's: one line there
    InvoiceEventType = Literal[INVOICE.names_read_by("InvoiceEvent")]


class Invoice(ZenotiData):
    """The invoice: its id and center required; its guest read when sent."""

    id: CanonicalUUID
    center_id: CanonicalUUID
    guest: OptionalReference | None = None


class InvoiceData(ZenotiData):
    """What Invoice.Closed carries: the invoice."""

    invoice: Invoice


class InvoiceEvent(ZenotiEvent):
    """An invoice was closed."""

    event_type: InvoiceEventType
    data: InvoiceData

    @property
    def resource_id(self) -> str:
        return str(self.data.invoice.id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.invoice.center_id)

    @property
    def person(self) -> Person | None:
        return None if self.data.invoice.guest is None else guest(self.data.invoice.guest.id)
