"""Reruns: only a test that names its race is retried, and docs/operations.md lists every one."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _marked_races() -> dict[str, str]:
    """``path::test`` → the race it names, for every test marked ``@pytest.mark.races(...)``."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for deco in node.decorator_list:
                if (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)
                        and deco.func.attr == "races"):
                    found[f"{path.relative_to(ROOT)}::{node.name}"] = ast.literal_eval(deco.args[0])
    return found


def _documented() -> dict[str, str]:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    section = text.split("## Tests that are rerun", 1)[1].split("\n## ", 1)[0]
    return {m[1]: m[2].strip() for m in re.finditer(r"^\| `([^`]+)` \| (.+) \|$", section, re.MULTILINE)}


def test_every_rerun_test_is_listed_with_its_race() -> None:
    marked = _marked_races()
    assert marked, "no test names a race"
    assert _documented() == marked


def test_no_test_asks_for_a_rerun_another_way() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
                 if p.name != "test_reruns.py" and re.search(r"mark\.flaky|reruns\s*=",
                                                              p.read_text(encoding="utf-8"))
                 and p.name != "conftest.py"]
    assert offenders == []


class _Item:
    """Just enough of a ``pytest.Item`` for the collection hook."""

    def __init__(self, *marks: pytest.MarkDecorator) -> None:
        self.nodeid = "tests/x.py::test_x"
        self.marks = [m.mark for m in marks]

    def get_closest_marker(self, name: str) -> pytest.Mark | None:
        return next((m for m in self.marks if m.name == name), None)

    def add_marker(self, marker: pytest.MarkDecorator) -> None:
        self.marks.append(marker.mark)


def test_only_a_named_race_gets_a_rerun() -> None:
    from tests.conftest import pytest_collection_modifyitems

    plain, slow, racing = _Item(), _Item(pytest.mark.slow), _Item(pytest.mark.races("a beats b"))
    pytest_collection_modifyitems([plain, slow, racing])  # type: ignore[list-item]
    assert [i.get_closest_marker("flaky") is not None for i in (plain, slow, racing)] == [False, False, True]
    for refused in (_Item(pytest.mark.flaky(reruns=3)), _Item(pytest.mark.races(" "))):
        with pytest.raises(pytest.UsageError):
            pytest_collection_modifyitems([refused])  # type: ignore[list-item]
