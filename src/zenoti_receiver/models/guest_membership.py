"""The Guest membership webhook bodies (Created, Freeze, Unfreeze, Cancelled, Reinstate): a guest's membership.

`Guest.Membership.Created` is Zenoti's own name (its sample shows it, with `event_resource` null);
the other four are inferred from their pages' titles, which show only `data`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from zenoti_receiver.models.catalog import GUEST_MEMBERSHIP
from zenoti_receiver.models.envelope import (
    CanonicalUUID,
    Person,
    ZenotiData,
    ZenotiEvent,
    guest,
    guid_text,
    guid_text_of,
)
from zenoti_receiver.models.references import Reference

if TYPE_CHECKING:
    GuestMembershipEventType = str
else:  # the names are the catalog's: one line each there
    GuestMembershipEventType = Literal[GUEST_MEMBERSHIP.names_read_by("GuestMembershipEvent")]

# How Zenoti marks the member who holds the membership in `members`: "amarbir j (Primary)".
PRIMARY = "(Primary)"


class GuestMembershipData(ZenotiData):
    """The guest's membership: its id and its center (`center.id`) required.

    Only Created's sample has `guest_id`; Reinstate's names the guest in `members`; Freeze, Unfreeze
    and Cancelled name no guest.
    """

    user_membership_id: CanonicalUUID
    center: Reference
    guest_id: CanonicalUUID | None = None
    members: Any = None


class GuestMembershipEvent(ZenotiEvent):
    """One webhook body of the Guest membership family."""

    event_type: GuestMembershipEventType
    data: GuestMembershipData

    @property
    def resource_id(self) -> str:
        return str(self.data.user_membership_id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center.id)

    @property
    def person(self) -> Person | None:
        """The guest: `guest_id` (unless none), else the member Zenoti marks "(Primary)", else None."""
        if (named := guest(self.data.guest_id)) is not None:
            return named
        members = self.data.members if isinstance(self.data.members, list) else []
        for member in members:
            if isinstance(member, dict) and str(member.get("name", "")).endswith(PRIMARY):
                text = guid_text_of(member.get("id"))
                return None if text is None else Person("guest", text)
        return None
