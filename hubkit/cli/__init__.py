"""``hubkit`` command line.

Each module in this package that defines ``register(subparsers)`` adds its
commands; ``main`` discovers them, so a new command group is one new module.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from sqlalchemy.exc import DBAPIError

from hubkit.errors import HubkitError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubkit",
        description="AI Model Hub: build, benchmark and study fine-tuned language models.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except HubkitError as exc:
        if args.debug:
            raise
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except DBAPIError as exc:
        if args.debug:
            raise
        reason = str(exc.orig).strip().splitlines()[0][:200] if exc.orig else type(exc).__name__
        print(f"error: The run database refused the request ({reason}). Run 'hubkit init' to bring it up "
              "to date, or 'hubkit --debug ...' for the details.", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
