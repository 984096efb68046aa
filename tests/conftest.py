"""Shared test set-up: offline hubs, throwaway databases, one place for fixtures.

Each fixture module under ``tests/fixtures`` belongs to one part of the
platform; list new ones here.

Reruns: a test is tried once more only when it names the race it retries with
``@pytest.mark.races("what races what")``; docs/operations.md lists those tests
(a test keeps that list and the markers equal). Any other failure is a failure.
"""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.models",
    "tests.fixtures.ray",
    "tests.fixtures.service",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that names its race gets one rerun; a rerun asked for any other way is refused."""
    for item in items:
        race = item.get_closest_marker("races")
        if item.get_closest_marker("flaky") is not None:
            raise pytest.UsageError(f"{item.nodeid}: reruns come only from @pytest.mark.races(...)")
        if race is None:
            continue
        if len(race.args) != 1 or not str(race.args[0]).strip():
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.races needs the race it retries, in words")
        item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
