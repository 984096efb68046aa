"""A byte-level BPE tokenizer trained locally for a family's stand-in.

Byte-level BPE round-trips any text exactly (no unknown tokens), like the
real families' tokenizers; the family's special tokens and chat template are
attached so chat rendering and EOS handling match the real family's markup.
"""
from __future__ import annotations

import json
from collections.abc import Iterable

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from hubkit.catalog.families import FAMILIES, Family


def gguf_pre_tokenizer(tokenizer: PreTrainedTokenizerBase) -> str | None:
    """The name llama.cpp's converter knows this tokenizer's split by, or None if it has none here.

    The converter recognises a pre-tokenizer by hashing how a known vocabulary splits a probe
    text, so a locally trained stand-in vocabulary must be named. The name follows the split
    transformers really applies: a family's tokenizer class may replace the saved one (Qwen 2).
    """
    state = json.loads(tokenizer.backend_tokenizer.pre_tokenizer.__getstate__())
    if state.get("type") == "ByteLevel" and state.get("use_regex"):
        return "gpt-2"
    splits = {p["pattern"].get("Regex") for p in state.get("pretokenizers", []) if p.get("type") == "Split"}
    for name in FAMILIES:
        layout = FAMILIES[name].tokenizer
        if layout.split in splits:
            return layout.gguf_pre
    return None


def train_tokenizer(*, family: Family, texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train BPE on ``texts`` (deterministic for the same texts) and wrap it for transformers."""
    chat = family.chat
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=chat.special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=chat.bos,
        eos_token=chat.eos,
        pad_token=chat.pad,
        additional_special_tokens=[t for t in chat.extra_special],
        chat_template=chat.template,
        clean_up_tokenization_spaces=False,
        model_max_length=512,
    )
