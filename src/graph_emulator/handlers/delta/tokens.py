"""Opaque, signed delta and skip tokens.

A token is the base64 JSON of the round's state (see :class:`TokenState`) followed by an
HMAC over it, keyed per tenant, so a token edited by a client or carried to another tenant
is refused with a 400 instead of being trusted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from graph_emulator.odata.query import decode_token, encode_token
from graph_emulator.protocol import GraphError, bad_request

INITIAL = "i"
"""Phase of a skip token in round 1 (paging through what exists)."""
CHANGES = "c"
"""Phase of a skip token in a later round (paging through changes)."""
DELTA = "d"
"""Phase of a delta token (the start of the next round)."""

_MAC_BYTES = 12


@dataclass(frozen=True)
class TokenState:
    """What a delta or skip token remembers of its round."""

    phase: str
    kind: str
    select: tuple[str, ...] | None
    ids: tuple[str, ...] | None
    generation: int
    issued: float
    """Emulator time the round started (skip tokens) or the delta token was issued."""
    since: int | None = None
    """Changes after this directory sequence number are reported (None in round 1)."""
    upto: int = 0
    """The directory sequence number when the round started: the next round's baseline."""
    cursor: str | None = None
    """Without ``partial``: the last object id finished on earlier pages. With it: the
    object whose references are being split across pages."""
    partial: str | None = None
    """The last ``<nav>@delta`` reference key already sent for the ``cursor`` object."""
    replays: tuple[str, ...] = ()
    """Object ids to repeat at the top of the next page."""

    def to_json(self) -> dict[str, Any]:
        state: dict[str, Any] = {"p": self.phase, "k": self.kind, "g": self.generation,
                                 "t": self.issued, "u": self.upto}
        optional = {"s": self.select, "f": self.ids, "b": self.since, "c": self.cursor,
                    "m": self.partial, "r": self.replays or None}
        state.update({key: value for key, value in optional.items() if value is not None})
        return state

    @classmethod
    def from_json(cls, state: dict[str, Any]) -> TokenState:
        try:
            return cls(
                phase=_text(state["p"]), kind=_text(state["k"]),
                select=_texts(state.get("s")), ids=_texts(state.get("f")),
                generation=int(state["g"]), issued=float(state["t"]),
                since=None if state.get("b") is None else int(state["b"]),
                upto=int(state["u"]), cursor=_optional_text(state.get("c")),
                partial=_optional_text(state.get("m")),
                replays=_texts(state.get("r")) or (),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise invalid_token() from exc


def invalid_token() -> GraphError:
    """The 400 for a token this tenant did not issue."""
    return bad_request("Invalid skip token or delta token.", "Request_BadRequest")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _texts(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return tuple(_text(item) for item in value)


def _key(tenant_id: str) -> bytes:
    return hashlib.sha256(b"graph-emulator delta token|" + tenant_id.encode()).digest()


def _mac(tenant_id: str, body: str) -> str:
    digest = hmac.new(_key(tenant_id), body.encode(), hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(tenant_id: str, state: TokenState) -> str:
    """The opaque token for ``state``, bound to one tenant."""
    body = encode_token(state.to_json())
    return f"{body}.{_mac(tenant_id, body)}"


def verify(tenant_id: str, token: str) -> TokenState:
    """The state inside a token this tenant issued; Graph's 400 for anything else."""
    body, _, mac = token.rpartition(".")
    if not body or not hmac.compare_digest(mac, _mac(tenant_id, body)):
        raise invalid_token()
    return TokenState.from_json(decode_token(body))
