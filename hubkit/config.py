"""Settings from the environment and an optional ``hubkit.toml``.

Precedence: explicit keyword > environment variable > ``hubkit.toml`` in the
current folder or in ``HUBKIT_HOME`` > default. Growing from one machine to a
cluster is a change of settings, never of code.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from hubkit.errors import ConfigError

_ENV_PREFIX = "HUBKIT_"


@dataclass(frozen=True)
class Settings:
    """Resolved settings; every field can be set as ``HUBKIT_<NAME>``."""

    home: Path = field(default=Path(".hubkit"), metadata={"help": "Folder for the embedded database, archive and stand-in models."})
    db_url: str = field(default="", metadata={"help": "SQLAlchemy URL of the run database; empty means SQLite under home."})
    archive_url: str = field(default="", metadata={"help": "fsspec URL of the content-addressed archive; empty means a folder under home."})
    executor: str = field(default="local", metadata={"help": "Where notebook jobs run: 'local' (as this account: one user), 'local-as-user' (each job's code as its owner's system account; needs root) or 'ray'."})
    ray_address: str = field(default="http://127.0.0.1:8265", metadata={"help": "Ray Jobs API address for the 'ray' executor."})
    ray_train_address: str = field(default="", metadata={"help": "The Ray cluster a training run with several workers joins: its head's GCS address (host:port, as `ray start --head` prints it); empty means RAY_ADDRESS, which Ray sets inside a Ray job."})
    train_gpus_per_worker: float = field(default=0.0, metadata={"help": "GPUs each worker of a multi-worker training run gets (Ray Train, NCCL); 0 means CPU workers (gloo)."})
    max_concurrent_jobs: int = field(default=2, metadata={"help": "Jobs the local executor runs at once."})
    gpu_slots: str = field(default="", metadata={"help": "Comma-separated GPU indices the local executor hands out, one per job."})
    heartbeat_timeout_s: float = field(default=120.0, metadata={"help": "A running run whose heartbeat is older than this is reaped as lost."})
    allow_code_execution: bool = field(default=False, metadata={"help": "Run generated code (HumanEval-style) in the sandbox; off unless the operator enables it."})
    max_upload_bytes: int = field(default=50_000_000, metadata={"help": "Largest dataset upload accepted."})
    max_artifact_bytes: int = field(default=4_000_000_000, metadata={"help": "Largest artefact (adapter, checkpoint) user code may store through the service."})
    max_dataset_rows: int = field(default=200_000, metadata={"help": "Most rows accepted in one dataset."})
    device: str = field(default="auto", metadata={"help": "Where training, evaluation and the demo run: auto (the first GPU if any), cpu, cuda or cuda:N."})
    eval_limit: int = field(default=0, metadata={"help": "Items per task the platform's evaluation worker scores; 0 means every item."})
    eval_lease_s: float = field(default=120.0, metadata={"help": "An evaluation whose worker stopped renewing its lease this long is retried by another worker."})
    service_workers: int = field(default=0, metadata={"help": "uvicorn worker processes of the hubkit service; 0 means 4 on PostgreSQL and 1 on SQLite (one writer at a time)."})
    service_url: str = field(default="", metadata={"help": "Base URL of the hubkit service (used by ApiStore inside user kernels)."})
    job_service_url: str = field(default="", metadata={"help": "The hubkit service as user code in jobs reaches it (executors that run jobs as their owner hand it to the job); empty: the service's own JUPYTERHUB_SERVICE_URL."})
    public_kernel_cap: int = field(default=8, metadata={"help": "Kernels the public pages run for visitors at once (each page's preheated pool comes on top); past it a visitor gets a 'busy, try again in a moment' page."})
    public_kernel_idle_s: int = field(default=120, metadata={"help": "A public page's kernel with no page connected and no activity this long is shut down."})
    models_home: str = field(default="", metadata={"help": "Folder of the base models' weights, which user code may read; empty means models/ under home."})

    @property
    def database_url(self) -> str:
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'hubkit.db').resolve()}"

    @property
    def service_worker_count(self) -> int:
        """The service's worker processes: as set, else 4 on PostgreSQL and 1 on SQLite."""
        if self.service_workers > 0:
            return self.service_workers
        return 4 if self.database_url.startswith("postgresql") else 1

    @property
    def archive_root(self) -> str:
        return self.archive_url or str((self.home / "archive").resolve())

    @property
    def models_dir(self) -> Path:
        return Path(self.models_home) if self.models_home else self.home / "models"


def _coerce(name: str, raw: Any, target: Any) -> Any:
    kind = type(target)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(target, Path):
            return Path(str(raw)).expanduser()
        return kind(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            f"The setting {name} has an invalid value {raw!r}.",
            detail=f"expected {kind.__name__}: {exc}",
        ) from exc


def _toml_values(home: Path) -> dict[str, Any]:
    for candidate in (Path("hubkit.toml"), home / "hubkit.toml"):
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{candidate} is not valid TOML: {exc}") from exc
            return dict(data.get("hubkit", data))
    return {}


def load_settings(**overrides: Any) -> Settings:
    """Build settings for this process (no caching: tests change the environment)."""
    defaults = Settings()
    home = Path(overrides.get("home") or os.environ.get(f"{_ENV_PREFIX}HOME") or defaults.home)
    values: dict[str, Any] = {"home": home}
    file_values = _toml_values(home)
    known = {f.name for f in fields(Settings)}
    unknown = set(file_values) - known
    if unknown:
        raise ConfigError(f"hubkit.toml has unknown settings: {', '.join(sorted(unknown))}.")
    for f in fields(Settings):
        if f.name == "home":
            continue
        env = os.environ.get(f"{_ENV_PREFIX}{f.name.upper()}")
        if f.name in overrides:
            raw = overrides[f.name]
        elif env is not None:
            raw = env
        elif f.name in file_values:
            raw = file_values[f.name]
        else:
            continue
        values[f.name] = _coerce(f.name, raw, getattr(defaults, f.name))
    return replace(defaults, **values)


def settings_help() -> dict[str, str]:
    """Name → help text for every setting (the docs and ``hubkit --help`` read this)."""
    return {f"{_ENV_PREFIX}{f.name.upper()}": f.metadata["help"] for f in fields(Settings)}
