"""A one-line progress bar on a terminal; silent anywhere else, so logs and pipes stay clean."""

from __future__ import annotations

from typing import TextIO

WIDTH = 30


class Progress:
    def __init__(self, total: int, stream: TextIO, label: str) -> None:
        self._total = total
        self._stream = stream
        self._label = label
        self._done = 0
        self._drawn = 0  # length of the line on screen, to blank it out
        self._enabled = stream.isatty()

    def advance(self) -> None:
        self._done += 1
        self.draw()

    def draw(self) -> None:
        if not self._enabled:
            return
        filled = WIDTH * self._done // max(self._total, 1)
        line = f"{self._label} [{'#' * filled}{'.' * (WIDTH - filled)}] {self._done}/{self._total}"
        self._stream.write("\r" + line.ljust(self._drawn))
        self._stream.flush()
        self._drawn = len(line)

    def clear(self) -> None:
        """Blank the bar, so that a line printed on the same terminal starts at its left edge."""
        if self._enabled and self._drawn:
            self._stream.write("\r" + " " * self._drawn + "\r")
            self._stream.flush()
            self._drawn = 0
