"""Behaviour layered over any backend: bounded retries, and a read-only view."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

from entra_backup.store.backends.base import (
    AlreadyExists,
    Backend,
    FileInfo,
    ReadOnlyBackend,
    TransientError,
)

T = TypeVar("T")


class RetryingBackend(Backend):
    """Retries calls that failed with :class:`TransientError`, with full-jitter backoff.

    At most ``attempts`` calls are made; the n-th retry waits a random time in
    ``[0, min(max_delay, base_delay * 2**n))``. Other errors are raised at once. A create
    whose earlier attempt may have landed (a timeout after the server stored it) is judged
    by content: if the retry finds the name taken by identical bytes, the create succeeded.
    """

    def __init__(
        self,
        inner: Backend,
        *,
        attempts: int = 5,
        base_delay: float = 0.2,
        max_delay: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.inner = inner
        self._attempts = attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()

    def create(self, name: str, data: bytes) -> None:
        """Create, retrying transient failures; see the class docstring for ambiguity."""
        failed_once = False

        def attempt() -> None:
            nonlocal failed_once
            try:
                self.inner.create(name, data)
            except TransientError:
                failed_once = True
                raise
            except AlreadyExists:
                if not (failed_once and self.inner.read(name) == data):
                    raise

        self._call(attempt)

    def read(self, name: str) -> bytes:
        """Read, retrying transient failures."""
        return self._call(lambda: self.inner.read(name))

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """Read a range, retrying transient failures."""
        return self._call(lambda: self.inner.read_range(name, offset, length))

    def delete(self, name: str) -> None:
        """Delete, retrying transient failures."""
        self._call(lambda: self.inner.delete(name))

    def withdraw(self, name: str) -> None:
        """Withdraw (see ``Backend.withdraw``), retrying transient failures."""
        self._call(lambda: self.inner.withdraw(name))

    def old_versions_kept(self) -> str | None:
        """Ask the wrapped backend, retrying transient failures."""
        return self._call(self.inner.old_versions_kept)

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        """List in full (a listing cannot resume mid-way), retrying transient failures."""
        return iter(self._call(lambda: list(self.inner.list(prefix))))

    def exists(self, name: str) -> bool:
        """Check existence, retrying transient failures."""
        return self._call(lambda: self.inner.exists(name))

    def close(self) -> None:
        """Close the wrapped backend."""
        self.inner.close()

    def _call(self, operation: Callable[[], T]) -> T:
        for retry in range(self._attempts - 1):
            try:
                return operation()
            except TransientError:
                ceiling = min(self._max_delay, self._base_delay * 2**retry)
                self._sleep(self._rng.uniform(0, ceiling))
        return operation()


class ReadOnlyView(Backend):
    """Passes reads through and refuses every write with :class:`ReadOnlyBackend`."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner

    def create(self, name: str, data: bytes) -> None:
        """Refuse."""
        raise ReadOnlyBackend(f"cannot create {name}: the repository is opened read-only")

    def read(self, name: str) -> bytes:
        """Read from the wrapped backend."""
        return self.inner.read(name)

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        """Read a range from the wrapped backend."""
        return self.inner.read_range(name, offset, length)

    def delete(self, name: str) -> None:
        """Refuse."""
        raise ReadOnlyBackend(f"cannot delete {name}: the repository is opened read-only")

    def list(self, prefix: str = "") -> Iterator[FileInfo]:
        """List the wrapped backend."""
        return self.inner.list(prefix)

    def exists(self, name: str) -> bool:
        """Ask the wrapped backend."""
        return self.inner.exists(name)

    def old_versions_kept(self) -> str | None:
        """Ask the wrapped backend."""
        return self.inner.old_versions_kept()

    def close(self) -> None:
        """Close the wrapped backend."""
        self.inner.close()
