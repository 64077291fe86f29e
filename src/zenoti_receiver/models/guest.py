"""The Guest webhook bodies: the guest's record (Created, Updated, Deleted, Merged) and its communication choices.

Created, Updated and Deleted are Zenoti's own names (its samples show them). Inferred: `Guest.Merged`
(listed on the guest pages, no sample; the record's shape is assumed), `Guest.OptedOut` (named in
its page's prose, which shows only `data`) and `Guest.OptedIn` (in the pages' index only; the
opted-out shape is assumed). Both shapes carry personal data: names, e-mail, phones, birth date.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import GUEST
from zenoti_receiver.models.envelope import CanonicalUUID, Person, ZenotiData, ZenotiEvent, guest, guid_text

if TYPE_CHECKING:
    GuestEventType = str
    GuestCommunicationEventType = str
else:  # the names are the catalog's: one line each there
    GuestEventType = Literal[GUEST.names_read_by("GuestEvent")]
    GuestCommunicationEventType = Literal[GUEST.names_read_by("GuestCommunicationEvent")]


class GuestData(ZenotiData):
    """The guest's record: its id and home center required; `_id` (an integer), `personal_info` and the rest kept."""

    id: CanonicalUUID
    center_id: CanonicalUUID


class GuestEvent(ZenotiEvent):
    """A guest's record was created, updated, deleted or merged."""

    event_type: GuestEventType
    data: GuestData

    @property
    def resource_id(self) -> str:
        return str(self.data.id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center_id)

    @property
    def person(self) -> Person | None:
        return guest(self.data.id)


class GuestCommunicationData(ZenotiData):
    """A guest's communication preferences: the guest's id required; no center in Zenoti's sample.

    `details` holds the name, e-mail and phones (a list of objects here, where the record has strings
    or objects); `preference_update` what changed; `current_preferences` every channel's state.
    """

    id: CanonicalUUID


class GuestCommunicationEvent(ZenotiEvent):
    """A guest opted out of, or into, a kind of communication on a channel."""

    event_type: GuestCommunicationEventType
    data: GuestCommunicationData

    @property
    def resource_id(self) -> str:
        return str(self.data.id)

    @property
    def person(self) -> Person | None:
        return guest(self.data.id)
