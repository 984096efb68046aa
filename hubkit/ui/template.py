"""The apps' Voilà template: installed where Voilà looks for templates, with plotly's partial bundles.

JupyterLab's plotly renderer is one 4.8 MB script that a browser spends about a
second running before it draws anything. The apps draw with plotly's partial
bundles instead: the basic one (1.2 MB: scatter, bar, pie), run on every page
while the kernel builds it, and the cartesian one (1.5 MB, adds heatmaps and
the like), fetched only by a page that shows such a figure. Voilà finds
templates only in Jupyter's data folders, so ``make install`` runs this module:

    python -m hubkit.ui.template --node-modules .venv/node/node_modules
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hubkit.errors import ConfigError

NAME = "hubkit"
SOURCE = Path(__file__).with_name("voila_template")
_VERSION = re.compile(rb"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)")


@dataclass(frozen=True)
class Bundle:
    """One of plotly.js's partial bundles, as npm ships it."""

    name: str
    package: str
    file: str
    traces: frozenset[str]


BASIC = Bundle("basic", "plotly.js-basic-dist-min", "plotly-basic.min.js", frozenset({"bar", "pie", "scatter"}))
CARTESIAN = Bundle("cartesian", "plotly.js-cartesian-dist-min", "plotly-cartesian.min.js", frozenset({
    "bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie", "scatter",
    "scatterternary", "violin"}))
BUNDLES = (BASIC, CARTESIAN)  # smallest first


def bundle_for(traces: Iterable[str]) -> Bundle:
    """The smallest bundle that draws every one of ``traces``."""
    wanted = set(traces)
    for bundle in BUNDLES:
        if wanted <= bundle.traces:
            return bundle
    raise ValueError(f"no plotly.js bundle of the apps draws {sorted(wanted - CARTESIAN.traces)}: "
                     "draw the figure with the traces of hubkit.ui.template.CARTESIAN")


def template_dir(prefix: Path | str = sys.prefix) -> Path:
    return Path(prefix) / "share" / "jupyter" / "voila" / "templates" / NAME


def bundle_version(bundle: Path) -> str:
    """The plotly.js version a bundle's licence header names."""
    with open(bundle, "rb") as f:
        found = _VERSION.search(f.read(4096))
    if not found:
        raise ConfigError(f"{bundle} is not a plotly.js bundle: its header names no plotly.js version.")
    return found.group(1).decode()


def install(node_modules: Path, *, prefix: Path | str = sys.prefix) -> Path:
    """Copy the template and the bundles (from npm's ``node_modules``) into ``prefix``.

    Each bundle must be the plotly.js version plotly.py writes figures for.
    """
    from plotly.offline import get_plotlyjs_version

    wanted = get_plotlyjs_version()
    files = []
    for bundle in BUNDLES:
        path = Path(node_modules) / bundle.package / bundle.file
        if not path.is_file():
            raise ConfigError(f"plotly's {bundle.name} bundle is missing: {path} (make install fetches it with npm).")
        found = bundle_version(path)
        if found != wanted:
            raise ConfigError(f"{path} is plotly.js {found}, but plotly {_plotly_version()} writes figures for "
                              f"plotly.js {wanted}: install {bundle.package}@{wanted}.")
        files.append(path)
    target = template_dir(prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    # built beside the target, then swapped in: a server never sees half a template
    staging = Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=target.parent))
    shutil.copytree(SOURCE, staging, dirs_exist_ok=True)
    (staging / "static").mkdir(exist_ok=True)
    for path in files:
        shutil.copyfile(path, staging / "static" / path.name)
    old = target.with_name(f".{NAME}-old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target


def _plotly_version() -> str:
    import plotly

    return str(plotly.__version__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node-modules", type=Path, required=True,
                        help="npm's node_modules folder holding " + " and ".join(b.package for b in BUNDLES))
    parser.add_argument("--prefix", default=sys.prefix, help="environment prefix (default: this Python's)")
    args = parser.parse_args(argv)
    try:
        target = install(args.node_modules, prefix=args.prefix)
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"Voilà template {NAME!r} installed in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
