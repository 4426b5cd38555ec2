"""Filling one delta page within its budgets, splitting large reference lists.

Objects go out in id order after the cursor, so a round survives changes between pages:
the next page starts after the last id sent, whatever was added or removed before it.
A page holds at most ``page_size`` objects and ``member_budget`` references; an object
whose references do not fit is sent again on the next page with the next slice, as the
service does with large groups (delta-query-groups, "Paging through members in a large
group"). With replays on, a seeded generator picks objects to repeat later in the round.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graph_emulator.model.directory import Directory

from .changes import Change, Plan, describe, replay_body
from .state import DeltaState

MAX_REPLAYS_PER_PAGE = 20

Candidates = Callable[[str | None], Iterator[str]]
"""Object ids after the given one (or from the start), in id order."""


@dataclass
class PageResult:
    """A filled page and where the next one starts (if there is one)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    more: bool = False
    cursor: str | None = None
    partial: str | None = None
    replays: tuple[str, ...] = ()


@dataclass
class Position:
    """Where a page starts: as encoded in the skip token."""

    cursor: str | None = None
    partial: str | None = None
    replays: tuple[str, ...] = ()


def fill_page(directory: Directory, plan: Plan, candidates: Candidates, start: Position,
              *, settings: DeltaState, seed: str) -> PageResult:
    """One page of the round from ``start``."""
    result = PageResult(cursor=start.cursor)
    for object_id in start.replays:
        body = replay_body(directory, plan, object_id)
        if body is not None:
            result.items.append(body)
    rng = random.Random(seed)
    replays: list[str] = []
    refs_left = settings.member_budget
    objects = 0
    for object_id in _ids(candidates, start):
        if objects >= settings.page_size:
            result.more = True
            break
        resuming = start.partial is not None and object_id == start.cursor
        change = describe(directory, plan, object_id)
        if change is None:
            result.cursor = object_id
            continue
        refs = [r for r in change.refs if r[0] > (start.partial or "")] if resuming \
            else change.refs
        if refs and refs_left == 0:
            result.more = True
            break
        taken = refs[:refs_left]
        refs_left -= len(taken)
        result.items.append(_with_refs(change, taken))
        objects += 1
        if settings.replay_rate and rng.random() < settings.replay_rate:
            replays.append(object_id)
        result.cursor = object_id
        if len(taken) < len(refs):
            result.more, result.partial = True, taken[-1][0]
            break
    _place_replays(directory, plan, result, replays[:MAX_REPLAYS_PER_PAGE])
    return result


def _ids(candidates: Candidates, start: Position) -> Iterator[str]:
    if start.partial is not None and start.cursor is not None:
        yield start.cursor
    yield from candidates(start.cursor)


def _place_replays(directory: Directory, plan: Plan, result: PageResult,
                   replays: list[str]) -> None:
    if result.more:
        result.replays = tuple(replays)
        return
    # The last page: the round ends here, so a replay repeats on this page.
    for object_id in replays:
        body = replay_body(directory, plan, object_id)
        if body is not None:
            result.items.append(body)


def _with_refs(change: Change, refs: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    body = dict(change.body)
    for _, navigation, ref in refs:
        body.setdefault(f"{navigation}@delta", []).append(ref)
    return body
