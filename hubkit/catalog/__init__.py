"""Base models: the four seed families, their real ids and their offline stand-ins.

Public API: ``FAMILIES``, ``get_family``, ``list_base_models``,
``base_model_records``, ``build_standins``, ``standin_path``, ``load_base``,
``check_chat_template``.

Names load on first use (see ``hubkit._lazy``).
"""
from __future__ import annotations

from hubkit._lazy import lazy_exports

_HOMES = {
    "BaseModelInfo": "listing",
    "BuildProgress": "standin",
    "ChatFormat": "families",
    "DEFAULT_RECIPE": "standin",
    "FAMILIES": "families",
    "Family": "families",
    "FamilyRegistry": "families",
    "RECIPE_VERSION": "standin",
    "RealModel": "families",
    "STANDIN_LICENCE": "listing",
    "StandinRecipe": "standin",
    "base_model_records": "listing",
    "build_standins": "standin",
    "catalog_key": "listing",
    "check_chat_template": "loading",
    "get_family": "families",
    "list_base_models": "listing",
    "load_base": "loading",
    "read_manifest": "standin",
    "registered_base": "listing",
    "resolve": "loading",
    "standin_config": "standin",
    "standin_path": "standin",
}

__all__ = sorted(_HOMES)
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)
