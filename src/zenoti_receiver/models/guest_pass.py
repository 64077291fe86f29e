"""The guest pass webhook body: `Guestpass.redeemed`, a guest redeemed a pass of a membership.

Inferred name: the page's prose writes it (with a lower-case `redeemed`), but its sample shows only
`data`. No center in the sample.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import GUEST_PASS
from zenoti_receiver.models.envelope import CanonicalUUID, Person, ZenotiData, ZenotiEvent, guest

if TYPE_CHECKING:
    GuestPassEventType = str
else:  # the name is the catalog's: one line there
    GuestPassEventType = Literal[GUEST_PASS.names_read_by("GuestPassEvent")]


class GuestPassData(ZenotiData):
    """The redemption: its id required (upper case in Zenoti's sample); the guest's id read when sent."""

    id: CanonicalUUID
    guest_id: CanonicalUUID | None = None


class GuestPassEvent(ZenotiEvent):
    """A guest pass was redeemed."""

    event_type: GuestPassEventType
    data: GuestPassData

    @property
    def resource_id(self) -> str:
        return str(self.data.id)

    @property
    def person(self) -> Person | None:
        return guest(self.data.guest_id)
