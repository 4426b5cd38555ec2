"""Seeded randomness: ids, timestamps and choices that depend only on the spec's seed.

Each concern draws from its own named stream, so adding a property to devices does not
shift the ids of groups. Nothing here reads the clock or the operating system's entropy.
"""

from __future__ import annotations

import base64
import random
import struct
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")

TENANT_BORN = datetime(2017, 3, 14, 9, 30, tzinfo=UTC).timestamp()
"""When every generated tenant was created; all other timestamps fall after it."""
GENERATED_AT = datetime(2026, 1, 15, 8, 0, tzinfo=UTC).timestamp()
"""The fixed 'now' of generated content (last sign-ins, secret lifetimes)."""
DAY = 86_400.0


def iso(timestamp: float) -> str:
    """A Graph timestamp (UTC, second precision, ``Z``)."""
    return datetime.fromtimestamp(int(timestamp), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def b64url(raw: bytes) -> str:
    """Unpadded base64url, the alphabet of Graph's composite ids."""
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def guid_le(value: str) -> bytes:
    """A GUID's 16 bytes in Microsoft's little-endian layout."""
    return uuid.UUID(value).bytes_le


def cloud_sid(object_id: str) -> str:
    """The ``S-1-12-1-...`` security identifier Entra ID derives from a cloud object id."""
    parts = struct.unpack("<4I", guid_le(object_id))
    return "S-1-12-1-" + "-".join(str(part) for part in parts)


class Rand:
    """One named stream of seeded randomness."""

    def __init__(self, seed: int, stream: str) -> None:
        self.rng = random.Random(f"{seed}/{stream}")

    def uuid(self) -> str:
        """A random version-4 GUID, lower case."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def raw(self, size: int) -> bytes:
        """``size`` random bytes."""
        return self.rng.getrandbits(size * 8).to_bytes(size, "big")

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, items: Sequence[T]) -> T:
        return items[self.rng.randrange(len(items))]

    def between(self, low: int, high: int) -> int:
        """An integer in ``[low, high]``."""
        return self.rng.randint(low, high)

    def moment(self, start: float, end: float) -> float:
        """A timestamp uniformly in ``[start, end)``."""
        return start + self.rng.random() * max(end - start, 0.0)

    def sample(self, items: Sequence[T], count: int) -> list[T]:
        """``count`` distinct items (fewer if there are not that many)."""
        return self.rng.sample(items, min(count, len(items)))

    def weighted(self, count: int, cum_weights: Sequence[float]) -> list[int]:
        """``count`` indexes drawn with the given cumulative weights."""
        return self.rng.choices(range(len(cum_weights)), cum_weights=cum_weights, k=count)
