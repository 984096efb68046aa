"""The apps' Voilà template: installed where Voilà looks for templates, with plotly's cartesian bundle.

JupyterLab's plotly renderer is one 4.8 MB script that a browser spends about a
second running before it draws anything; plotly's cartesian bundle (1.5 MB) draws
every trace the apps' figures use (:data:`TRACES`). Voilà finds templates only
in Jupyter's data folders, so ``make install`` runs this module once:

    python -m hubkit.ui.template --bundle .venv/node/node_modules/plotly.js-cartesian-dist-min/plotly-cartesian.min.js
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

from hubkit.errors import ConfigError

NAME = "hubkit"
BUNDLE = "plotly-cartesian.min.js"
# the trace types plotly.js-cartesian-dist-min holds: an app figure may use these only
TRACES = frozenset({"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image",
                    "pie", "scatter", "scatterternary", "violin"})
SOURCE = Path(__file__).with_name("voila_template")
_VERSION = re.compile(rb"plotly\.js (?:\([^)]*\) )?v(\d+\.\d+\.\d+)")


def template_dir(prefix: Path | str = sys.prefix) -> Path:
    return Path(prefix) / "share" / "jupyter" / "voila" / "templates" / NAME


def bundle_version(bundle: Path) -> str:
    """The plotly.js version a bundle's licence header names."""
    with open(bundle, "rb") as f:
        found = _VERSION.search(f.read(4096))
    if not found:
        raise ConfigError(f"{bundle} is not a plotly.js bundle: its header names no plotly.js version.")
    return found.group(1).decode()


def install(bundle: Path, *, prefix: Path | str = sys.prefix) -> Path:
    """Copy the template and ``bundle`` into ``prefix``; the bundle must be the plotly.js plotly.py speaks to."""
    from plotly.offline import get_plotlyjs_version

    if not Path(bundle).is_file():
        raise ConfigError(f"plotly's cartesian bundle is missing: {bundle} (make install fetches it with npm).")
    wanted, found = get_plotlyjs_version(), bundle_version(bundle)
    if found != wanted:
        raise ConfigError(f"{bundle} is plotly.js {found}, but plotly {_plotly_version()} writes figures for "
                          f"plotly.js {wanted}: install plotly.js-cartesian-dist-min@{wanted}.")
    target = template_dir(prefix)
    target.parent.mkdir(parents=True, exist_ok=True)
    # built beside the target, then swapped in: a server never sees half a template
    staging = Path(tempfile.mkdtemp(prefix=f".{NAME}-", dir=target.parent))
    shutil.copytree(SOURCE, staging, dirs_exist_ok=True)
    (staging / "static").mkdir(exist_ok=True)
    shutil.copyfile(bundle, staging / "static" / BUNDLE)
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
    parser.add_argument("--bundle", type=Path, required=True, help=f"path to {BUNDLE}")
    parser.add_argument("--prefix", default=sys.prefix, help="environment prefix (default: this Python's)")
    args = parser.parse_args(argv)
    try:
        target = install(args.bundle, prefix=args.prefix)
    except ConfigError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    print(f"Voilà template {NAME!r} installed in {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
