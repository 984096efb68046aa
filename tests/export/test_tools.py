"""llama.cpp's tools: one set of pins, an optional extra off `make demo`'s path, and a plain sentence when missing."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hubkit.errors import ExportError, MissingExtra
from hubkit.export import tools

ROOT = Path(__file__).resolve().parents[2]


def test_the_export_extra_is_pinned_the_same_everywhere_and_not_in_the_main_lock() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["export"]
    lock = [line for line in (ROOT / "requirements-export.lock").read_text().splitlines()
            if line and not line.startswith("#")]
    assert sorted(extra) == sorted(lock) == sorted(tools.PINS)
    main_lock = (ROOT / "requirements.lock").read_text().lower()
    assert "llama-cpp-python" not in main_lock  # `make demo` installs requirements.lock only


def test_missing_tools_without_install_is_a_sentence_naming_the_extra(monkeypatch) -> None:
    monkeypatch.setattr(tools, "runtime_ready", lambda: False)
    with pytest.raises(MissingExtra) as err:
        tools.ensure_tools(install=False)
    assert "hubkit[export]" in err.value.message and "GGUF" in err.value.message


def test_a_failed_install_is_a_sentence_and_leaves_no_converter_half_unpacked(tmp_path, monkeypatch) -> None:
    broken = tmp_path / "llama_cpp_python-0.3.36.tar.gz"
    broken.write_bytes(b"not a tar file")
    target = tmp_path / "llama.cpp"
    with pytest.raises(Exception):
        tools._unpack_converter(broken, target)
    assert not target.exists() and not list(tmp_path.glob(".llama.cpp.*"))
    monkeypatch.setattr(tools, "runtime_ready", lambda: False)
    monkeypatch.setattr(tools, "_pip", lambda *a: (_ for _ in ()).throw(OSError("no network")))
    with pytest.raises(ExportError) as err:
        tools.install_tools()
    assert "could not be installed" in err.value.message and "no network" in err.value.detail
