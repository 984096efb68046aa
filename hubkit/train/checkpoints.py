"""Checkpoints that are either complete or ignored.

A process can die half-way through writing a checkpoint. A checkpoint counts
only once a marker file, written last (to a temporary name, then renamed),
lists every file with its size; it is then archived and its hash added to the
run's artifacts as ``checkpoint-<step>``. Resuming takes the highest complete
step, from the archive, so it works on another machine too.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from hubkit.archive import Archive
from hubkit.errors import TrainingError
from hubkit.store.base import Store

MARKER = "hubkit-complete.json"
_KEY = re.compile(r"^checkpoint-(\d+)$")


def mark_complete(folder: Path, *, step: int) -> None:
    files = {str(p.relative_to(folder)): p.stat().st_size
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MARKER}
    tmp = folder / f".{MARKER}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"step": step, "files": files}, fh, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(folder / MARKER)


def is_complete(folder: Path) -> bool:
    """True when the marker exists and every file it lists is there with its size."""
    marker = folder / MARKER
    if not marker.is_file():
        return False
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError):
        return False
    return all((folder / name).is_file() and (folder / name).stat().st_size == size
               for name, size in files.items())


@dataclass(frozen=True)
class ArchivedCheckpoint:
    step: int
    digest: str


def latest_archived(artifacts: dict[str, Any]) -> ArchivedCheckpoint | None:
    steps = [(int(m.group(1)), str(v)) for k, v in artifacts.items() if (m := _KEY.match(k))]
    if not steps:
        return None
    step, digest = max(steps)
    return ArchivedCheckpoint(step, digest)


def restore(checkpoint: ArchivedCheckpoint, *, archive: Archive, dest: Path) -> Path:
    """Unpack an archived checkpoint and refuse it unless it is complete."""
    folder = archive.get_dir(checkpoint.digest, dest / f"checkpoint-{checkpoint.step}")
    if not is_complete(folder):
        raise TrainingError("The checkpoint to resume from is incomplete.", failure_class="exception",
                            detail=f"{checkpoint.digest} has no valid {MARKER}")
    return folder


class CheckpointRecorder(TrainerCallback):
    """After HF has written a checkpoint: mark it complete, archive it, record its hash."""

    def __init__(self, *, store: Store, run_id: int, archive: Archive) -> None:
        self.store = store
        self.run_id = run_id
        self.archive = archive
        self.saved: list[ArchivedCheckpoint] = []

    def on_save(self, args: TrainingArguments, state: TrainerState, control: TrainerControl,
                **kwargs: Any) -> None:
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if not folder.is_dir():
            return
        mark_complete(folder, step=state.global_step)
        digest = self.archive.put_dir(folder)
        self.store.add_artifacts(self.run_id, {f"checkpoint-{state.global_step}": digest})
        self.saved.append(ArchivedCheckpoint(state.global_step, digest))
