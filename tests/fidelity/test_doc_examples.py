"""The emulator answers Microsoft's documentation example requests with the same shape."""

from __future__ import annotations

import pytest

from graph_emulator.model.kinds import KINDS
from tests.fidelity.doc_coverage import ALLOWANCES, GENERAL, KNOWN_GAPS, NOT_COVERED
from tests.fidelity.doc_runs import Run, run_example, served_template
from tests.fidelity.doc_writes import CREATES, DocumentedCreate
from tests.fidelity.oracle.examples import compare, load_examples
from tests.fidelity.test_routes import served_routes
from tests.fidelity.test_schema_responses import deleted_objects  # noqa: F401 (fixture)
from tests.support.live_emulator import LiveEmulator

CANDIDATES = 30
"""Objects of a kind tried in turn for an example's ``*``, until one gives content."""


@pytest.fixture(scope="module")
def runs(emulator: LiveEmulator, deleted_objects: list[str]) -> list[Run]:  # noqa: F811
    """Every GET example whose route the emulator serves, run against it."""
    routes = served_routes(emulator)
    results = []
    with emulator.http() as client:
        # The group first: the deletedItems examples show a deleted group.
        candidates = {"deletedItems": deleted_objects[::-1]}
        for name, kind in KINDS.items():
            if not kind.singleton and "{id}" not in kind.path:
                listed = client.get(kind.path.lstrip("/"), params={"$top": str(CANDIDATES)})
                candidates[name] = [item["id"] for item in listed.json()["value"]]
        for example in load_examples():
            template = served_template(example, routes)
            if template is not None and example.method == "GET":
                results.append(run_example(client, example, template, candidates))
    return results


def differences(run: Run) -> str | None:
    """Why our answer to the example differs from Microsoft's, or None."""
    if run.status != run.example.status:
        return f"status {run.status} (docs {run.example.status}): {run.body}"
    found = compare(run.example.body, run.body,
                    GENERAL + ALLOWANCES.get(run.example.index, ()))
    return str(found) if found else None


def test_documented_requests_get_documented_shapes(runs: list[Run]) -> None:
    compared = [r for r in runs if r.example.index not in NOT_COVERED | KNOWN_GAPS.keys()]
    failures = {str(r.example): d for r in compared if (d := differences(r))}
    print(f"doc examples: {len(runs)} served GET examples run, {len(compared)} compared, "
          f"{len(NOT_COVERED)} not compared, {len(KNOWN_GAPS)} known gaps")
    assert failures == {}
    assert len(compared) >= 60


def test_every_exception_names_an_example_that_is_run(runs: list[Run]) -> None:
    run = {r.example.index for r in runs} | {c.create for c in CREATES}
    listed = set(NOT_COVERED) | set(KNOWN_GAPS) | set(ALLOWANCES)
    assert listed <= run, sorted(listed - run)


@pytest.mark.parametrize("documented", [c for c in CREATES if c.create not in KNOWN_GAPS],
                         ids=lambda d: d.path)
def test_documented_creates_and_deletes(emulator: LiveEmulator,
                                        documented: DocumentedCreate) -> None:
    check_documented_create(emulator, documented)


def check_documented_create(emulator: LiveEmulator, documented: DocumentedCreate) -> None:
    """Create with the documented request, compare with the documented answer, delete."""
    examples = {e.index: e for e in load_examples()}
    create, delete = examples[documented.create], examples[documented.delete]
    assert (create.method, delete.method) == ("POST", "DELETE")
    with emulator.http() as client:
        created = client.post(documented.path.lstrip("/"), json=documented.body)
        assert created.status_code == create.status, created.text
        found = compare(create.body, created.json(),
                        GENERAL + ALLOWANCES.get(create.index, ()))
        deleted = client.delete(f"{documented.path.lstrip('/')}/{created.json()['id']}")
    assert not found, str(found)
    assert deleted.status_code == delete.status
