"""Export a run's model for llama.cpp, LM Studio or Ollama, and record that it left the platform.

Reads top to bottom: check the request (format, quantization, adapter,
licence) before any work → make sure llama.cpp's tools are there → build the
files in a temporary folder → archive the result under its sha256 → record an
``export`` event (format, quantization, size, sha256, who) on the run. A
failure anywhere leaves neither a file in the archive's place nor an event.
An identical earlier export still in the archive is reused (and recorded again).
"""
from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hubkit.archive import Archive, open_archive
from hubkit.catalog.families import Family
from hubkit.catalog.licences import Licence, check_merged_redistribution, licence_of
from hubkit.catalog.loading import resolve
from hubkit.catalog.tokenizer import gguf_pre_tokenizer
from hubkit.errors import ExportError
from hubkit.export import gguf, ollama
from hubkit.export.tools import LLAMA_CPP_PYTHON, ensure_tools
from hubkit.store import Store
from hubkit.store.records import BaseModelRecord, EventRecord, RunRecord

EVENT = "export"


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    merged: bool  # carries the base's weights (a licence question when handed on)
    suffix: str
    media_type: str
    quantizations: tuple[str, ...]


FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("gguf", "GGUF (merged model)", True, ".gguf", "application/octet-stream",
                 tuple(gguf.QUANTIZATIONS)),
    ExportFormat("gguf-adapter", "GGUF LoRA adapter", False, "-adapter.gguf", "application/octet-stream",
                 ("f16",)),
    ExportFormat("ollama", "Ollama bundle (merged model)", True, "-ollama.tar", "application/x-tar",
                 tuple(gguf.QUANTIZATIONS)),
    ExportFormat("ollama-adapter", "Ollama bundle (base model + adapter)", True, "-ollama-adapter.tar",
                 "application/x-tar", tuple(gguf.QUANTIZATIONS)),
)}


@dataclass(frozen=True)
class ExportResult:
    """One export: where its bytes are archived and the event that records it."""

    run_id: int
    format: str
    quantization: str
    filename: str
    size: int
    sha256: str
    event_id: int
    reused: bool
    path: Path | None = None  # the local copy, when a folder was given


Progress = Callable[[str], None]


def check_request(*, run: RunRecord, fmt: str, quantization: str, viewer: str) -> tuple[ExportFormat, str]:
    """Refuse, in a sentence, what cannot be exported, before anything is built."""
    spec = FORMATS.get(fmt)
    if spec is None:
        raise ExportError(f"There is no export format called {fmt!r}; choose one of {', '.join(FORMATS)}.")
    quant = gguf.check_quantization(quantization).name
    if quant not in spec.quantizations:
        raise ExportError(f"A {spec.label} is made at {', '.join(spec.quantizations)} only, not {quant}.")
    if not run.artifacts.get("adapter"):
        outcome = run.training_outcome.value if run.training_outcome is not None else "still running"
        why = {"failure": "its training failed before it saved an adapter",
               "partial": "it was stopped before it saved an adapter"}.get(outcome, "it has not saved an adapter yet")
        raise ExportError(f"The model {run.name!r} cannot be exported: {why}.")
    return spec, quant


def _reusable(store: Store, run: RunRecord, fmt: str, quant: str, archive: Archive) -> dict[str, Any] | None:
    for event in reversed(store.list_events(run.id)):
        p = event.payload
        if event.kind == EVENT and p.get("format") == fmt and p.get("quantization") == quant \
                and archive.exists(str(p.get("sha256"))):
            return dict(p)
    return None


def latest_export(*, store: Store, model: int | str, viewer: str | None, fmt: str,
                  quantization: str) -> EventRecord:
    """The newest export event of that format and quantization (what the download route streams)."""
    from hubkit.errors import NotFound

    run = store.get_run(model, viewer=viewer)
    for event in reversed(store.list_events(run.id)):
        if event.kind == EVENT and event.payload.get("format") == fmt \
                and event.payload.get("quantization") == quantization:
            return event
    raise NotFound(f"The model {run.name!r} has no {fmt} export at {quantization} yet.")


def export_model(*, store: Store, model: int | str, viewer: str, fmt: str = "gguf", quantization: str = "f16",
                 archive: Archive | None = None, out_dir: Path | None = None, install: bool = True,
                 progress: Progress | None = None) -> ExportResult:
    """Export ``model`` as ``fmt`` at ``quantization`` on behalf of ``viewer``; see the module docstring."""
    say = progress or (lambda _msg: None)
    run = store.get_run(model, viewer=viewer)
    spec, quant = check_request(run=run, fmt=fmt, quantization=quantization, viewer=viewer)
    base = store.get_base_model(run.base_model_id)
    licence = licence_of(base.licence)
    if spec.merged and viewer != run.owner:  # handing the base's weights to someone else
        check_merged_redistribution(base.licence, what=f"a {spec.label}")
    archive = archive or open_archive()
    filename = f"{run.slug}{spec.suffix}"
    payload = _reusable(store, run, fmt, quant, archive)
    reused = payload is not None
    if payload is None:
        ensure_tools(install=install, progress=say)
        with tempfile.TemporaryDirectory(prefix="hubkit-export-") as tmp:
            built = _build(run=run, base=base, spec=spec, quant=quant, licence=licence, archive=archive,
                           work=Path(tmp), filename=filename, say=say)
            say("archiving")
            digest = archive.put_dir(built) if built.is_dir() else archive.put_file(built)
        payload = {"format": fmt, "quantization": quant, "filename": filename, "sha256": digest,
                   "size": archive.size(digest), "licence": licence.name,
                   "tools": {"llama-cpp-python": LLAMA_CPP_PYTHON}}
    event = store.record_event(run.id, EVENT, {**payload, "reused": reused}, actor=viewer)
    path = _copy_out(archive, payload["sha256"], out_dir / filename, tar=spec.media_type == "application/x-tar") \
        if out_dir is not None else None
    return ExportResult(run_id=run.id, format=fmt, quantization=quant, filename=filename, size=int(payload["size"]),
                        sha256=str(payload["sha256"]), event_id=event.id, reused=reused, path=path)


def save_merged(*, store: Store, model: int | str, viewer: str, archive: Archive | None = None,
                progress: Progress | None = None) -> RunRecord:
    """The owner's complete model: the base with the adapter merged in, archived once and recorded as
    the run's ``merged`` artifact, so the service streams it like every other download.

    A run trained with ``merge_after`` already has one. Only the owner makes it (it is the owner's
    copy, as with exports); who may then download it is the licence's call (:func:`check_merged_download`).
    """
    from hubkit.errors import NotFound, PermissionDenied
    from hubkit.hub.card import build_card

    say = progress or (lambda _msg: None)
    run = store.get_run(model, viewer=viewer)
    if viewer != run.owner:
        raise PermissionDenied("Only the model's owner can prepare its complete (merged) model.")
    if run.artifacts.get("merged"):
        return run
    if not run.artifacts.get("adapter"):
        raise NotFound(f"The model {run.name!r} saved no adapter, so there is nothing to merge.")
    base = store.get_base_model(run.base_model_id)
    archive = archive or open_archive()
    with tempfile.TemporaryDirectory(prefix="hubkit-merge-") as tmp:
        say("unpacking the adapter")
        adapter = archive.get_dir(str(run.artifacts["adapter"]), Path(tmp) / "adapter")
        say("merging the adapter into the base model")
        merged = _merged_folder(run, base, archive, Path(tmp) / "merged", adapter)
        dataset = store.get_dataset(run.dataset_id) if run.dataset_id is not None else None
        files = sorted(p.name for p in merged.iterdir() if p.name != "README.md")
        (merged / "README.md").write_text(str(build_card(run=run, base=base, merged=True, dataset=dataset,
                                                         files=files)), encoding="utf-8")
        say("archiving")
        digest = archive.put_dir(merged)
    return store.add_artifacts(run.id, {"merged": digest})


def check_merged_download(*, store: Store, run: RunRecord, viewer: str | None) -> None:
    """Refuse, in the licence's sentence, merged weights to anyone but the owner when the base's licence
    does not allow handing them on (``viewer`` None: the platform itself)."""
    if viewer is None or viewer == run.owner:
        return
    check_merged_redistribution(store.get_base_model(run.base_model_id).licence, what="a complete (merged) model")


def _copy_out(archive: Archive, digest: str, dest: Path, *, tar: bool) -> Path:
    if tar:  # an Ollama bundle unpacks into a folder named like the file, ready for `ollama create`
        folder = dest.with_suffix("")
        return archive.get_dir(digest, folder)
    return archive.get_to_file(digest, dest)


def _family(base: BaseModelRecord) -> Family:
    return resolve(base.key)[0]


def base_folder(base: BaseModelRecord) -> Path:
    """The base model's Hugging Face folder on this machine (stand-in build or Hub cache snapshot)."""
    family, real = resolve(base.key)
    if real is None:
        from hubkit.catalog.standin import standin_path

        return standin_path(family.name)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(real.hf_id, local_files_only=True))


def _with_base_tokenizer_files(folder: Path, base: BaseModelRecord) -> None:
    """A saved fine-tune has the base's tokenizer; bring the SentencePiece file the converter reads."""
    source = base_folder(base) / "tokenizer.model"
    if source.is_file() and not (folder / "tokenizer.model").exists():
        shutil.copyfile(source, folder / "tokenizer.model")


def _merged_folder(run: RunRecord, base: BaseModelRecord, archive: Archive, dest: Path, adapter: Path) -> Path:
    merged = run.artifacts.get("merged")
    if merged:
        archive.get_dir(str(merged), dest)
    else:
        from peft import PeftModel

        from hubkit.catalog.loading import load_base

        model, tokenizer = load_base(base.key)
        PeftModel.from_pretrained(model, str(adapter)).merge_and_unload().save_pretrained(dest)
        tokenizer.save_pretrained(dest)
    _with_base_tokenizer_files(dest, base)
    return dest


def _metadata(run: RunRecord, licence: Licence, family: Family) -> dict[str, str]:
    # The name carries the family's: llama.cpp keys some tokenizer behaviour on it (Phi-3's turn
    # tokens swallow the whitespace after them, as in transformers). general.license itself comes
    # from the model card.
    meta = {"general.name": f"{run.name} ({family.display_name})"}
    if licence.hub_name:
        meta["general.license.name"] = licence.hub_name
    if licence.link:
        meta["general.license.link"] = licence.link
    return meta


def _with_licence_card(folder: Path, licence: Licence) -> None:
    """llama.cpp's converters read ``general.license`` from the folder's model card only."""
    card = folder / "README.md"
    text = card.read_text(encoding="utf-8") if card.is_file() else ""
    if text.startswith("---\n"):
        head, _, body = text[4:].partition("\n---\n")
        text = f"---\nlicense: {json.dumps(licence.hub_id)}\n{head}\n---\n{body}"
    else:
        text = f"---\nlicense: {json.dumps(licence.hub_id)}\n---\n{text}"
    card.unlink(missing_ok=True)  # it may be a link into a shared folder
    card.write_text(text, encoding="utf-8")


def _standin_pre(base: BaseModelRecord) -> str | None:
    """Stand-ins name their split to the converter; real checkpoints are recognised by it."""
    if not base.is_standin:
        return None
    from transformers import AutoTokenizer

    return gguf_pre_tokenizer(AutoTokenizer.from_pretrained(base_folder(base)))


def _linked_copy(source: Path, dest: Path) -> Path:
    """A folder of links to ``source``'s files, so a card can be added without touching ``source``."""
    dest.mkdir(parents=True)
    for path in source.iterdir():
        if path.is_file():
            (dest / path.name).symlink_to(path.resolve())
    return dest


def _build(*, run: RunRecord, base: BaseModelRecord, spec: ExportFormat, quant: str, licence: Licence,
           archive: Archive, work: Path, filename: str, say: Progress) -> Path:
    family = _family(base)
    say("unpacking the adapter")
    adapter = archive.get_dir(str(run.artifacts["adapter"]), work / "adapter")
    if spec.name == "gguf-adapter":
        _with_licence_card(adapter, licence)
        say("converting the adapter with llama.cpp")
        return gguf.convert_adapter(adapter_dir=adapter, base_dir=base_folder(base), dest=work / filename)
    bundle = work / "bundle"
    bundle.mkdir()
    if spec.name == "ollama-adapter":
        _with_licence_card(adapter, licence)
        base_dir = _linked_copy(base_folder(base), work / "base")
        _with_licence_card(base_dir, licence)
        say("converting the base model with llama.cpp")
        gguf.convert_model(hf_dir=base_dir, dest=bundle / "base.gguf", quantization=quant,
                           metadata=_metadata(run, licence, family) | {"general.name": base.key},
                           pre_tokenizer=_standin_pre(base))
        say("converting the adapter with llama.cpp")
        gguf.convert_adapter(adapter_dir=adapter, base_dir=base_folder(base), dest=bundle / "adapter.gguf")
        model_file, adapter_file = "base.gguf", "adapter.gguf"
    else:
        say("merging the adapter into the base model")
        merged = _merged_folder(run, base, archive, work / "merged", adapter)
        _with_licence_card(merged, licence)
        say("converting with llama.cpp" + (f" and quantizing to {quant}" if quant != "f16" else ""))
        target = work / filename if spec.name == "gguf" else bundle / "model.gguf"
        gguf.convert_model(hf_dir=merged, dest=target, quantization=quant, metadata=_metadata(run, licence, family),
                           pre_tokenizer=_standin_pre(base))
        if spec.name == "gguf":
            return target
        model_file, adapter_file = "model.gguf", None
    _write_ollama(bundle, base=base, family=family, licence=licence, model_file=model_file,
                  adapter_file=adapter_file)
    return bundle


def _write_ollama(bundle: Path, *, base: BaseModelRecord, family: Family, licence: Licence, model_file: str,
                  adapter_file: str | None) -> None:
    from transformers import AutoTokenizer, GenerationConfig

    source = base_folder(base)
    tokenizer = AutoTokenizer.from_pretrained(source)
    try:
        generation = GenerationConfig.from_pretrained(source)
    except OSError:
        generation = None
    check_template(tokenizer, family)
    text = ollama.licence_text(licence, base=base.hf_id if not base.is_standin else base.key)
    (bundle / ollama.LICENSE_FILE).write_text(text, encoding="utf-8")
    (bundle / ollama.MODELFILE).write_text(ollama.modelfile(
        chat=family.chat, model_file=model_file, adapter_file=adapter_file,
        stops=ollama.stop_tokens(tokenizer, generation), licence=text), encoding="utf-8")


_PROBE = [{"role": "user", "content": "PROBE-Q1"}, {"role": "assistant", "content": "PROBE-A1"},
          {"role": "user", "content": "PROBE-Q2"}]


def check_template(tokenizer: Any, family: Family) -> None:
    """The Ollama template is the family's; refuse when the model's own chat template renders otherwise."""
    from hubkit.catalog.chat import jinja_template

    own = tokenizer.apply_chat_template(_PROBE, tokenize=False, add_generation_prompt=True)
    ours = tokenizer.apply_chat_template(_PROBE, tokenize=False, add_generation_prompt=True,
                                         chat_template=jinja_template(family.chat))
    if own != ours:
        raise ExportError(
            f"This model's chat template differs from the {family.display_name} family's, so an Ollama "
            "template for it could not be written faithfully. Export a GGUF file instead.",
            detail=f"own: {own!r}\nfamily: {ours!r}",
        )
