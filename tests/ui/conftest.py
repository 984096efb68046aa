"""The UI tests reuse the seeded hub of the use-case tests."""
from __future__ import annotations

from tests.hub.conftest import hub_store, world  # noqa: F401 - fixtures
