"""docs/evaluation.md names what the code does: every domain, task and stamp field."""
from __future__ import annotations

import re
from pathlib import Path

from hubkit.evaluate import DOMAINS
from hubkit.evaluate.domains import TaskSpec
from hubkit.evaluate.sandbox import SandboxLimits
from hubkit.evaluate.stamps import RunSettings, build_stamp

DOC = (Path(__file__).parents[2] / "docs" / "evaluation.md").read_text(encoding="utf-8")


def test_every_domain_and_task_is_documented() -> None:
    rows = {line.split("|")[1].strip(): line for line in DOC.splitlines() if line.startswith("| ")}
    for domain in DOMAINS.values():
        assert domain.name in rows, domain.name
        for spec in (*domain.offline, *domain.standard):
            assert f"`{spec.name}`" in rows[domain.name], spec.name


def test_every_stamp_field_is_documented() -> None:
    stamp = build_stamp(spec=TaskSpec("t", "acc", needs_code_execution=True), suite="offline", task_version=1.0, num_fewshot=0,
                        output_type="multiple_choice", generation=None, fingerprint="0" * 64,
                        run=RunSettings(), sandbox=SandboxLimits())
    section = DOC[DOC.index("## Stamps"):DOC.index("## Code execution")]
    documented = set(re.findall(r"`([a-z_]+)`", section))
    assert set(stamp) <= documented, set(stamp) - documented
