"""A tokenizer trained locally for a family's stand-in, laid out like the family's real one.

Llama 3 and Qwen 2 split text with their own regex, then run byte-level BPE
(llama.cpp knows them as its ``llama-bpe`` and ``qwen2`` pre-tokenizers).
Mistral and Phi-3 use a SentencePiece BPE model with byte fallback, saved as
``tokenizer.model`` beside ``tokenizer.json``; transformers' own SentencePiece
conversion writes the latter, so both files encode alike. The chat tokens sit
where the real family puts them, BOS is added where the real family adds it, and
the chat template and EOS are attached. The tokenizer that ``train_tokenizer``
returns is read back from the files it wrote, the way transformers loads the
stand-in (a family's tokenizer class may rebuild the saved pipeline, Qwen 2's
does), so a stand-in is pretrained with the tokenizer it is used with.
"""
from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterable
from pathlib import Path

from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
    trainers,
)
from transformers import (
    CONFIG_MAPPING,
    AutoTokenizer,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)

from hubkit.catalog.families import FAMILIES, Family
from hubkit.errors import ValidationError

SPM_FILE = "tokenizer.model"
# A SentencePiece model's own first pieces; the family's other special tokens come after them.
SPM_CORE = ("<unk>", "<s>", "</s>")
MAX_LENGTH = 512


def gguf_pre_tokenizer(tokenizer: PreTrainedTokenizerBase) -> str | None:
    """The name llama.cpp's converter knows this tokenizer's split by, or None if it has none here.

    The converter recognises a pre-tokenizer by hashing how a known vocabulary splits a probe
    text, so a locally trained stand-in vocabulary must be named. The name follows the split
    transformers really applies. SentencePiece tokenizers need no name (the converter reads
    ``tokenizer.model``).
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


def train_tokenizer(*, family: Family, texts: Iterable[str], vocab_size: int, folder: Path) -> PreTrainedTokenizerBase:
    """Train on ``texts`` in the family's layout (deterministic for the same texts), write its files
    into ``folder`` (emptied first) and return it as transformers loads those files."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    if family.tokenizer.kind == "sentencepiece":
        tokenizer = _sentencepiece(family, list(texts), vocab_size, folder)
    else:
        tokenizer = _byte_bpe(family, texts, vocab_size)
    tokenizer.save_pretrained(folder)
    return load_tokenizer(folder, family)


def load_tokenizer(folder: Path, family: Family) -> PreTrainedTokenizerBase:
    """The tokenizer in ``folder`` as ``AutoTokenizer`` loads it for a model of ``family``."""
    return AutoTokenizer.from_pretrained(folder, config=CONFIG_MAPPING[family.model_type](), local_files_only=True)


def _special(token: str, family: Family) -> AddedToken:
    """A special token matched in raw text, swallowing the whitespace after it where the family's does."""
    return AddedToken(token, special=True, normalized=False, rstrip=token in family.tokenizer.rstrip)


def _wrapped(core: Tokenizer, family: Family, *, unk: str | None = None) -> PreTrainedTokenizerFast:
    chat = family.chat

    def special(token: str | None) -> AddedToken | None:
        return _special(token, family) if token else None

    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        unk_token=special(unk),
        bos_token=special(chat.bos),
        eos_token=special(chat.eos),
        pad_token=special(chat.pad),
        additional_special_tokens=[_special(t, family) for t in chat.extra_special],
        chat_template=chat.template,
        clean_up_tokenization_spaces=False,
        model_max_length=MAX_LENGTH,
    )


def _byte_bpe(family: Family, texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Byte-level BPE after the family's split regex, trained with that split."""
    layout, chat = family.tokenizer, family.chat
    assert layout.split is not None, family.name
    core = Tokenizer(models.BPE(ignore_merges=layout.ignore_merges))
    if layout.nfc:
        core.normalizer = normalizers.NFC()
    core.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(layout.split), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False),
    ])
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=chat.special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer=trainer)
    steps: list[processors.PostProcessor] = [processors.ByteLevel(trim_offsets=False)]
    if layout.add_bos and chat.bos:
        steps.append(processors.TemplateProcessing(
            single=f"{chat.bos} $A", pair=f"{chat.bos} $A {chat.bos} $B",
            special_tokens=[(chat.bos, core.token_to_id(chat.bos))],
        ))
    core.post_processor = processors.Sequence(steps)
    return _wrapped(core, family)


def _sentencepiece(family: Family, texts: list[str], vocab_size: int, folder: Path) -> PreTrainedTokenizerFast:
    """A SentencePiece BPE model with byte fallback (Llama 2's settings), written to ``folder``, and
    transformers' conversion of it.

    Mistral's chat tokens are control symbols inside the SentencePiece vocabulary; Phi-3's are
    added after it. ``vocab_size`` counts both.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2
    from transformers.convert_slow_tokenizer import SpmConverter

    layout, chat = family.tokenizer, family.chat
    own = [t for t in chat.special_tokens if t not in SPM_CORE]
    added = own if layout.added_specials else []
    # 256 byte pieces, the special tokens and every character of the corpus ("▁" stands for space)
    needed = 256 + len(SPM_CORE) + len(own) + len(set("".join(texts).replace(" ", "▁")) | {"▁"})
    if vocab_size < needed:
        raise ValidationError(
            f"A {family.display_name} stand-in's SentencePiece vocabulary needs at least {needed} tokens for this "
            f"corpus, not {vocab_size}.", field="vocab_size")
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_writer=buffer, vocab_size=vocab_size - len(added),
        model_type="bpe", byte_fallback=True, split_digits=True, allow_whitespace_only_pieces=True,
        remove_extra_whitespaces=False, normalization_rule_name="identity", add_dummy_prefix=True,
        character_coverage=1.0, max_sentence_length=1 << 16, num_threads=1, minloglevel=2,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1, control_symbols=[] if added else own,
        unk_piece=SPM_CORE[0], bos_piece=SPM_CORE[1], eos_piece=SPM_CORE[2],
    )
    (folder / SPM_FILE).write_bytes(buffer.getvalue())
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    vocab = {piece.piece: i for i, piece in enumerate(proto.pieces)}
    # legacy: every stretch of text between special tokens gets SentencePiece's dummy prefix, as in
    # the real families' tokenizer.json and in llama.cpp's SentencePiece tokenizer
    core = SpmConverter.build_tokenizer_from_spm_proto(proto=proto, vocab=vocab, legacy=True)
    # the SentencePiece model's own special pieces, then the family's added tokens after its vocabulary
    core.add_special_tokens([_special(t, family) for t in [*SPM_CORE, *added]])
    if layout.add_bos and chat.bos:
        core.post_processor = processors.TemplateProcessing(
            single=f"{chat.bos} $A", pair=f"{chat.bos} $A {chat.bos} $B",
            special_tokens=[(chat.bos, core.token_to_id(chat.bos))],
        )
    return _wrapped(core, family, unk=SPM_CORE[0])
