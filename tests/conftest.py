"""Shared test set-up: offline hubs, throwaway databases, one place for fixtures.

Each fixture module under ``tests/fixtures`` belongs to one part of the
platform; list new ones here.
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
    "tests.fixtures.service",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """End-to-end tests (browser, hub, executors) race real servers on 2 shared cores:
    a failed one is tried once more, and pytest reports the rerun."""
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))
