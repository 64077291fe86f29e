"""The Class schedule webhook bodies (Created, Updated, Cancelled, Deleted): a class session at a center.

All four names are Zenoti's own (its samples show them); the four share one `data` shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import CLASS_SCHEDULE
from zenoti_receiver.models.envelope import CanonicalUUID, NumericId, ZenotiData, ZenotiEvent, guid_text

if TYPE_CHECKING:
    ClassScheduleEventType = str
else:  # the names are the catalog's: one line each there
    ClassScheduleEventType = Literal[CLASS_SCHEDULE.names_read_by("ClassScheduleEvent")]


class ClassScheduleData(ZenotiData):
    """The class session; only its id and center are required.

    `sesion_id` is Zenoti's spelling in all four samples. The `event_id` inside `data` (null or -1 in
    the samples) is not the envelope's.
    """

    sesion_id: NumericId
    center_id: CanonicalUUID


class ClassScheduleEvent(ZenotiEvent):
    """One webhook body of the Class schedule family."""

    event_type: ClassScheduleEventType
    data: ClassScheduleData

    @property
    def resource_id(self) -> str:
        """The session: an integer, as text."""
        return str(self.data.sesion_id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center_id)
