"""The apps' Voilà template: installed with the plotly.js plotly.py writes figures for."""
import json
import sys
from pathlib import Path

import pytest
from plotly.offline import get_plotlyjs_version

from hubkit.errors import ConfigError
from hubkit.ui.template import BUNDLE, NAME, bundle_version, install, main, template_dir

REPO = Path(__file__).resolve().parents[2]


def fake_bundle(tmp_path, version: str):
    path = tmp_path / "bundle.js"
    path.write_text(f"/**\n* plotly.js (cartesian - minified) v{version}\n*/\nwindow.Plotly = {{}};\n")
    return path


def test_install_puts_template_and_bundle_where_voila_looks(tmp_path):
    target = install(fake_bundle(tmp_path, get_plotlyjs_version()), prefix=tmp_path / "env")
    assert target == tmp_path / "env" / "share" / "jupyter" / "voila" / "templates" / "hubkit"
    assert (target / "conf.json").is_file() and (target / "index.html.j2").is_file()
    assert f"static/{BUNDLE}" in (target / "index.html.j2").read_text()
    assert (target / "static" / BUNDLE).read_text().startswith("/**")
    again = install(fake_bundle(tmp_path, get_plotlyjs_version()), prefix=tmp_path / "env")  # a reinstall replaces it
    assert sorted(p.name for p in again.parent.iterdir()) == ["hubkit"]


def test_a_bundle_of_another_plotly_js_is_refused_by_name(tmp_path):
    with pytest.raises(ConfigError, match=r"bundle\.js is plotly\.js 1\.0\.0, but plotly .* plotly\.js "):
        install(fake_bundle(tmp_path, "1.0.0"), prefix=tmp_path / "env")
    assert not template_dir(tmp_path / "env").exists()


def test_missing_or_foreign_bundle_is_a_plain_sentence(tmp_path, capsys):
    assert main(["--bundle", str(tmp_path / "nope.js"), "--prefix", str(tmp_path)]) == 2
    assert "nope.js" in capsys.readouterr().err
    other = tmp_path / "other.js"
    other.write_text("console.log(1)")
    with pytest.raises(ConfigError, match="names no plotly.js version"):
        bundle_version(other)


def test_this_environment_has_the_template_the_apps_name():
    """``make install`` installed it; voila_apps/voila.json names it and leaves plotly's renderer out."""
    settings = json.loads((REPO / "voila_apps" / "voila.json").read_text())["VoilaConfiguration"]
    assert settings["template"] == NAME and "jupyterlab-plotly" in settings["extension_denylist"]
    target = template_dir(sys.prefix)
    assert bundle_version(target / "static" / BUNDLE) == get_plotlyjs_version()
