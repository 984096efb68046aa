"""schemathesis against /openapi.json on a running service: no 500s, every answer matches the schema."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from hubkit.store.records import EvaluationIn

CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_headers_conformance,response_schema_conformance")


def _seed(svc) -> None:
    """Some real rows, so generated ids and slugs sometimes hit something."""
    local = svc.local
    run = local.create_run(owner="alice", name="math helper", domain="math", base_model="llama3-standin")
    local.append_points(run.id, [{"step": 1, "loss": 1.0}, {"step": 2, "loss": float("nan")}])
    local.finish_run(run.id, outcome="success")
    local.set_visibility(run.id, "public")
    local.record_evaluation(evaluation=EvaluationIn(domain="math", task="mw_math", metric="acc", value=0.5),
                            model_id=run.id)
    local.create_job(owner="alice", kind="train", notebook="notebooks/train.ipynb", parameters={})


@pytest.mark.slow
@pytest.mark.parametrize("who", ["alice", None, "platform"])
def test_no_server_errors_and_answers_match_the_schema(svc, tmp_path: Path, who):
    _seed(svc)
    headers = ["-H", f"Authorization: token {svc.tokens[who]}"] if who else []
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{svc.url}/openapi.json", "--checks", CHECKS,
           "--max-examples", "12", "--seed", "7", "--workers", "1", "--request-timeout", "30",
           "--phases", "examples,coverage,fuzzing", "--no-shrink", "--continue-on-failure",
           "--exclude-path-regex", r".*/jobs(/\{job_id\}/(cancel|logs))?$",
           "--report-dir", str(tmp_path), *headers]
    env = {**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
