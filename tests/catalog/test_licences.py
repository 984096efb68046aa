"""Licences: which allow merged weights to be handed on, and the sentence when one does not."""
from __future__ import annotations

import pytest

from hubkit.catalog import FAMILIES
from hubkit.catalog.licences import check_merged_redistribution, licence_of
from hubkit.errors import PermissionDenied


def test_every_catalog_licence_is_known_and_allows_merged_weights() -> None:
    for family in FAMILIES.values():
        for model in family.models:
            licence = check_merged_redistribution(model.licence, what="a merged model")
            assert licence.hub_id != "other", model.licence


@pytest.mark.parametrize("name", ["CC-BY-NC-ND-4.0", "Acme Research Licence"])
def test_a_licence_without_that_right_is_refused_by_name(name: str) -> None:
    with pytest.raises(PermissionDenied) as err:
        check_merged_redistribution(name, what="a merged GGUF")
    assert name in err.value.message and "adapter" in err.value.message


def test_lookup_by_hub_id_or_name_in_any_case() -> None:
    assert licence_of("apache-2.0") is licence_of("Apache-2.0")
    assert licence_of("Acme Research Licence").hub_name == "acme-research-licence"
