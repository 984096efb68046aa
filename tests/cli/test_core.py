"""The terminal view of the run database."""
from __future__ import annotations

import json

from hubkit.cli import main
from hubkit.store import open_store
from tests.fixtures.db import seed_minimal


def test_init_then_runs_and_show(hub_home, capsys):
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "Run database ready" in out and str(hub_home.resolve()) in out
    store = open_store()
    seed_minimal(store)
    run = store.create_run(owner="alice", name="<b>bold</b> sums", domain="math", base_model="llama3-standin")
    store.append_points(run.id, [{"step": 1, "loss": 2.0}])
    store.finish_run(run.id, outcome="failure", failure_class="divergence")
    assert main(["runs"]) == 0
    table = capsys.readouterr().out
    assert "<b>bold</b> sums" in table and "divergence" in table and "failure" in table
    assert main(["show", str(run.id)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["training_outcome"] == "failure" and shown["loss_curve_data"] == [
        {"step": 1, "epoch": None, "loss": 2.0, "lr": None, "grad_norm": None}]


def test_unknown_run_is_a_plain_error(hub_home, capsys):
    main(["init"])
    assert main(["show", "999"]) == 2
    assert "There is no model" in capsys.readouterr().err
