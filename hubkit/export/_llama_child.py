"""Runs llama.cpp's tools in a process of their own (they log, hold memory and set globals).

``convert [--pre NAME] SCRIPT -- ARGS``: runs the pinned, unmodified converter
script as ``__main__`` with ``ARGS``. ``--pre`` names the model's BPE
pre-tokenizer through the converter's own class registry: the class
registered for the model's architecture is subclassed so that it answers with
the pre-tokenizer the tokenizer really uses. hubkit passes it for stand-ins,
whose locally trained vocabulary the converter's hash table cannot know; real
checkpoints are recognised by the converter itself.

``quantize SRC DEST FTYPE``: llama.cpp's own quantizer (``llama_model_quantize``);
``FTYPE`` is the name of one of llama.cpp's ``llama_ftype`` values.
"""
from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path


def _name_pre_tokenizer(model_dir: Path, pre: str) -> None:
    from conversion import ModelBase, get_model_class  # the pinned converter's package

    arch = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["architectures"][0]
    registered = get_model_class(arch)

    def get_vocab_base_pre(self, tokenizer):  # type: ignore[no-untyped-def]
        return pre

    named = type(registered.__name__, (registered,),
                 {"model_arch": registered.model_arch, "get_vocab_base_pre": get_vocab_base_pre})
    ModelBase.register(arch)(named)


def convert(script: Path, pre: str | None, args: list[str]) -> None:
    root = script.parent
    sys.path[:0] = [str(root), str(root / "gguf-py")]
    if pre:
        model_dir = Path(next(a for a in reversed(args) if not a.startswith("-")))
        _name_pre_tokenizer(model_dir, pre)
    sys.argv = [str(script), *args]
    runpy.run_path(str(script), run_name="__main__")


def quantize(src: Path, dest: Path, ftype: str) -> None:
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, ftype)
    params.nthread = 1
    code = llama_cpp.llama_model_quantize(str(src).encode(), str(dest).encode(), params)
    if code != 0:
        raise SystemExit(f"llama_model_quantize returned {code}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="hubkit.export._llama_child")
    sub = parser.add_subparsers(dest="tool", required=True)
    p = sub.add_parser("convert")
    p.add_argument("script", type=Path)
    p.add_argument("--pre")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p = sub.add_parser("quantize")
    p.add_argument("src", type=Path)
    p.add_argument("dest", type=Path)
    p.add_argument("ftype")
    ns = parser.parse_args(argv)
    if ns.tool == "convert":
        convert(ns.script, ns.pre, [a for a in ns.args if a != "--"])
    else:
        quantize(ns.src, ns.dest, ns.ftype)


if __name__ == "__main__":
    main(sys.argv[1:])
