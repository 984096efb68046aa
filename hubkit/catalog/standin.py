"""Offline stand-ins: tiny models of each family's real architecture class.

A stand-in is built from a seed in three steps: train a byte-level BPE
tokenizer on the micro-world corpus, initialise the family's architecture at
a tiny size, and pretrain it briefly so it produces non-random text while
leaving room for fine-tuning to show. Same seed and recipe → identical files on
one machine; another CPU rounds float sums differently, within 1e-5 here.
Builds are written to a temporary folder and renamed, under a lock, so two
processes never see or produce a half-built stand-in.

Pretraining takes minutes of CPU per family, so the package ships the four
stand-ins that ``hubkit catalog build --force --ship`` produced (seed 0, the
default recipe, in ``hubkit/catalog/standins/``); a home gets a copy of them
in milliseconds. Any other recipe or seed is built, and cached in the home
under its recipe and seed. ``tests/catalog/test_shipped.py`` checks that a
rebuild reproduces the shipped weights.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import transformers
from transformers import (
    CONFIG_MAPPING,
    AutoModelForCausalLM,
    PretrainedConfig,
    PreTrainedTokenizerBase,
)

from hubkit.catalog.families import FAMILIES, Family
from hubkit.catalog.tokenizer import train_tokenizer
from hubkit.config import load_settings
from hubkit.errors import TrainingError
from hubkit.microworld import DOMAINS, items, pretraining_corpus

# Bump when the recipe or the corpus changes, so old builds are rebuilt.
RECIPE_VERSION = 3
MANIFEST = "standin.json"
SHIPPED_DIR = Path(__file__).resolve().parent / "standins"


@dataclass(frozen=True)
class StandinRecipe:
    """Sizes and pretraining budget shared by every family's stand-in."""

    vocab_size: int = 768
    hidden_size: int = 96
    num_layers: int = 2
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 256
    max_positions: int = 512
    seq_len: int = 128
    batch_size: int = 8
    steps: int = 100
    learning_rate: float = 3e-3
    warmup_steps: int = 10
    time_budget_s: float = 3600.0
    corpus_per_domain: int = 40
    chat_docs_per_domain: int = 10


DEFAULT_RECIPE = StandinRecipe()


@dataclass(frozen=True)
class BuildProgress:
    """One progress event; ``stage`` is tokenizer, pretrain, saved, shipped (copied from the
    package) or skipped (already there)."""

    family: str
    stage: str
    step: int = 0
    total: int = 0
    loss: float | None = None


ProgressCallback = Callable[[BuildProgress], None]


def standin_path(family: str, *, home: Path | None = None) -> Path:
    """Folder of ``family``'s stand-in: ``<HUBKIT_HOME>/models/standins/<family>``."""
    name = FAMILIES[family].name  # validates the name before it becomes a path
    settings = load_settings(home=home) if home is not None else load_settings()
    return settings.models_dir / "standins" / name


def shipped_path(family: str) -> Path:
    """Where the package keeps ``family``'s shipped stand-in."""
    return SHIPPED_DIR / FAMILIES[family].name


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The build record of a stand-in folder, or None when it is not (fully) built."""
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def standin_config(family: Family, *, tokenizer: PreTrainedTokenizerBase, recipe: StandinRecipe) -> PretrainedConfig:
    """The family's own config class at stand-in size."""
    extra: dict[str, Any] = {}
    if family.model_type == "phi3":
        extra["original_max_position_embeddings"] = recipe.max_positions
    return CONFIG_MAPPING[family.model_type](
        vocab_size=len(tokenizer),
        hidden_size=recipe.hidden_size,
        intermediate_size=recipe.intermediate_size,
        num_hidden_layers=recipe.num_layers,
        num_attention_heads=recipe.num_heads,
        num_key_value_heads=recipe.num_kv_heads,
        head_dim=recipe.hidden_size // recipe.num_heads,
        max_position_embeddings=recipe.max_positions,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        architectures=[family.architecture],
        **extra,
    )


def _documents(family: Family, tokenizer: PreTrainedTokenizerBase, *, seed: int, recipe: StandinRecipe) -> list[str]:
    """Plain corpus documents ending in EOS, plus a few chat-rendered ones.

    The chat documents teach the stand-in its family's markup and that EOS
    ends an assistant turn, as instruction tuning does for the real models.
    """
    docs = [doc + tokenizer.eos_token for doc in pretraining_corpus(seed=seed, n_per_domain=recipe.corpus_per_domain)]
    for name, domain in DOMAINS.items():
        for item in items(name, split="pretrain", n=recipe.chat_docs_per_domain, seed=seed + 1):
            prompt, response = domain.render(item)
            messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": response.strip()}]
            docs.append(tokenizer.apply_chat_template(messages, tokenize=False))
    return docs


def _blocks(docs: list[str], tokenizer: PreTrainedTokenizerBase, seq_len: int) -> torch.Tensor:
    stream: list[int] = []
    for doc in docs:
        stream.extend(tokenizer(doc, add_special_tokens=False)["input_ids"])
    n = len(stream) // seq_len
    return torch.tensor(stream[: n * seq_len], dtype=torch.long).view(n, seq_len)


def _pretrain(
    model: torch.nn.Module,
    blocks: torch.Tensor,
    *,
    family: str,
    seed: int,
    recipe: StandinRecipe,
    progress: ProgressCallback | None,
) -> dict[str, Any]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate, betas=(0.9, 0.95), weight_decay=0.01)

    def schedule(step: int) -> float:
        if step < recipe.warmup_steps:
            return (step + 1) / recipe.warmup_steps
        progress_frac = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress_frac))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: as fast for these sizes, and the same sums on every machine
    try:
        return _steps(model, blocks, optimizer, scheduler, family=family, seed=seed, recipe=recipe,
                      progress=progress)
    finally:
        torch.set_num_threads(threads)
        model.eval()


def _steps(model: torch.nn.Module, blocks: torch.Tensor, optimizer: torch.optim.Optimizer, scheduler: Any, *,
           family: str, seed: int, recipe: StandinRecipe, progress: ProgressCallback | None) -> dict[str, Any]:
    order = torch.Generator().manual_seed(seed)
    started = time.monotonic()
    loss_value = float("nan")
    step = 0
    for step in range(1, recipe.steps + 1):
        batch = blocks[torch.randint(len(blocks), (recipe.batch_size,), generator=order)]
        loss = model(input_ids=batch, labels=batch).loss
        if not torch.isfinite(loss):
            raise TrainingError(
                "The stand-in's pretraining diverged.", failure_class="divergence",
                detail=f"{family}: non-finite loss at step {step}",
            )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        loss_value = loss.item()
        if progress:
            progress(BuildProgress(family, "pretrain", step, recipe.steps, loss_value))
        if time.monotonic() - started > recipe.time_budget_s:
            break
    return {"steps_done": step, "final_loss": round(loss_value, 4),
            "stopped_by_time_budget": step < recipe.steps}


def build_standin(
    family_name: str,
    *,
    home: Path | None = None,
    seed: int = 0,
    recipe: StandinRecipe = DEFAULT_RECIPE,
    progress: ProgressCallback | None = None,
    force: bool = False,
    ship: bool = False,
) -> Path:
    """Build one family's stand-in unless an identical build is already there or shipped.

    ``ship`` also writes the build into the package (``SHIPPED_DIR``), for the
    maintainers who change the recipe.
    """
    family = FAMILIES[family_name]
    target = standin_path(family.name, home=home)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target.parent):
        if not force and _is_current(target, seed=seed, recipe=recipe):
            if progress:
                progress(BuildProgress(family.name, "skipped"))
            return target
        shipped = shipped_path(family.name)
        if not force and _is_current(shipped, seed=seed, recipe=recipe):
            _copy_atomically(shipped, target)
            if progress:
                progress(BuildProgress(family.name, "shipped"))
            return target
        started = time.monotonic()
        if progress:
            progress(BuildProgress(family.name, "tokenizer"))
        corpus = pretraining_corpus(seed=seed, n_per_domain=recipe.corpus_per_domain)
        scratch = target.with_name(f".{target.name}.tokenizer-{os.getpid()}")  # the tokenizer's files
        try:
            tokenizer = train_tokenizer(family=family, texts=corpus, vocab_size=recipe.vocab_size, folder=scratch)
            blocks = _blocks(_documents(family, tokenizer, seed=seed, recipe=recipe), tokenizer, recipe.seq_len)
            config = standin_config(family, tokenizer=tokenizer, recipe=recipe)
            torch.manual_seed(seed)
            model = AutoModelForCausalLM.from_config(config)
            if type(model).__name__ != family.architecture:
                raise TrainingError(
                    f"The {family.display_name} stand-in was built with the wrong architecture.",
                    detail=f"expected {family.architecture}, got {type(model).__name__}",
                )
            stats = _pretrain(model, blocks, family=family.name, seed=seed, recipe=recipe, progress=progress)
            model.generation_config.eos_token_id = tokenizer.eos_token_id
            model.generation_config.pad_token_id = tokenizer.pad_token_id
            manifest = {
                "family": family.name,
                "architecture": family.architecture,
                "recipe_version": RECIPE_VERSION,
                "recipe": asdict(recipe),
                "seed": seed,
                "parameters": sum(p.numel() for p in model.parameters()),
                "vocab_size": len(tokenizer),
                "corpus_blocks": len(blocks),
                **stats,
                "build_seconds": round(time.monotonic() - started, 2),
                "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
            }
            _write_atomically(target, model, scratch, manifest)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if ship:
            _copy_atomically(target, shipped)
        if progress:
            progress(BuildProgress(family.name, "saved", stats["steps_done"], recipe.steps, stats["final_loss"]))
        return target


def build_standins(
    *,
    home: Path | None = None,
    families: list[str] | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    force: bool = False,
    recipe: StandinRecipe = DEFAULT_RECIPE,
    ship: bool = False,
) -> list[Path]:
    """Build the stand-ins of ``families`` (default: all); already-built ones are skipped."""
    names = list(families) if families else list(FAMILIES)
    for name in names:
        FAMILIES[name]  # fail on an unknown name before building anything
    return [
        build_standin(name, home=home, seed=seed, recipe=recipe, progress=progress, force=force, ship=ship)
        for name in names
    ]


def _is_current(target: Path, *, seed: int, recipe: StandinRecipe) -> bool:
    manifest = read_manifest(target)
    return bool(
        manifest
        and manifest.get("recipe_version") == RECIPE_VERSION
        and manifest.get("recipe") == asdict(recipe)
        and manifest.get("seed") == seed
    )


@contextmanager
def _build_lock(folder: Path) -> Iterator[None]:
    with open(folder / ".build.lock", "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _copy_atomically(source: Path, target: Path) -> None:
    """Copy a built stand-in folder (its manifest last), then swap it in."""
    tmp = target.with_name(f".{target.name}.copying-{os.getpid()}")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tmp.mkdir(parents=True)
        for path in sorted(source.iterdir(), key=lambda p: p.name == MANIFEST):
            if path.is_file():
                shutil.copyfile(path, tmp / path.name)
        if target.exists():
            target.rename(old)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)


def _write_atomically(target: Path, model: Any, tokenizer_dir: Path, manifest: dict[str, Any]) -> None:
    """Save into a sibling temp folder (the model, the tokenizer's files, manifest last), then swap it in."""
    tmp = target.with_name(f".{target.name}.building-{os.getpid()}")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        for path in sorted(tokenizer_dir.iterdir()):
            shutil.copyfile(path, tmp / path.name)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
        if target.exists():
            target.rename(old)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
