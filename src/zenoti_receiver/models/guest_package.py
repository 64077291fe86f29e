"""The Guest package webhook bodies (Creation, Redemption, RedemptionReversal, StatusUpdate, ValidityUpdate).

All five names are inferred from their pages' titles: the pages show only `data`. The five share
one shape; Redemption and RedemptionReversal add the services and products redeemed or given back.
Zenoti's samples name no guest: a package event concerns no person the receiver can read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import GUEST_PACKAGE
from zenoti_receiver.models.envelope import CanonicalUUID, ZenotiData, ZenotiEvent, guid_text
from zenoti_receiver.models.references import Reference

if TYPE_CHECKING:
    GuestPackageEventType = str
else:  # the names are the catalog's: one line each there
    GuestPackageEventType = Literal[GUEST_PACKAGE.names_read_by("GuestPackageEvent")]


class GuestPackageData(ZenotiData):
    """The guest's package: its id and its center (`center.id`) required."""

    user_package_id: CanonicalUUID
    center: Reference


class GuestPackageEvent(ZenotiEvent):
    """One webhook body of the Guest package family."""

    event_type: GuestPackageEventType
    data: GuestPackageData

    @property
    def resource_id(self) -> str:
        return str(self.data.user_package_id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center.id)
