"""The architecture is the folders, and imports only go down (read from the source, no import
is run): a module may import its own package and the layers below its own, never a layer above
nor a sibling of the same layer; client libraries stay in the layer that wraps them.

    __main__                              ``python -m truyvet``
    cli                                   the only layer that imports everything
    jobs | api | producers | devstack     the processes' parts, independent of each other
    kafka                                 the only users of confluent-kafka and aiokafka
    core: settings, topics, metrics, ...  the modules at the package's root: configuration,
                                          the topic catalogue, metric names, the API's client
    report                                rendering the report (pure but for printing the PDF)
    domain                                the rules (pure)
    codec                                 the formats (pure)
"""

from __future__ import annotations

import ast
from pathlib import Path

from truyvet.settings import ROOT

PACKAGE = ROOT / "truyvet"
LAYERS: list[set[str]] = [
    {"codec"},
    {"domain"},
    {"report"},
    {"core"},
    {"kafka"},
    {"jobs", "api", "producers", "devstack"},
    {"cli"},
    {"__main__"},
]
CORE = {"settings", "topics", "metrics", "api_client", "gc_tuning", "secret_file", "checkpoint_file", "stopping",
        "__init__"}
# which top-level parts of truyvet may import a client library (and nothing else may)
LIBRARIES = {
    "confluent_kafka": {"kafka"}, "aiokafka": {"kafka"},
    "faust": {"jobs"}, "mode": {"jobs"},
    "redis": {"api", "devstack"}, "aiohttp": {"api"},
}
PURE = {"codec", "domain", "report"}  # no I/O library at all ...
PRINTS = PACKAGE / "report" / "pdf_format.py"  # ... but this one runs Chromium to print
IO_LIBRARIES = set(LIBRARIES) | {"prometheus_client", "click", "rich", "urllib", "socket",
                                 "subprocess", "threading", "asyncio"}


def _part(path: Path) -> str:
    name = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    return "core" if name in CORE else name


def _target(name: str) -> str:
    part = name.split(".")[1]
    return "core" if part in CORE else part


def _layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out += [(node.lineno, node.module)]
            if node.module == "truyvet":  # from truyvet import metrics, topics
                out += [(node.lineno, f"truyvet.{a.name}") for a in node.names]
    return out


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(p) for p in _modules()}
    assert parts <= set().union(*LAYERS), parts - set().union(*LAYERS)


def test_imports_only_go_down() -> None:
    wrong = []
    for path in _modules():
        part = _part(path)
        for line, name in _imports(path):
            if not name.startswith("truyvet.") or name == "truyvet.__main__":
                continue
            target = _target(name)
            if target == part:
                continue
            if _layer(target) >= _layer(part):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_client_libraries_stay_in_their_layer_and_pure_layers_do_no_io() -> None:
    wrong = []
    for path in _modules():
        part = _part(path)
        for line, name in _imports(path):
            top = name.split(".")[0]
            if top in LIBRARIES and part not in LIBRARIES[top] and part not in {"cli"}:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
            if part in PURE and top in IO_LIBRARIES and path != PRINTS:
                wrong.append(f"{path.relative_to(ROOT)}:{line} (pure) imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_a_climb(tmp_path: Path) -> None:
    """The check itself: an import from the domain up into the jobs is reported."""
    climb = tmp_path / "climb.py"
    climb.write_text("from truyvet.jobs.runtime import BatchJob\nimport confluent_kafka\n")
    names = [n for _, n in _imports(climb)]
    assert names == ["truyvet.jobs.runtime", "confluent_kafka"]
    assert _layer("jobs") > _layer("domain") and "domain" not in LIBRARIES["confluent_kafka"]
