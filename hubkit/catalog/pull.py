"""``hubkit catalog pull ID``: a real base model's weights into the Hugging Face cache, ahead of training.

Training, evaluation and the demo load real checkpoints from the cache only
when the machine is offline, so an operator pulls them once (on a machine
that can reach the Hub, then copies the cache to an air-gapped cluster).
Gated models (Llama 3, for one) need the licence accepted on the Hub by the
account whose ``HF_TOKEN`` is used; a refusal names the page to accept.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hubkit.catalog.loading import resolve
from hubkit.errors import ConfigError, NotFound, PermissionDenied, ValidationError

# What loading, training, evaluation and export read; no other checkpoint formats, no repo extras.
WEIGHT_FILES = ["*.json", "*.safetensors", "tokenizer.model", "*.jinja", "*.txt", "LICENSE*", "README.md"]
_OFFLINE_VALUES = {"1", "true", "yes", "on"}


def cached_snapshot(hf_id: str) -> Path | None:
    """The cached snapshot folder of ``hf_id`` when its config is in the cache, else None."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(hf_id, "config.json")
    return Path(found).parent if isinstance(found, str) else None


def pull(key: str, *, token: str | None = None, endpoint: str | None = None,
         progress: Callable[[str], None] | None = None) -> Path:
    """Download ``key``'s weights (a catalog key or its Hub id); returns the snapshot folder."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    say = progress or (lambda _msg: None)
    family, real = resolve(key)
    if real is None:
        raise ValidationError(f"{key} is an offline stand-in: it is built on this machine, not pulled. "
                              "Run 'hubkit catalog build'.", field="model")
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _OFFLINE_VALUES:
        raise ConfigError(f"This machine is offline (HF_HUB_OFFLINE is set), so {real.hf_id} cannot be "
                          "downloaded here. Pull it where the Hub is reachable and copy the Hugging Face "
                          "cache over, or unset HF_HUB_OFFLINE.")
    secret = token or os.environ.get("HF_TOKEN") or None
    page = f"https://huggingface.co/{real.hf_id}"
    say(f"downloading {real.hf_id} ({family.display_name}, {real.licence})")
    try:
        folder = snapshot_download(real.hf_id, allow_patterns=WEIGHT_FILES, token=secret, endpoint=endpoint)
    except GatedRepoError:
        how = ("the account of your HF_TOKEN has not accepted it yet" if secret
               else "no HF_TOKEN is set, so the Hub does not know who is asking")
        raise PermissionDenied(f"{real.hf_id} is gated under the {real.licence} licence and {how}. Accept the "
                               f"licence at {page} with your Hugging Face account, set HF_TOKEN to a token of "
                               "that account, and pull again.") from None
    except RepositoryNotFoundError:
        raise NotFound(f"The Hugging Face Hub has no model {real.hf_id} that this token may see ({page}).") \
            from None
    except (HfHubHTTPError, OSError) as exc:
        raise ConfigError(f"{real.hf_id} could not be downloaded: the Hugging Face Hub did not answer as "
                          "expected. Check the network and try again; what was already fetched is kept.",
                          detail=type(exc).__name__) from None
    return Path(folder)
