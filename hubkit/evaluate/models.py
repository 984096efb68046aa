"""Turning a run or a base model into one lm-eval ``HFLM`` (loaded once per evaluation).

The model is built exactly as lm-eval's command line builds ``--model hf
--model_args pretrained=DIR,peft=ADAPTER,device=DEVICE,dtype=DTYPE``, so scores
match it. The device is ``HUBKIT_DEVICE`` (``hubkit.devices``): the first GPU
when there is one, in bf16 where it supports it; the CPU in float32.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubkit.archive import open_archive
from hubkit.devices import DeviceChoice
from hubkit.errors import EvaluationError
from hubkit.store.records import BaseModelRecord, RunRecord


@dataclass(frozen=True)
class ModelSource:
    """Where the weights are: a base (local folder or cached hub id) and, for a run, its adapter."""

    base: str
    adapter_dir: Path | None
    chat_template: bool
    """Instruct-style: the catalog says instruct and the tokenizer has a chat template."""

    def model_args(self, *, device: DeviceChoice | None = None) -> dict[str, str]:
        device = device or DeviceChoice("cpu")
        args = {"pretrained": self.base, "device": device.torch_device, "dtype": device.dtype_name}
        if self.adapter_dir is not None:
            args["peft"] = str(self.adapter_dir)
        return args


def base_model_location(base: BaseModelRecord) -> tuple[str, Path]:
    """(what lm-eval loads, the folder holding its files) for a base model; nothing is downloaded."""
    from hubkit.catalog import read_manifest, resolve, standin_path

    family, real = resolve(base.key)
    if real is None:
        folder = standin_path(family.name)
        if read_manifest(folder) is None:
            raise EvaluationError(f"The {family.display_name} stand-in has not been built yet, so it "
                                  "cannot be evaluated. Run 'hubkit catalog build' first.",
                                  detail=f"no complete stand-in at {folder}")
        return str(folder), folder
    from huggingface_hub import try_to_load_from_cache

    config = try_to_load_from_cache(real.hf_id, "config.json")
    if not isinstance(config, str):
        raise EvaluationError(f"The weights of {real.hf_id} are not on this machine, so it cannot be evaluated.",
                              detail="not in the Hugging Face cache; hubkit never downloads weights")
    return real.hf_id, Path(config).parent


def has_chat_template(folder: Path) -> bool:
    """Whether the saved tokenizer carries a chat template (inline or as chat_template.jinja)."""
    if (folder / "chat_template.jinja").is_file() or (folder / "chat_template.json").is_file():
        return True
    config = folder / "tokenizer_config.json"
    if config.is_file():
        return bool(json.loads(config.read_text(encoding="utf-8")).get("chat_template"))
    return False


def is_instruct(base: BaseModelRecord, folder: Path) -> bool:
    return bool(base.info.get("instruct")) and has_chat_template(folder)


@contextmanager
def model_source(*, base: BaseModelRecord, run: RunRecord | None = None) -> Iterator[ModelSource]:
    """The weights to load; a run's adapter is unpacked from the archive for the duration."""
    location, folder = base_model_location(base)
    chat = is_instruct(base, folder)
    if run is None:
        yield ModelSource(location, None, chat)
        return
    digest = run.artifacts.get("adapter")
    if not digest:
        raise EvaluationError(f"Run {run.slug} saved no adapter, so there is nothing to evaluate.")
    with tempfile.TemporaryDirectory(prefix="hubkit-eval-adapter-") as tmp:
        adapter = open_archive().get_dir(str(digest), Path(tmp) / "adapter")
        yield ModelSource(location, Path(adapter), chat)


def load_lm(source: ModelSource, *, batch_size: int, device: DeviceChoice) -> Any:
    """One lm-eval ``HFLM``, created through lm-eval's registry like its command line does."""
    from lm_eval.api.registry import get_model

    return get_model("hf").create_from_arg_obj(source.model_args(device=device), {"batch_size": batch_size})
