"""The benchmark's table: a row per measure, with its goal and verdict, and how figures are printed."""

from __future__ import annotations

from collections import Counter

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("measure", "ours", "reference", "ratio", "goal", "verdict")


def row(label: str, ours: str, reference: str = "", ratio: str = "", goal: str = "", met: bool | None = None) -> Row:
    """A row of the table; with `met`, a goal's verdict."""
    return (label, ours, reference, ratio, goal, "" if met is None else "met" if met else "NOT MET")


def render(rows: list[Row]) -> str:
    padded = [HEADER, *rows]
    widths = [max(len(line[column]) for line in padded) for column in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in padded]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def microseconds(seconds: float) -> str:
    return f"{seconds * 1_000_000:.0f} us"


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def dollars(parts: dict[str, float]) -> str:
    """Each part of a cost, as "API $1.00, Lambda $0.23"."""
    return ", ".join(f"{name} ${cost:.2f}" for name, cost in parts.items())


def spent(units: Counter[str]) -> str:
    """Write units and where they are spent, as "3 (by_center 1, by_guest 1, table 1)"."""
    return f"{units.total()} ({', '.join(f'{where} {count}' for where, count in sorted(units.items()))})"
