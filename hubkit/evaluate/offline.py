"""Nothing downloads during an evaluation, whatever the environment says.

Hugging Face Hub and ``datasets`` read their offline switches from module
globals at call time; turning them on for the duration of an evaluation makes
every would-be download an error, so a standard task without local data is
skipped instead of fetched, and a base model without local weights fails
instead of downloading.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_downloads() -> Iterator[None]:
    import datasets.config
    import huggingface_hub.constants

    saved = huggingface_hub.constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE
    huggingface_hub.constants.HF_HUB_OFFLINE = True
    datasets.config.HF_HUB_OFFLINE = True
    try:
        yield
    finally:
        huggingface_hub.constants.HF_HUB_OFFLINE, datasets.config.HF_HUB_OFFLINE = saved
