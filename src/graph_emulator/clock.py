"""The emulator's clock: real time plus an offset that tests advance at will.

Everything time-based in the emulator (token lifetimes, delta-token expiry, the recycle
bin's 30 days, throttling windows) reads this clock, so a test moves time forward through
the control endpoint instead of sleeping.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time shifted by an adjustable offset; optionally frozen."""

    def __init__(self, *, start: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen_at: float | None = None
        if frozen:
            self._frozen_at = time.time() + self._offset

    def now(self) -> float:
        """Seconds since the epoch on the emulator's clock."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now_datetime(self) -> datetime:
        """The emulator's current time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (never backward) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
                return self._frozen_at
            self._offset += seconds
            return time.time() + self._offset


def iso(ts: float) -> str:
    """Format an epoch timestamp as Graph does: ISO 8601 UTC with a trailing Z."""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
