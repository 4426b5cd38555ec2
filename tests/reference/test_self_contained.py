"""The project reads nothing from outside its own tree.

A clone must pass its suite with nothing beside it, so no source, test, tool, benchmark,
build file or document may name the folder the Graph reference data used to be read from.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "tests", "tools", "bench", ".ci", "docs", "README.md", "Makefile",
           "pyproject.toml")
# Spelled in pieces so that this file does not match itself.
FORBIDDEN = ("../" + "shared", "shared/" + "graph-reference")


def _scanned_files() -> list[Path]:
    files = []
    for top in SCANNED:
        if (ROOT / top).is_file():
            files.append(ROOT / top)
            continue
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files.append(path)
    return files


def test_nothing_names_a_folder_outside_the_project() -> None:
    files = _scanned_files()
    offenders = []
    for path in files:
        content = path.read_bytes()
        offenders += [f"{path.relative_to(ROOT)}: {word}" for word in FORBIDDEN
                      if word.encode() in content]
    assert len(files) > 100, "the scan found too few files to be looking in the right place"
    assert offenders == []


def test_every_reference_file_has_its_provenance_and_licence() -> None:
    graph = ROOT / "tests" / "reference" / "graph"
    sources = (graph / "SOURCES.md").read_text(encoding="utf-8")
    compressed = sorted(p.name for p in graph.glob("*.xz"))
    assert compressed, "no reference files found"
    for name in compressed:
        row = next((line for line in sources.splitlines() if f"`{name}`" in line), None)
        assert row is not None, f"{name} has no row in SOURCES.md"
        licence = row.rsplit("`LICENSE-", 1)[1].split("`", 1)[0]
        assert (graph / f"LICENSE-{licence}").is_file(), f"{name}: LICENSE-{licence} is missing"
