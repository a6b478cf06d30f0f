"""The structure holds: no import circle between modules, and import-linter's contracts kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fitbuddy", "affiliates", "gym")


def import_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every group of modules that import each other, directly or around a circle (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        # Iterative, so a deep chain of imports cannot hit Python's recursion limit.
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[module] = min(low[module], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1 or graph.direct_import_exists(importer=module, imported=module):
                        groups.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_the_cycle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for importer, imported in (("a.x", "a.y"), ("a.y", "a.z"), ("a.z", "a.x"), ("a.z", "a.w")):
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_no_module_imports_itself_around_a_circle():
    """Imports inside functions count: a circle hidden in a function is still a circle."""
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    cycles = import_cycles(graph)
    assert not cycles, "import circles:\n" + "\n".join(" <-> ".join(group) for group in cycles)


def test_the_import_contracts_are_kept():
    """The direction of imports written in pyproject.toml ([tool.importlinter]) holds."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:]


# --- each model says which database it lives in ---


def _own_models() -> list[type]:
    from django.apps import apps

    return [m for m in apps.get_models() if m.__module__.split(".", 1)[0] in ("affiliates", "gym")]


def test_every_fitbuddy_model_says_which_database_it_lives_in():
    from affiliates.silos import UnmarkedModel, silo_of

    unmarked = []
    for model in _own_models():
        try:
            silo_of(model)
        except UnmarkedModel as exc:
            unmarked.append(str(exc))
    assert _own_models() and not unmarked, unmarked


def test_an_unmarked_model_is_refused_not_sent_to_default():
    from affiliates.silos import UnmarkedModel, silo_of

    unmarked = type("Stray", (), {"__module__": "gym.stray.models"})
    with pytest.raises(UnmarkedModel, match="gym.stray.models.Stray"):
        silo_of(unmarked)


def test_no_relation_crosses_from_one_kind_of_database_to_the_other():
    from affiliates.silos import silo_of

    crossing = [
        f"{model.__name__}.{field.name} -> {field.related_model.__name__}"
        for model in _own_models()
        for field in model._meta.get_fields()
        if field.is_relation and field.related_model and silo_of(field.related_model) != silo_of(model)
    ]
    assert not crossing, crossing


def test_the_gym_apps_hold_the_affiliate_models_and_only_they():
    """TENANT_APPS (django-tenants' word for them) and the marks agree, model by model."""
    from django.apps import apps
    from django.conf import settings

    from affiliates.silos import Silo, silo_of

    misplaced = [
        f"{config.name}.{model.__name__} is {silo_of(model)}"
        for config in apps.get_app_configs()
        for model in config.get_models()
        if (silo_of(model) == Silo.AFFILIATE) != (config.name in settings.TENANT_APPS)
    ]
    assert not misplaced, misplaced
