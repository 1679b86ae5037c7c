"""The house's layers hold: no lower layer imports a higher one, and no pipeline modules import each other.

Read from the source (the AST of every module), so a violation fails here before
anything runs. The layers, highest first, follow the data flow ingress → kafka →
processing → assess → outputs as imports see it: what runs a thing imports it,
never the other way round.

* the entry points (``worker``, ``commands``, ``cli``, ``demo``, ``simulation``,
  ``benchmarks``) may import everything;
* the outputs (``console``, ``alerting``, ``notify``);
* ``ingress`` and ``state``;
* ``processing``;
* ``kafka``;
* ``assess`` and ``devices``, pure domain logic;
* ``schemas`` and ``detectors``, which import nothing from ``pipeline``.

pipeline's top-level modules (``config``, ``clock``, ``metrics``, ``processes``, …)
are shared by every layer and belong to none; the circle check covers them.
``assess`` and ``processing`` import no Faust, aiokafka, kafka-python or aiohttp.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS: tuple[tuple[str, ...], ...] = (
    (
        "pipeline.worker",
        "pipeline.commands",
        "pipeline.cli",
        "pipeline.demo",
        "pipeline.simulation",
        "pipeline.benchmarks",
    ),
    ("pipeline.console", "pipeline.alerting", "pipeline.notify"),
    ("pipeline.ingress", "pipeline.state"),
    ("pipeline.processing",),
    ("pipeline.kafka",),
    ("pipeline.assess", "pipeline.devices"),
    ("schemas", "detectors"),
)
"""Highest first: a module may import its own layer and the ones below, never one above."""
BROKER_CLIENTS = ("faust", "mode", "aiokafka", "kafka", "aiohttp")
PURE = ("pipeline.assess", "pipeline.processing")


def _module_names() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in ("schemas", "detectors", "pipeline"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = _module_names()


def _imported(node: ast.AST) -> Iterator[str]:
    """Absolute module names an import statement names (``from a import b`` names ``a`` and ``a.b``)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
        yield node.module
        yield from (f"{node.module}.{alias.name}" for alias in node.names)


def imports(source: str, *, deferred: bool) -> set[str]:
    """What a module imports: at import time (also under ``if``/``try``, so ``TYPE_CHECKING`` counts),
    and with ``deferred`` also inside functions and classes.

    >>> sorted(imports("import a\\nif X:\\n    from b import c\\ndef f():\\n    import d", deferred=False))
    ['a', 'b', 'b.c']
    """
    tree = ast.parse(source)
    if deferred:
        return {name for node in ast.walk(tree) for name in _imported(node)}
    found: set[str] = set()
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        found.update(_imported(node))
        if isinstance(node, ast.If | ast.Try | ast.With):
            pending.extend(ast.iter_child_nodes(node))
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _layer(module: str) -> int | None:
    for rank, packages in enumerate(LAYERS):
        if any(_within(module, package) for package in packages):
            return rank
    return None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import of a higher layer by a lower one, as ``importer -> imported``.

    >>> layer_violations({"pipeline.assess.tiers": {"pipeline.kafka.topics", "schemas.hazard"}})
    ['pipeline.assess.tiers (assess, devices) -> pipeline.kafka.topics (kafka)']
    """
    found = []
    for importer, imported in sorted(graph.items()):
        low = _layer(importer)
        for name in sorted(imported):
            high = _layer(name)
            if low is not None and high is not None and high < low:
                found.append(
                    f"{importer} ({', '.join(p.rsplit('.', 1)[-1] for p in LAYERS[low])}) -> "
                    f"{name} ({', '.join(p.rsplit('.', 1)[-1] for p in LAYERS[high])})"
                )
    return found


def _graph(*, deferred: bool) -> dict[str, set[str]]:
    return {
        module: {name for name in imports(path.read_text(), deferred=deferred) if name in MODULES} - {module}
        for module, path in MODULES.items()
    }


def test_no_module_imports_a_higher_layer() -> None:
    violations = layer_violations(_graph(deferred=True))
    assert not violations, "a lower layer imports a higher one:\n" + "\n".join(violations)


def test_schemas_and_detectors_import_nothing_from_pipeline() -> None:
    """Below every layer, including pipeline's shared modules (which the layer test leaves out)."""
    found = {
        f"{module} -> {name}"
        for module, imported in _graph(deferred=True).items()
        if module.split(".")[0] in {"schemas", "detectors"}
        for name in imported
        if _within(name, "pipeline")
    }
    assert not found, "schemas and detectors must not import pipeline:\n" + "\n".join(sorted(found))


@pytest.mark.parametrize("package", PURE)
def test_pure_packages_import_no_broker_or_web_client(package: str) -> None:
    clients = {
        f"{module} -> {name}"
        for module, path in MODULES.items()
        if _within(module, package)
        for name in imports(path.read_text(), deferred=True)
        if name.split(".")[0] in BROKER_CLIENTS
    }
    assert not clients, f"{package} must stay pure:\n" + "\n".join(sorted(clients))


def test_no_import_circle_among_modules() -> None:
    # Imports inside functions are excluded: they run after every module is loaded.
    try:
        TopologicalSorter(_graph(deferred=False)).prepare()
    except CycleError as circle:
        # graphlib lists the circle from importer to importer; reversed, each module imports the next
        pytest.fail(f"import circle: {' -> '.join(reversed(circle.args[1]))}")


def test_the_checks_see_every_package() -> None:
    """A package added outside the layers is a decision to make here, not one to miss."""
    packages = {
        module
        for module, path in MODULES.items()
        if path.name == "__init__.py" and module.count(".") == 1 and module.startswith("pipeline.")
    }
    assert packages == {p for layer in LAYERS for p in layer if p.startswith("pipeline.")} - {
        "pipeline.cli",
        "pipeline.demo",
    }
