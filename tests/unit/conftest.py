"""The in-memory stand-ins of tests/unit/memory.py, and a receiver wired to them, for the logic's tests."""

from __future__ import annotations

import pytest

from tests.unit.memory import Clock, FixedTokens, MemoryHeldBodies, MemoryTable, MemoryTopic
from zenoti_receiver.logic.receiving import WebhookReceiver


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
def held_bodies() -> MemoryHeldBodies:
    return MemoryHeldBodies()


@pytest.fixture
def receiver(table, topic, held_bodies, clock) -> WebhookReceiver:
    return WebhookReceiver(FixedTokens(), table, held_bodies, clock=clock)
