"""What a Graph client did, for job reports, metrics and benchmarks."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class GraphCounters:
    """Running totals of one client; each counts something an operator can reason about.

    ``requests`` counts HTTP requests sent (a ``$batch`` is one; retries count again);
    ``resource_units`` what Graph charged (``x-ms-resource-unit``, or our estimate when
    the header is absent); ``throttle_waits`` the 429 answers honoured and
    ``throttle_wait_seconds`` the time they cost; ``paced_seconds`` the time the budget
    held requests back before sending them; ``retries`` every resend after a failure.
    """

    requests: int = 0
    resource_units: int = 0
    throttle_waits: int = 0
    throttle_wait_seconds: float = 0.0
    paced_seconds: float = 0.0
    retries: int = 0

    def as_dict(self) -> dict[str, float]:
        """The counters as a plain mapping (for JSON output)."""
        return asdict(self)
