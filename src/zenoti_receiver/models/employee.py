"""The Employee webhook bodies (Created, Updated, Deleted): an employee's record at a center.

All three names are Zenoti's own (its samples show them). Zenoti writes "0001-01-01T00:00:00" and
the all-zero GUID where a value is absent (`birth_date`, `created_by`); kept as sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from zenoti_receiver.models.catalog import EMPLOYEE
from zenoti_receiver.models.envelope import CanonicalUUID, Person, ZenotiData, ZenotiEvent, employee, guid_text

if TYPE_CHECKING:
    EmployeeEventType = str
else:  # the names are the catalog's: one line each there
    EmployeeEventType = Literal[EMPLOYEE.names_read_by("EmployeeEvent")]


class EmployeeData(ZenotiData):
    """The employee: its id and center required; `personal_info` (names, e-mail, phones as objects) kept."""

    id: CanonicalUUID
    center_id: CanonicalUUID


class EmployeeEvent(ZenotiEvent):
    """An employee was created, updated or deleted."""

    event_type: EmployeeEventType
    data: EmployeeData

    @property
    def resource_id(self) -> str:
        return str(self.data.id)

    @property
    def center_id(self) -> str | None:
        return guid_text(self.data.center_id)

    @property
    def person(self) -> Person | None:
        return employee(self.data.id)
