"""Entry points: an upload (bytes + its original name), a reference (a local
path or a Hugging Face dataset id), or rows already in memory, each to a
validated ``PreparedDataset``. Reading, format choice, validation, hashing and
stats happen in that order; any problem stops before anything is returned.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
from datasets.table import InMemoryTable

from hubkit.config import Settings, load_settings
from hubkit.data.detect import Detection, choose_format, detect_format
from hubkit.data.hashing import fingerprint, item_hash
from hubkit.data.limits import DataLimits, human_bytes
from hubkit.data.names import check_upload_name, content_hash, extension_of
from hubkit.data.prepared import DatasetSource, PreparedDataset
from hubkit.data.problems import reject
from hubkit.data.readers import RawTable, read_upload, table_from_records
from hubkit.data.stats import compute_stats
from hubkit.data.validate import normalise_table
from hubkit.errors import NotFound, ValidationError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}(/[A-Za-z0-9][\w.-]{0,95})?$")

_FEATURES = {
    "text": datasets.Features({"text": datasets.Value("string")}),
    "instruction": datasets.Features({k: datasets.Value("string")
                                      for k in ("instruction", "input", "response")}),
    "prompt_completion": datasets.Features({k: datasets.Value("string")
                                            for k in ("prompt", "completion")}),
    "chat": datasets.Features({"messages": datasets.List(
        {"role": datasets.Value("string"), "content": datasets.Value("string")})}),
}


def _to_dataset(items: list[dict[str, Any]], features: datasets.Features) -> datasets.Dataset:
    """Straight to Arrow: the items are already validated plain strings, so the
    per-value encoding of ``Dataset.from_list`` (three times slower) is not needed."""
    table = pa.Table.from_pylist(items, schema=features.arrow_schema)
    return datasets.Dataset(InMemoryTable(table), info=datasets.DatasetInfo(features=features))


def _limits(settings: Settings | None, limits: DataLimits | None) -> DataLimits:
    return limits or DataLimits.from_settings(settings or load_settings())


def _finish(table: RawTable, source: DatasetSource, *, limits: DataLimits, format: str | None,
            mapping: Mapping[str, str] | None, tokenizer: Any,
            max_seq_len: int | None) -> PreparedDataset:
    fmt, columns, detection = choose_format(table, format=format, mapping=mapping)
    normalised = normalise_table(table, fmt=fmt, columns=columns)
    items = normalised.items
    hashes = [item_hash(item) for item in items]
    used = set(columns.values())
    stats = compute_stats(
        items, fmt=fmt.name, hashes=hashes, tokenizer=tokenizer, max_seq_len=max_seq_len,
        numbers_as_text={columns[k]: v for k, v in normalised.coerced.items()},
        ignored_columns=[c for c in table.columns if c not in used],
    )
    return PreparedDataset(
        dataset=_to_dataset(items, _FEATURES[fmt.name]),
        format=fmt.name,
        column_mapping={column: name for name, column in columns.items()},
        fingerprint=fingerprint(items, fmt=fmt.name),
        stats=stats,
        source=source,
        detection=detection,
        hashes=hashes,
    )


def _read_named(data: bytes, filename: str, limits: DataLimits) -> RawTable:
    name = check_upload_name(filename)
    return read_upload(data, file=name, extension=extension_of(name), limits=limits)


def inspect_upload(*, data: bytes, filename: str, settings: Settings | None = None,
                   limits: DataLimits | None = None) -> Detection:
    """Read an upload and say which formats could fit, without validating rows.

    The wizard uses this to ask the person to confirm or map columns when
    ``Detection.confident`` is false."""
    return detect_format(_read_named(data, filename, _limits(settings, limits)))


def prepare_upload(*, data: bytes, filename: str, settings: Settings | None = None,
                   limits: DataLimits | None = None, format: str | None = None,
                   mapping: Mapping[str, str] | None = None, tokenizer: Any = None,
                   max_seq_len: int | None = None) -> PreparedDataset:
    """Validate uploaded bytes. ``filename`` picks the reader and is kept as metadata only;
    ``mapping`` is source column → field (text, instruction, input, response, prompt,
    completion, messages)."""
    lim = _limits(settings, limits)
    table = _read_named(data, filename, lim)
    source = DatasetSource(kind="upload", name=table.file, reader=table.reader,
                           content_hash=content_hash(data), size_bytes=len(data))
    return _finish(table, source, limits=lim, format=format, mapping=mapping,
                   tokenizer=tokenizer, max_seq_len=max_seq_len)


def prepare_records(*, records: Iterable[Mapping[str, Any]], name: str,
                    settings: Settings | None = None, limits: DataLimits | None = None,
                    format: str | None = None, mapping: Mapping[str, str] | None = None,
                    tokenizer: Any = None, max_seq_len: int | None = None) -> PreparedDataset:
    """Validate rows already in memory (generated examples, a DataFrame's records)."""
    lim = _limits(settings, limits)
    table = table_from_records(records, file=name, reader="records", limits=lim)
    source = DatasetSource(kind="records", name=name, reader="records")
    return _finish(table, source, limits=lim, format=format, mapping=mapping,
                   tokenizer=tokenizer, max_seq_len=max_seq_len)


def prepare_reference(*, ref: str, split: str = "train", config_name: str | None = None,
                      settings: Settings | None = None, limits: DataLimits | None = None,
                      format: str | None = None, mapping: Mapping[str, str] | None = None,
                      tokenizer: Any = None, max_seq_len: int | None = None,
                      allow_download: bool = False) -> PreparedDataset:
    """A local file or saved dataset folder, or a Hugging Face dataset id.

    Hub ids load only from this machine's cache unless ``allow_download``; dataset
    loading scripts never run (remote code stays off)."""
    lim = _limits(settings, limits)
    options = {"limits": lim, "format": format, "mapping": mapping, "tokenizer": tokenizer,
               "max_seq_len": max_seq_len}
    path = Path(ref).expanduser()
    if path.is_file():
        size = path.stat().st_size
        if size > lim.max_bytes:
            reject(f"The file {ref} is {human_bytes(size)}; the limit is "
                   f"{human_bytes(lim.max_bytes)}.", file=ref)
        data = path.read_bytes()
        table = read_upload(data, file=str(path), extension=extension_of(path.name), limits=lim)
        source = DatasetSource(kind="path", name=str(path), reader=table.reader,
                               content_hash=content_hash(data), size_bytes=len(data))
        return _finish(table, source, **options)
    if path.is_dir():
        hf = _load_saved(path, split)
        source_kind, name = "path", str(path)
    elif _looks_like_path(ref):
        raise NotFound(f"There is no file or folder at {ref}.")
    else:
        hf = _load_hub(ref, split=split, config_name=config_name, allow_download=allow_download)
        source_kind, name = "hub", ref
    if hf.num_rows > lim.max_rows:
        reject(f"The dataset {name} has {hf.num_rows:,} rows; the limit is {lim.max_rows:,}.",
               file=name)
    table = table_from_records(hf.to_list(), file=name, reader=source_kind, limits=lim)
    source = DatasetSource(kind=source_kind, name=name, reader=source_kind)
    return _finish(table, source, **options)


def _looks_like_path(ref: str) -> bool:
    return ref.startswith((".", "/", "~")) or "\\" in ref or extension_of(ref) in {
        "jsonl", "json", "csv", "tsv", "txt", "parquet", "ndjson"} or not _HUB_ID.match(ref)


def _load_saved(path: Path, split: str) -> datasets.Dataset:
    if not ((path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists()):
        reject(f"{path} is a folder, not a dataset file. Pick one file inside it.", file=str(path))
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise NotFound(f"The dataset at {path} has no split {split!r}; it has "
                           f"{', '.join(loaded)}.")
        return loaded[split]
    return loaded


def _cached_locally(ref: str) -> bool:
    from huggingface_hub import constants

    hub = Path(constants.HF_HUB_CACHE) / f"datasets--{ref.replace('/', '--')}"
    processed = Path(datasets.config.HF_DATASETS_CACHE) / ref.replace("/", "___")
    return hub.exists() or processed.exists()


def _load_hub(ref: str, *, split: str, config_name: str | None,
              allow_download: bool) -> datasets.Dataset:
    offline = bool(datasets.config.HF_HUB_OFFLINE)
    message = (f"The dataset {ref!r} is not on this machine, and datasets are not downloaded "
               "here. Upload the file instead, or ask the operator to add it.")
    if not allow_download and not _cached_locally(ref):
        raise NotFound(message, detail=f"{ref} not in the local Hugging Face cache")
    try:
        loaded = datasets.load_dataset(ref, name=config_name, split=split)
    except (ConnectionError, FileNotFoundError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise NotFound(message if offline or not allow_download else
                       f"The dataset {ref!r} could not be found.", detail=str(exc)) from exc
    except ValueError as exc:
        raise NotFound(f"The dataset {ref!r} has no split {split!r}.", detail=str(exc)) from exc
    if not isinstance(loaded, datasets.Dataset):
        raise ValidationError(f"The dataset {ref!r} could not be read as one table.")
    return loaded
