"""llama.cpp's own tools, pinned: the runtime (llama-cpp-python) and its converter scripts.

llama-cpp-python is a source package: pip builds it once (minutes) and caches
the wheel, so a later fresh ``.venv`` installs it in seconds. Its installed
wheel lacks the converter, which lives in the same source package's
``vendor/llama.cpp/`` (``convert_hf_to_gguf.py``, ``convert_lora_to_gguf.py``,
the ``conversion`` package and ``gguf-py``); ``install_tools`` unpacks exactly
those files of the pinned source, unchanged, under the environment's
``share/hubkit``. ``make test`` installs both; a first export installs them
when they are missing; ``make demo`` never does.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from hubkit.errors import ExportError, MissingExtra

LLAMA_CPP_PYTHON = "0.3.36"
PACKAGE = "llama-cpp-python"
# hubkit[export] in full, as pinned in pyproject.toml and requirements-export.lock (a test keeps them equal).
PINS = (f"{PACKAGE}=={LLAMA_CPP_PYTHON}", "diskcache==5.6.3")
_VENDOR = "vendor/llama.cpp/"
_KEEP = ("convert_hf_to_gguf.py", "convert_lora_to_gguf.py", "LICENSE", "conversion/", "gguf-py/gguf/",
         "gguf-py/LICENSE")


def converter_dir() -> Path:
    """Where the pinned converter sources live in this environment."""
    return Path(sys.prefix) / "share" / "hubkit" / f"llama.cpp-{LLAMA_CPP_PYTHON}"


def runtime_ready() -> bool:
    try:
        return version(PACKAGE) == LLAMA_CPP_PYTHON
    except PackageNotFoundError:
        return False


def converter_ready() -> bool:
    root = converter_dir()
    return (root / "convert_hf_to_gguf.py").is_file() and (root / "gguf-py" / "gguf").is_dir()


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet", *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _unpack_converter(sdist: Path, target: Path) -> None:
    """The converter's files from the source package, written beside ``target`` then renamed into place."""
    tmp = target.with_name(f".{target.name}.unpacking-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tarfile.open(sdist) as tar:
            members = []
            for member in tar.getmembers():
                _, _, inner = member.name.partition(_VENDOR)
                if inner and inner.startswith(_KEEP) and (member.isfile() or member.isdir()):
                    member.name = inner
                    members.append(member)
            tar.extractall(tmp, members=members, filter="data")
        if not (tmp / "convert_hf_to_gguf.py").is_file():
            raise ExportError("llama.cpp's source package holds no converter, so GGUF export cannot run.",
                              detail=str(sdist))
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install_tools(*, progress: Callable[[str], None] | None = None) -> Path:
    """Install the pinned runtime and unpack its converter; a no-op when both are there."""
    say = progress or (lambda _msg: None)
    try:
        if not runtime_ready():
            say(f"building {PACKAGE}=={LLAMA_CPP_PYTHON} (minutes the first time, then cached)")
            _pip("install", *PINS)
        if not converter_ready():
            say("unpacking llama.cpp's converter from the same source package")
            with tempfile.TemporaryDirectory() as tmp:
                _pip("download", "--no-deps", "--no-binary", PACKAGE, "--dest", tmp, f"{PACKAGE}=={LLAMA_CPP_PYTHON}")
                sdist = next(Path(tmp).glob("*.tar.gz"))
                converter_dir().parent.mkdir(parents=True, exist_ok=True)
                _unpack_converter(sdist, converter_dir())
    except (subprocess.CalledProcessError, OSError, StopIteration) as exc:
        raise ExportError(
            f"llama.cpp ({PACKAGE}=={LLAMA_CPP_PYTHON}), which GGUF export needs, could not be installed. "
            "Run `python -m hubkit.export.tools` (or `make test-deps`) where the package index is reachable.",
            detail=getattr(exc, "stderr", None) or str(exc),
        ) from exc
    return converter_dir()


def ensure_tools(*, install: bool = True, progress: Callable[[str], None] | None = None) -> Path:
    """The converter folder, installing the tools first if allowed; otherwise a sentence saying how."""
    if runtime_ready() and converter_ready():
        return converter_dir()
    if not install:
        raise MissingExtra(f"llama.cpp ({PACKAGE}=={LLAMA_CPP_PYTHON}), needed for GGUF export,", "export")
    return install_tools(progress=progress)


def main() -> int:
    """``python -m hubkit.export.tools``: what ``make test`` runs to install the export tools."""
    path = install_tools(progress=lambda msg: print(msg, file=sys.stderr))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
