"""A tokenizer trained locally for a family's stand-in, laid out like the family's real one.

Llama 3 and Qwen 2 split text with their own regex and then run byte-level BPE
(so llama.cpp knows them as its ``llama-bpe`` and ``qwen2`` pre-tokenizers);
Mistral and Phi-3 use a SentencePiece BPE model with byte fallback and ship
``tokenizer.model``. The family's special tokens sit where the real family puts
them, BOS is added the way the real family adds it, and the chat template and
EOS are attached, so chat rendering, stopping and a GGUF conversion behave as
they do on the real models.
"""
from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import LlamaTokenizer, PreTrainedTokenizerBase, PreTrainedTokenizerFast

from hubkit.catalog.families import Family

SPM_FILE = "tokenizer.model"
_SPM_ATTR = "hubkit_sentencepiece_model"  # the trained SentencePiece model's bytes, kept for saving


def train_tokenizer(*, family: Family, texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerBase:
    """Train on ``texts`` (deterministic for the same texts) in the family's layout, wrapped for transformers."""
    if family.tokenizer.kind == "sentencepiece":
        return _train_sentencepiece(family, list(texts), vocab_size)
    return _train_byte_bpe(family, texts, vocab_size)


def save_tokenizer(tokenizer: PreTrainedTokenizerBase, folder: Path) -> None:
    """``save_pretrained`` plus the SentencePiece model file, which llama.cpp's converter reads."""
    tokenizer.save_pretrained(folder)
    model = getattr(tokenizer, _SPM_ATTR, None)
    if model is not None:
        (Path(folder) / SPM_FILE).write_bytes(model)


def _train_byte_bpe(family: Family, texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    layout, chat = family.tokenizer, family.chat
    core = Tokenizer(models.BPE())
    if layout.nfc:
        core.normalizer = normalizers.NFC()
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(layout.split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False),
    ])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=chat.special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    if layout.ignore_merges:  # Llama 3 takes a whole word from the vocabulary before merging
        spec = json.loads(core.to_str())
        spec["model"]["ignore_merges"] = True
        core = Tokenizer.from_str(json.dumps(spec))
    if layout.add_bos and chat.bos:
        core.post_processor = processors.TemplateProcessing(
            single=f"{chat.bos} $A", pair=f"{chat.bos} $A {chat.bos} $B",
            special_tokens=[(chat.bos, core.token_to_id(chat.bos))],
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=chat.bos,
        eos_token=chat.eos,
        pad_token=chat.pad,
        additional_special_tokens=list(chat.extra_special),
        chat_template=chat.template,
        clean_up_tokenization_spaces=False,
        model_max_length=512,
    )


def _train_sentencepiece(family: Family, texts: list[str], vocab_size: int) -> PreTrainedTokenizerBase:
    import sentencepiece as spm

    layout, chat = family.tokenizer, family.chat
    # A real SentencePiece model's core is <unk>, <s>, </s>; the chat tokens are control symbols
    # inside it (Mistral) or added tokens after it (Phi-3, whose turns end with <|end|>).
    inside = [t for t in chat.special_tokens if t not in ("<unk>", "<s>", "</s>")]
    added = inside if layout.added_specials else []
    control = [] if layout.added_specials else inside
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buffer, vocab_size=vocab_size - len(added),
        model_type="bpe", byte_fallback=True, split_digits=True, allow_whitespace_only_pieces=True,
        remove_extra_whitespaces=False, normalization_rule_name="identity", add_dummy_prefix=True,
        character_coverage=1.0, max_sentence_length=1 << 16, num_threads=1, minloglevel=2,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, control_symbols=control,
        unk_piece="<unk>", bos_piece=chat.bos or "<s>", eos_piece="</s>",
    )
    model = buffer.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / SPM_FILE).write_bytes(model)
        tokenizer = LlamaTokenizer.from_pretrained(
            tmp, legacy=True, add_bos_token=layout.add_bos, add_eos_token=False,
            clean_up_tokenization_spaces=False, model_max_length=512,
        )
    # llama.cpp's SentencePiece tokenizer puts a space before the text after every special token
    # (add_space_prefix); transformers does the same with legacy=True (Metaspace "always"), saved so
    # that a reloaded tokenizer keeps it.
    tokenizer.init_kwargs["legacy"] = True
    if added:  # in the family's order, so the ids follow the real layout
        tokenizer.add_special_tokens({"additional_special_tokens": added})
    tokenizer.add_special_tokens({
        "bos_token": chat.bos, "eos_token": chat.eos, "pad_token": chat.pad,
        "additional_special_tokens": list(chat.extra_special),
    })
    tokenizer.chat_template = chat.template
    setattr(tokenizer, _SPM_ATTR, model)
    return tokenizer
