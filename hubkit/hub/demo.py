"""Try a model: generate text from a prompt, token by token.

The base model and the run's adapter (from the archive, hash-checked) are
loaded once per process on ``HUBKIT_DEVICE`` (bf16 on GPUs that support it)
and shared by every visitor the process serves; generation runs in a thread
and streams through ``TextIteratorStreamer``, stops at the end-of-sequence
token and never writes more than ``MAX_NEW_TOKENS``. The base's answer comes
from the same loaded weights with the adapter switched off, so showing what
fine-tuning changed costs no second model in memory. The prompt is laid out
the way the model's training data was (chat template, instruction layout or
plain text). Whatever goes wrong (a slow answer, out of memory, any error)
ends as a :class:`DemoError` in one sentence, never a page left waiting.
"""
from __future__ import annotations

import contextlib
import queue
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubkit.archive import Archive, open_archive
from hubkit.config import load_settings
from hubkit.devices import choose_device
from hubkit.errors import DemoError, HubkitError, NotFound, ValidationError
from hubkit.store import Store

MAX_NEW_TOKENS = 256
DEFAULT_NEW_TOKENS = 64
MAX_PROMPT_CHARS = 4000
TOKEN_TIMEOUT_S = 120.0  # the longest wait for the next piece of an answer before the demo gives up
_CACHE_SIZE = 2

_cache: OrderedDict[tuple[str, str], tuple[Any, Any]] = OrderedDict()
_lock = threading.Lock()


@dataclass(frozen=True)
class DemoModel:
    """What generation needs to know about a model."""

    base_model: str
    adapter: str  # archive hash of the adapter folder
    data_format: str


def demo_model(*, store: Store, model: int | str, viewer: str) -> DemoModel:
    """The demo set-up for ``model``; NotFound when it has no adapter to try."""
    run = store.get_run(model, viewer=viewer)
    adapter = run.artifacts.get("adapter")
    if not adapter:
        raise NotFound("This model has no trained adapter to try (its training did not finish).")
    fmt = store.get_dataset(run.dataset_id).format if run.dataset_id is not None else "text"
    return DemoModel(base_model=run.base_model_key or "", adapter=str(adapter), data_format=fmt)


def _load(demo: DemoModel, archive: Archive) -> tuple[Any, Any]:
    key = (demo.base_model, demo.adapter)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    from peft import PeftModel

    from hubkit.catalog import load_base

    folder = load_settings().home / "demo-cache" / demo.adapter
    if not (folder / "adapter_config.json").is_file():
        archive.get_dir(demo.adapter, Path(folder))
    device = choose_device()
    placement = {"device_map": {"": device.index or 0}} if device.kind == "cuda" else {}
    base, tokenizer = load_base(demo.base_model, dtype=device.dtype_name, **placement)
    model = PeftModel.from_pretrained(base, str(folder))
    model.eval()
    _cache[key] = (model, tokenizer)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return model, tokenizer


def prompt_text(prompt: str, *, tokenizer: Any, data_format: str) -> str:
    """The prompt laid out as training laid out its inputs, up to where the answer starts."""
    from hubkit.data import render_parts

    examples: dict[str, dict[str, Any]] = {
        "instruction": {"instruction": prompt, "response": ""},
        "prompt_completion": {"prompt": prompt, "completion": ""},
        "chat": {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": ""}]},
    }
    if data_format not in examples:
        return prompt
    rendered = render_parts(examples[data_format], tokenizer=tokenizer, fmt=data_format)
    return rendered.text[: rendered.train_spans[0][0]] if rendered.train_spans else prompt


def _failure(exc: BaseException, *, timeout_s: float) -> DemoError:
    """One sentence for whatever stopped the demo."""
    import torch

    if isinstance(exc, queue.Empty):
        return DemoError(f"The model took more than {timeout_s:g} seconds to write its next word, so the demo "
                         "stopped. Try a shorter answer, or try again when the machine is less busy.")
    if isinstance(exc, torch.OutOfMemoryError | MemoryError):
        return DemoError("The model ran out of memory while answering. Try a shorter prompt or answer, or try "
                         "again when the machine is less busy.", detail=str(exc))
    if isinstance(exc, HubkitError):
        return DemoError(exc.message, detail=exc.detail)
    return DemoError(f"The demo could not answer: {type(exc).__name__}: {str(exc).strip()[:200]}",
                     detail=repr(exc))


@dataclass(frozen=True)
class Sampling:
    """How the next token is picked: greedy (temperature 0, the default, so the same prompt gives the
    same text) or sampled with a fixed seed, so a model and its base are compared on equal terms."""

    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= MAX_TEMPERATURE:
            raise ValidationError(f"Temperature goes from 0 (always the likeliest word) to {MAX_TEMPERATURE:g}.",
                                  field="temperature")
        if not 0.0 < self.top_p <= 1.0:
            raise ValidationError("Top-p is a share of the likeliest words, above 0 and at most 1.", field="top_p")

    def options(self) -> dict[str, Any]:
        if self.temperature == 0:
            return {"do_sample": False}
        return {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}


MAX_TEMPERATURE = 2.0
GREEDY = Sampling()


def stream_generation(*, store: Store, model: int | str, viewer: str, prompt: str,
                      max_new_tokens: int = DEFAULT_NEW_TOKENS, archive: Archive | None = None,
                      timeout_s: float = TOKEN_TIMEOUT_S, sampling: Sampling = GREEDY,
                      base: bool = False) -> Iterator[str]:
    """Pieces of the answer as they are generated; ``base=True``: the answer of the model's base,
    the same weights with the adapter switched off, for the side-by-side comparison.

    Bad input raises ``ValidationError``; anything that goes wrong after that
    raises ``DemoError`` with a sentence for the person waiting.
    """
    if not prompt.strip():
        raise ValidationError("Type a prompt first.", field="prompt")
    if len(prompt) > MAX_PROMPT_CHARS:
        raise ValidationError(f"The prompt is too long; keep it under {MAX_PROMPT_CHARS} characters.",
                              field="prompt")
    limit = max(1, min(int(max_new_tokens), MAX_NEW_TOKENS))
    demo = demo_model(store=store, model=model, viewer=viewer)
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    try:
        with _lock:
            net, tokenizer = _load(demo, archive or open_archive())
    except Exception as exc:  # any failure to load is said in a sentence
        raise _failure(exc, timeout_s=timeout_s) from exc
    text = prompt_text(prompt, tokenizer=tokenizer, data_format=demo.data_format)
    templated = bool(getattr(tokenizer, "chat_template", None)) and demo.data_format in ("instruction", "chat")
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=not templated).to(net.device)
    streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=timeout_s)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    failure: list[BaseException] = []
    given_up = threading.Event()

    class _GivenUp(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return given_up.is_set()

    def work() -> None:
        try:
            torch.manual_seed(sampling.seed)
            with torch.inference_mode(), (net.disable_adapter() if base else contextlib.nullcontext()):
                net.generate(**inputs, streamer=streamer, max_new_tokens=limit, **sampling.options(),
                             eos_token_id=tokenizer.eos_token_id, pad_token_id=pad,
                             stopping_criteria=StoppingCriteriaList([_GivenUp()]))
        except BaseException as exc:  # noqa: BLE001 - reported to the caller below
            failure.append(exc)
            streamer.end()

    thread = threading.Thread(target=work, name="hubkit-demo", daemon=True)
    with _lock:
        thread.start()
        try:
            yield from streamer
        except queue.Empty as exc:
            given_up.set()  # the generation thread stops at its next token
            failure.append(exc)
        finally:
            given_up.set()  # a visitor who left, or a timeout: generation stops at its next token
            thread.join()
    if failure:
        if isinstance(failure[0], torch.OutOfMemoryError):
            _release_memory()
        raise _failure(failure[0], timeout_s=timeout_s) from failure[0]


def _release_memory() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
