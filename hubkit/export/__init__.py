"""Models leaving the platform: GGUF files and Ollama bundles made with llama.cpp's own tools,
and pushes to the Hugging Face Hub. Every export and push is recorded on its run.

Public API: ``export_model``, ``save_merged`` (the owner's complete model, as a
download), ``check_merged_download``, ``FORMATS``, ``QUANTIZATIONS``, ``ExportResult``,
``push_model``, ``push_folder``, ``PushResult``. Names load on first use (see
``hubkit._lazy``), so importing this package does not need llama.cpp.
"""
from __future__ import annotations

from hubkit._lazy import lazy_exports

_HOMES = {
    "ExportResult": "api",
    "FORMATS": "api",
    "QUANTIZATIONS": "gguf",
    "check_merged_download": "api",
    "export_model": "api",
    "latest_export": "api",
    "save_merged": "api",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
