"""An Ollama bundle: a Modelfile beside the GGUF file(s), ready for ``ollama create``.

The ``TEMPLATE`` is the Go form of the family's chat markup (the same
description the tokenizer's Jinja template comes from), every stop token of
the tokenizer is a ``PARAMETER stop``, and the licence travels as ``LICENSE``.
Greedy decoding is the default, as in the platform's demo.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubkit.catalog.chat import go_template
from hubkit.catalog.families import ChatFormat
from hubkit.catalog.licences import Licence

MODELFILE = "Modelfile"
LICENSE_FILE = "LICENSE"


def stop_tokens(tokenizer: Any, generation_config: Any = None) -> list[str]:
    """Every token that ends generation: the tokenizer's EOS and the generation config's EOS ids."""
    ids: list[int] = []
    if generation_config is not None and generation_config.eos_token_id is not None:
        eos = generation_config.eos_token_id
        ids.extend(eos if isinstance(eos, list) else [eos])
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    return list(dict.fromkeys(tokenizer.convert_ids_to_tokens(i) for i in ids))


def licence_text(licence: Licence, *, base: str) -> str:
    lines = [f"The base model {base} is under the {licence.name}."]
    if licence.link:
        lines.append(f"Its terms: {licence.link}")
    if licence.conditions:
        lines.append(licence.conditions)
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    if '"' in text or "\n" in text:
        raise ValueError(f"{text!r} cannot be a Modelfile parameter")
    return f'"{text}"'


def modelfile(*, chat: ChatFormat, model_file: str, stops: Sequence[str], licence: str,
              adapter_file: str | None = None) -> str:
    """The Modelfile text: ``FROM`` the model (or base) file, ``ADAPTER`` when there is one."""
    if '"""' in licence:
        raise ValueError("a licence text cannot hold triple quotes")
    lines = [f"FROM ./{model_file}"]
    if adapter_file:
        lines.append(f"ADAPTER ./{adapter_file}")
    lines.append(f'TEMPLATE """{go_template(chat)}"""')
    lines += [f"PARAMETER stop {_quoted(stop)}" for stop in stops]
    lines.append("PARAMETER temperature 0")
    lines.append(f'LICENSE """{licence}"""')
    return "\n".join(lines) + "\n"


def parse_modelfile(text: str) -> dict[str, list[str]]:
    """Instruction → values, with triple-quoted values unwrapped (for tests and checks)."""
    out: dict[str, list[str]] = {}
    rest = text
    while rest.strip():
        rest = rest.lstrip("\n")
        word, _, rest = rest.partition(" ")
        if rest.startswith('"""'):
            value, _, rest = rest[3:].partition('"""')
            rest = rest.removeprefix("\n")
        else:
            value, _, rest = rest.partition("\n")
            if word == "PARAMETER":
                name, _, raw = value.partition(" ")
                word, value = f"PARAMETER {name}", raw.strip('"')
        out.setdefault(word, []).append(value)
    return out
