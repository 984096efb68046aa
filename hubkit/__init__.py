"""AI Model Hub: build language models on open bases with LoRA, record every attempt."""
from __future__ import annotations

__version__ = "0.1.0"
