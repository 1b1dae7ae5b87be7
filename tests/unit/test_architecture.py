"""The import direction between the package's modules, pinned.

Every `orchestrator/**/*.py` is parsed (not imported) and each import it makes, anywhere in the
file (module level, inside functions, under TYPE_CHECKING), is checked against RULES: a table of
who may import what. A deliberate exception is one named (importer, imported) pair in
EXCEPTIONS, with its reason; it never widens to a whole package.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "orchestrator"

# Pure decisions: no effects, so they may lean only on each other and the runtime's data types.
PURE = (
    "orchestrator.lifecycle",
    "orchestrator.failures",
    "orchestrator.capacity",
    "orchestrator.instances",
    "orchestrator.instance_table",
    "orchestrator.gpus",
    "orchestrator.clock",
    "orchestrator.errors",
)


@dataclass(frozen=True)
class Rule:
    """Modules under `importers` (but not under `except_importers`) may not import anything
    under `forbidden`; if `allowed` is set, their `orchestrator.*` imports must fall under it.
    Names are dotted prefixes: `a.b` covers `a.b` and `a.b.*`."""

    name: str
    importers: tuple[str, ...]
    forbidden: tuple[str, ...] = ()
    allowed: tuple[str, ...] | None = None
    except_importers: tuple[str, ...] = ()


RULES = (
    Rule(
        "only runtime.docker talks to Docker",
        importers=("orchestrator",),
        # ... and the Swarm runtime, the one other module that speaks Docker (issue 18)
        except_importers=("orchestrator.runtime.docker", "orchestrator.runtime.swarm"),
        forbidden=("docker",),
    ),
    Rule(
        "the engine knows nothing of the service layers above it",
        importers=("orchestrator.engine",),
        forbidden=(
            "orchestrator.validation",
            "orchestrator.operations",
            "orchestrator.api",
            "orchestrator.cli",
            "orchestrator.local",
            "orchestrator.search",
        ),
    ),
    Rule(
        "the store is persistence only",
        importers=("orchestrator.store",),
        forbidden=(
            "orchestrator.engine",
            "orchestrator.runtime",
            "orchestrator.api",
            "orchestrator.cli",
            "orchestrator.local",
            "orchestrator.operations",
            "orchestrator.validation",
            "orchestrator.search",
        ),
    ),
    *(
        Rule(
            f"{module} is a pure decision module",
            importers=(module,),
            allowed=(*PURE, "orchestrator.runtime.protocol"),
        )
        for module in PURE
    ),
    Rule(
        "runtimes depend only on errors, the clock, GPU data and each other",
        importers=("orchestrator.runtime",),
        # gpus: the GPU record a runtime reports and the nvidia-smi answer it parses (pure).
        allowed=(
            "orchestrator.errors",
            "orchestrator.clock",
            "orchestrator.gpus",
            "orchestrator.runtime",
        ),
    ),
    Rule(
        "the CLI is a leaf",
        importers=("orchestrator",),
        except_importers=("orchestrator.cli",),
        forbidden=("orchestrator.cli",),
    ),
    Rule(
        "the HTTP API is a leaf (the CLI, the pytest plugin and its dashboard use it)",
        importers=("orchestrator",),
        except_importers=(
            "orchestrator.api",
            "orchestrator.cli",
            "orchestrator.testing",
            "orchestrator.dashboard",
        ),
        forbidden=("orchestrator.api",),
    ),
    Rule(
        "the dashboard is served by the HTTP API alone",
        importers=("orchestrator",),
        except_importers=("orchestrator.dashboard", "orchestrator.api"),
        forbidden=("orchestrator.dashboard",),
    ),
)

# (importer, imported module): why. Exact module names, never prefixes.
EXCEPTIONS = {
    ("orchestrator.store.search_index", "orchestrator.search.properties"): (
        "the search index stores rows in the shape Search reads (search.properties.Row)"
    ),
    ("orchestrator.__main__", "orchestrator.cli.main"): (
        "`python -m orchestrator` is the CLI's second entry point"
    ),
}

# What importing a pure module in a fresh interpreter must not drag in.
HEAVY = ("orchestrator.local", "orchestrator.engine", "docker")


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT)}:{self.line}"
        return f"{where}: {self.importer} imports {self.imported}"


def under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    """Whether `name` is a module or package of ours (`from pkg import name` may be either)."""
    relative = Path(*name.split("."))
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative).is_dir()


def absolute(importer: str, path: Path, module: str | None, level: int) -> str:
    """The absolute module a `from ... import` names, relative levels resolved."""
    if level == 0:
        return module or ""
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{module}" if module else package


def imports_of(path: Path) -> Iterator[Import]:
    """Every module `path` imports, wherever in the file the import statement sits."""
    return imports_in(path.read_text(), path)


def imports_in(source: str, path: Path) -> Iterator[Import]:
    """The imports of `source`, read as the text of the package file `path`."""
    importer = module_name(path)
    for node in ast.walk(ast.parse(source, str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(importer, alias.name, path, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = absolute(importer, path, node.module, node.level)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                name = (
                    candidate if under(base, ("orchestrator",)) and is_module(candidate) else base
                )
                yield Import(importer, name, path, node.lineno)


@cache
def all_imports() -> tuple[Import, ...]:
    return tuple(found for path in sorted(PACKAGE.rglob("*.py")) for found in imports_of(path))


def breaks(rule: Rule, found: Import) -> bool:
    if not under(found.importer, rule.importers) or under(found.importer, rule.except_importers):
        return False
    if (found.importer, found.imported) in EXCEPTIONS:
        return False
    if under(found.imported, rule.forbidden):
        return True
    return (
        rule.allowed is not None
        and under(found.imported, ("orchestrator",))
        and not under(found.imported, rule.allowed)
    )


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_imports_follow_the_rule(rule: Rule) -> None:
    offending = [str(found) for found in all_imports() if breaks(rule, found)]
    assert not offending, f"{rule.name}, but:\n  " + "\n  ".join(offending)


def test_every_module_the_rules_name_exists() -> None:
    """A renamed package must not turn a rule into one that can never fire."""
    named = {
        prefix
        for rule in RULES
        for prefix in (*rule.importers, *rule.forbidden, *(rule.allowed or ()))
        if under(prefix, ("orchestrator",))
    }
    named |= {module for pair in EXCEPTIONS for module in pair}
    assert sorted(name for name in named if not is_module(name)) == []


def test_every_exception_is_still_needed() -> None:
    """An exception the code no longer uses is a hole left open: close it."""
    pairs = {(found.importer, found.imported) for found in all_imports()}
    assert sorted(set(EXCEPTIONS) - pairs) == []


# One import each rule must refuse, so that no rule passes because it can never fire.
REFUSED = {
    "only runtime.docker talks to Docker": ("orchestrator.engine.hostrun", "docker.errors"),
    "the engine knows nothing of the service layers above it": (
        "orchestrator.engine.supervisor",
        "orchestrator.operations.training_jobs",
    ),
    "the store is persistence only": ("orchestrator.store.jobs", "orchestrator.runtime.protocol"),
    **{
        f"{module} is a pure decision module": (module, "orchestrator.store.jobs")
        for module in PURE
    },
    "runtimes depend only on errors, the clock, GPU data and each other": (
        "orchestrator.runtime.fake",
        "orchestrator.lifecycle",
    ),
    "the CLI is a leaf": ("orchestrator.local", "orchestrator.cli.render"),
    "the HTTP API is a leaf (the CLI, the pytest plugin and its dashboard use it)": (
        "orchestrator.local",
        "orchestrator.api.server",
    ),
    "the dashboard is served by the HTTP API alone": (
        "orchestrator.cli.serve",
        "orchestrator.dashboard.routes",
    ),
}

# Imports the rules must let through (the exceptions included).
ACCEPTED = [
    ("orchestrator.runtime.docker", "docker.errors"),
    ("orchestrator.runtime.swarm", "docker.types"),
    ("orchestrator.failures", "orchestrator.runtime.protocol"),
    ("orchestrator.capacity", "orchestrator.instances"),
    ("orchestrator.runtime.fake", "orchestrator.clock"),
    ("orchestrator.store.capacity", "orchestrator.capacity"),
    ("orchestrator.cli.serve", "orchestrator.api.server"),
    ("orchestrator.api.server", "orchestrator.dashboard.routes"),
    ("orchestrator.dashboard.security", "orchestrator.api.sigv4"),
    ("orchestrator.engine.recording", "orchestrator.store.metrics"),
    *EXCEPTIONS,
]


def made_up(importer: str, imported: str) -> Import:
    return Import(importer, imported, PACKAGE / "made_up.py", 1)


@pytest.mark.parametrize("rule", RULES, ids=[rule.name for rule in RULES])
def test_each_rule_refuses_its_example(rule: Rule) -> None:
    assert breaks(rule, made_up(*REFUSED[rule.name]))


@pytest.mark.parametrize(("importer", "imported"), ACCEPTED)
def test_the_rules_accept_what_the_design_allows(importer: str, imported: str) -> None:
    assert [rule.name for rule in RULES if breaks(rule, made_up(importer, imported))] == []


def test_the_scanner_sees_imports_in_functions_and_relative_ones() -> None:
    source = (
        "import docker.errors\n"
        "from . import clock\n"
        "from ..store.jobs import JobStore\n"
        "def later() -> None:\n"
        "    from orchestrator.engine import engine\n"
    )
    path = PACKAGE / "runtime" / "imagined.py"  # named as if in the package, never written
    found = [
        item.imported
        for item in imports_in(source, path)
        if under(item.imported, ("orchestrator", "docker"))
    ]
    assert found == [
        "docker.errors",
        "orchestrator.runtime",
        "orchestrator.store.jobs",
        "orchestrator.engine.engine",
    ]


@pytest.mark.parametrize("module", PURE)
def test_a_pure_module_loads_alone(module: str) -> None:
    """Importing a decision module must not start the engine, the store or docker-py with it."""
    probe = f"import json, sys, {module}; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(result.stdout)
    assert [name for name in loaded if under(name, HEAVY)] == [], f"import {module} loaded them"
