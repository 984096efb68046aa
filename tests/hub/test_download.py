import io
import tarfile

import pytest

from hubkit.archive import open_archive
from hubkit.errors import ArchiveIntegrityError, NotFound
from hubkit.hub import available_downloads, download_bundle
from hubkit.store import ANONYMOUS


@pytest.fixture
def adapter(hub_store, world, tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"\x00weights")
    (folder / "README.md").write_text("---\nbase_model: llama3-standin\n---\n# Math whiz\n")
    digest = open_archive().put_dir(folder)
    hub_store.add_artifacts(world.math_model.id, {"adapter": digest})
    return digest


def test_adapter_and_card_come_from_the_archive(hub_store, world, adapter):
    run = hub_store.get_run(world.math_model.id)
    assert available_downloads(run) == ("adapter", "model_card")
    bundle = download_bundle(store=hub_store, model=run.slug, kind="adapter", viewer=ANONYMOUS)
    assert bundle.filename == f"{run.slug}-adapter.tar.gz" and bundle.sha256 == adapter
    with tarfile.open(fileobj=io.BytesIO(bundle.data), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == [f"{run.slug}-adapter/README.md",
                                          f"{run.slug}-adapter/adapter_model.safetensors"]
    card = download_bundle(store=hub_store, model=run.slug, kind="model_card", viewer=ANONYMOUS)
    assert card.filename.endswith("README.md") and b"base_model: llama3-standin" in card.data


def test_missing_private_and_tampered(hub_store, world, adapter):
    with pytest.raises(NotFound):
        download_bundle(store=hub_store, model=world.math_model.slug, kind="merged", viewer=ANONYMOUS)
    with pytest.raises(NotFound):
        download_bundle(store=hub_store, model=world.private.slug, kind="adapter", viewer=ANONYMOUS)
    with pytest.raises(NotFound):
        download_bundle(store=hub_store, model=world.math_model.slug, kind="weights", viewer=ANONYMOUS)
    archive = open_archive()
    path = archive._path(adapter)
    with archive.fs.open(path, "ab") as fh:
        fh.write(b"tampered")
    with pytest.raises(ArchiveIntegrityError):
        download_bundle(store=hub_store, model=world.math_model.slug, kind="adapter", viewer=ANONYMOUS)
