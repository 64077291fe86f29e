"""The in-memory stand-ins of tests/unit/memory.py, and a receiver wired to them, for the logic's tests."""

from __future__ import annotations

import pytest

from tests.unit.memory import Clock, FixedTokens, MemoryQuarantine, MemoryTable, MemoryTopic
from zenoti_receiver.logic.receiving import ClassBookingReceiver


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def table() -> MemoryTable:
    return MemoryTable()


@pytest.fixture
def topic() -> MemoryTopic:
    return MemoryTopic()


@pytest.fixture
def quarantine() -> MemoryQuarantine:
    return MemoryQuarantine()


@pytest.fixture
def receiver(table, topic, quarantine, clock) -> ClassBookingReceiver:
    return ClassBookingReceiver(FixedTokens(), table, quarantine, clock=clock)
