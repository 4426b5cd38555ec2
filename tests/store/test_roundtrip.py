"""Any JSON document stored in a repository reads back identical."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entra_backup.store.backends.memory import MemoryBackend
from tests.domain.test_canonical import json_values
from tests.store._support import new_repository, reopen

documents = st.dictionaries(st.text(max_size=10), json_values, max_size=6)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents, min_size=1, max_size=12))
def test_documents_read_back_identical(docs: list[dict[str, Any]]) -> None:
    backend = MemoryBackend()
    repo = new_repository(backend)
    ids = [f"object-{position:03d}" for position in range(len(docs))]
    with repo.writer("tenant") as writer:
        for object_id, document in zip(ids, docs, strict=True):
            writer.add("things", object_id, document)
        snapshot = writer.commit()
    reader = reopen(backend)
    stored = reader.load_snapshot(snapshot.id)
    assert dict(reader.objects(stored, "things")) == dict(zip(ids, docs, strict=True))
    for object_id, document in zip(ids, docs, strict=True):
        assert reader.get(stored, "things", object_id) == document


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True))
def test_objects_come_back_in_id_order_whatever_the_insertion_order(ids: list[str]) -> None:
    repo = new_repository(MemoryBackend())
    with repo.writer("tenant", sort_buffer=7) as writer:
        for object_id in ids:
            writer.add("things", object_id, {"id": object_id})
        snapshot = writer.commit()
    assert list(repo.object_ids(snapshot, "things")) == sorted(ids)
