"""Research export: Parquet files and a datasheet; private rows stay out unless asked."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from hubkit.cli import main
from hubkit.research.export import export
from tests.research.world import World

FILES = {"runs", "scores", "curves", "lineage", "evaluations", "events", "feedback"}


def test_export_writes_every_table_and_a_datasheet(world: World, tmp_path: Path):
    paths = export(directory=tmp_path / "out", store=world.store)
    assert {p.stem for p in paths if p.suffix == ".parquet"} == FILES
    runs = pd.read_parquet(tmp_path / "out" / "runs.parquet")
    assert world.ids["code-oom"] not in set(runs["model_id"])  # private
    assert world.ids["math-diverged"] in set(runs["model_id"])  # failures are data
    assert runs.set_index("name").loc["math-good", "score.math.mw_math"] == 0.70
    curves = pd.read_parquet(tmp_path / "out" / "curves.parquet")
    assert curves["loss"].isna().any()  # the diverged run's NaN survives
    feedback = pd.read_parquet(tmp_path / "out" / "feedback.parquet")
    assert set(feedback.columns) == {"model_id", "username", "thumbs_up", "comment", "created_at", "updated_at"}
    events = pd.read_parquet(tmp_path / "out" / "events.parquet")
    assert "early_stop" in set(events["kind"]) and "actor" in events.columns
    sheet = (tmp_path / "out" / "datasheet.md").read_text(encoding="utf-8")
    for heading in ("## How it was collected", "## What is excluded", "Licence of this data set: CC-BY-4.0",
                    "### runs.parquet", "Private models"):
        assert heading in sheet
    assert not list((tmp_path / "out").glob("*.partial"))


def test_private_rows_are_exported_only_when_asked(world: World, tmp_path: Path):
    export(directory=tmp_path, store=world.store, include_private=True)
    runs = pd.read_parquet(tmp_path / "runs.parquet")
    assert world.ids["code-oom"] in set(runs["model_id"])


def test_cli_export_and_research_tables(world: World, tmp_path: Path, capsys):
    url = world.store.url
    assert main(["export", "--parquet", str(tmp_path / "cli"), "--db", url]) == 0
    assert (tmp_path / "cli" / "datasheet.md").is_file()
    assert main(["research", "museum", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "math-diverged" in out and "divergence" in out and "Of 11 finished runs" in out
    assert main(["research", "flags", "--detect", "--db", url]) == 0
    assert "This math model's translation score rose" in capsys.readouterr().out
    assert main(["research", "genealogy", "--model", str(world.ids["math-grandchild"]), "--db", url]) == 0
    out = capsys.readouterr().out
    assert "math-child" in out and "Datasets that contributed" in out
    assert main(["research", "genealogy", "--taint", str(world.datasets["other"]), "--reason", "licence",
                 "--db", url]) == 0
    assert "it marks 6 models" in capsys.readouterr().out
