"""The apps' Voilà template: installed with the plotly.js bundles plotly.py writes figures for."""
import json
import sys
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs_version

from hubkit.errors import ConfigError
from hubkit.ui.template import (
    BASIC,
    BUNDLES,
    CARTESIAN,
    NAME,
    bundle_for,
    bundle_version,
    install,
    main,
    template_dir,
)

REPO = Path(__file__).resolve().parents[2]


def fake_node_modules(tmp_path: Path, version: str, *, skip: str | None = None) -> Path:
    modules = tmp_path / "node_modules"
    for bundle in BUNDLES:
        if bundle.name != skip:
            (modules / bundle.package).mkdir(parents=True, exist_ok=True)
            (modules / bundle.package / bundle.file).write_text(
                f"/**\n* plotly.js ({bundle.name} - minified) v{version}\n*/\nwindow.Plotly = {{}};\n")
    return modules


def test_install_puts_template_and_bundles_where_voila_looks(tmp_path):
    target = install(fake_node_modules(tmp_path, get_plotlyjs_version()), prefix=tmp_path / "env")
    assert target == tmp_path / "env" / "share" / "jupyter" / "voila" / "templates" / "hubkit"
    assert (target / "conf.json").is_file()
    page = (target / "index.html.j2").read_text()
    for bundle in BUNDLES:
        assert f"static/{bundle.file}" in page and (target / "static" / bundle.file).read_text().startswith("/**")
    again = install(fake_node_modules(tmp_path, get_plotlyjs_version()), prefix=tmp_path / "env")
    assert sorted(p.name for p in again.parent.iterdir()) == ["hubkit"]  # a reinstall replaces it whole


def test_a_bundle_of_another_plotly_js_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"plotly-basic\.min\.js is plotly\.js 1\.0\.0, but plotly .* plotly\.js "):
        install(fake_node_modules(tmp_path, "1.0.0"), prefix=tmp_path / "env")
    assert not template_dir(tmp_path / "env").exists()


def test_missing_or_foreign_bundle_is_a_plain_sentence(tmp_path, capsys):
    modules = fake_node_modules(tmp_path, get_plotlyjs_version(), skip="cartesian")
    assert main(["--node-modules", str(modules), "--prefix", str(tmp_path / "env")]) == 2
    assert "cartesian bundle is missing" in capsys.readouterr().err
    other = tmp_path / "other.js"
    other.write_text("console.log(1)")
    with pytest.raises(ConfigError, match="names no plotly.js version"):
        bundle_version(other)


def test_the_smallest_bundle_that_draws_a_figure_is_chosen():
    assert bundle_for(["scatter", "bar"]) is BASIC and bundle_for([]) is BASIC
    assert bundle_for(["scatter", "heatmap"]) is CARTESIAN
    with pytest.raises(ValueError, match="scatterpolar"):
        bundle_for(["scatterpolar"])


def test_this_environment_has_the_template_the_apps_name():
    """``make install`` installed it; voila_apps/voila.json names it and leaves plotly's renderer out."""
    settings = json.loads((REPO / "voila_apps" / "voila.json").read_text())["VoilaConfiguration"]
    assert settings["template"] == NAME and "jupyterlab-plotly" in settings["extension_denylist"]
    for bundle in BUNDLES:
        assert bundle_version(template_dir(sys.prefix) / "static" / bundle.file) == get_plotlyjs_version()
