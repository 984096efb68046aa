"""The shipped stand-ins: a home gets them without pretraining, and the build command reproduces them."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from hubkit import catalog
from hubkit.catalog.standin import (
    DEFAULT_RECIPE,
    RECIPE_VERSION,
    build_standin,
    read_manifest,
    shipped_path,
)

FAMILIES = list(catalog.FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_ships_a_stand_in_of_the_current_recipe(family: str) -> None:
    manifest = read_manifest(shipped_path(family))
    assert manifest is not None, f"run 'hubkit catalog build --force --ship' to ship the {family} stand-in"
    assert manifest["recipe_version"] == RECIPE_VERSION and manifest["seed"] == 0
    assert manifest["recipe"] == asdict(DEFAULT_RECIPE)
    assert manifest["steps_done"] == DEFAULT_RECIPE.steps and not manifest["stopped_by_time_budget"]


def test_a_new_home_gets_the_shipped_stand_in_without_pretraining(tmp_path: Path) -> None:
    events: list[str] = []
    path = build_standin("qwen2.5", home=tmp_path, progress=lambda e: events.append(e.stage))
    assert events == ["shipped"]
    assert load_file(path / "model.safetensors").keys() == load_file(shipped_path("qwen2.5") / "model.safetensors").keys()
    assert read_manifest(path) == read_manifest(shipped_path("qwen2.5"))
    build_standin("qwen2.5", home=tmp_path, progress=lambda e: events.append(e.stage))
    assert events == ["shipped", "skipped"]


@pytest.mark.slow
@pytest.mark.parametrize("family", ["llama3", "phi3"])  # a byte-level BPE and a SentencePiece tokenizer
def test_the_build_command_reproduces_the_shipped_weights(tmp_path: Path, family: str) -> None:
    path = build_standin(family, home=tmp_path, force=True)
    shipped = shipped_path(family)
    tokenizer_files = sorted(p.name for p in shipped.iterdir() if p.name.startswith("tokenizer"))
    assert tokenizer_files == sorted(p.name for p in path.iterdir() if p.name.startswith("tokenizer"))
    for name in tokenizer_files:
        assert (path / name).read_bytes() == (shipped / name).read_bytes(), name
    rebuilt, expected = load_file(path / "model.safetensors"), load_file(shipped / "model.safetensors")
    assert rebuilt.keys() == expected.keys()
    # Bit for bit on the machine that built them; another CPU's vector units round float sums in
    # another order (seen: 5e-6 apart after 100 steps on a different EPYC), far below what training moves
    for name in expected:
        torch.testing.assert_close(rebuilt[name], expected[name], rtol=1e-3, atol=1e-4, msg=name)
    assert read_manifest(path)["final_loss"] == pytest.approx(read_manifest(shipped)["final_loss"], abs=1e-3)
