"""``hubkit export MODEL --format gguf|gguf-adapter|ollama|ollama-adapter --quant f16|q8_0|q4_k_m``
and ``hubkit push MODEL REPO_ID``: a model leaves the platform, with progress and a record."""
from __future__ import annotations

import argparse
import getpass
import sys

from tqdm import tqdm

FORMAT_CHOICES = ("gguf", "gguf-adapter", "ollama", "ollama-adapter")
QUANT_CHOICES = ("f16", "q8_0", "q4_k_m")


def add_model_export_flags(p: argparse.ArgumentParser) -> None:
    group = p.add_argument_group("model export (with MODEL)")
    group.add_argument("--format", default="gguf", choices=FORMAT_CHOICES,
                       help="gguf: merged model; gguf-adapter: the LoRA adapter for its base's GGUF; "
                            "ollama / ollama-adapter: a Modelfile bundle ready for `ollama create`")
    group.add_argument("--quant", default="f16", help=f"llama.cpp quantization: {', '.join(QUANT_CHOICES)}")
    group.add_argument("--out", default=".", metavar="DIR", help="folder to write the export into")
    group.add_argument("--as", dest="viewer", help="who exports it (default: your user name)")
    group.add_argument("--no-install", action="store_true",
                       help="fail instead of installing llama.cpp (hubkit[export]) when it is missing")


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from hubkit.config import load_settings
    from hubkit.store import LocalStore

    return LocalStore(args.db or load_settings().database_url)


def _model(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def export_model_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hubkit.export import export_model

    store = _store(args)
    viewer = args.viewer or getpass.getuser()
    store.ensure_user(viewer)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tqdm(total=None, desc=f"export {args.format} {args.quant}", unit="step", file=sys.stderr) as bar:
        def step(message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(1)

        result = export_model(store=store, model=_model(args.model), viewer=viewer, fmt=args.format,
                              quantization=args.quant, out_dir=out, install=not args.no_install, progress=step)
    print(f"{result.path}  ({result.size:,} bytes, sha256 {result.sha256})")
    if args.format.startswith("ollama"):
        name = result.filename.removesuffix(".tar")
        print(f"cd {result.path} && ollama create {name} -f Modelfile && ollama run {name}")
    return 0


def _push(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from hubkit.export.push import push_model

    store = _store(args)
    viewer = args.viewer or getpass.getuser()
    with tempfile.TemporaryDirectory(prefix="hubkit-push-") as tmp, \
            tqdm(total=None, desc=f"push {args.repo_id}", unit="step", file=sys.stderr) as bar:
        def step(message: str) -> None:
            bar.set_postfix_str(message)
            bar.update(1)

        result = push_model(store=store, model=_model(args.model), viewer=viewer, repo_id=args.repo_id,
                            work=Path(tmp), merged=args.merged, gguf=args.gguf, private=not args.public,
                            progress=step)
    print(f"{result.url}  ({len(result.files)} files)")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("push", help="push a model to a Hugging Face repo with your HF_TOKEN")
    p.add_argument("model", help="the model's id or slug")
    p.add_argument("repo_id", help="owner/name of the Hugging Face repo (created if missing)")
    p.add_argument("--merged", action="store_true", help="also upload the merged model (under merged/)")
    p.add_argument("--gguf", choices=QUANT_CHOICES, help="also upload a GGUF file at this quantization")
    p.add_argument("--public", action="store_true", help="make a new repo public (default: private)")
    p.add_argument("--as", dest="viewer", help="who pushes (default: your user name; must own the model)")
    p.add_argument("--db", help="database URL (default: the configured run database)")
    p.set_defaults(func=_push)
