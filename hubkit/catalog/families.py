"""The base-model families: real Hugging Face ids, licences and how to fine-tune them.

Each family is one registry entry. Its real models are loaded only where their
weights are on disk; its offline stand-in (same architecture class, tiny) is
described by ``standin`` and built by :mod:`hubkit.catalog.standin`.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from hubkit.errors import Conflict, NotFound


@dataclass(frozen=True)
class RealModel:
    """One published checkpoint of a family."""

    key: str
    hf_id: str
    parameters: int
    licence: str
    instruct: bool
    good_at: str


@dataclass(frozen=True)
class ChatFormat:
    """The family's chat markup as data, reproduced by the stand-in's tokenizer.

    One description yields both the Jinja chat template transformers renders and
    the Go template an Ollama Modelfile carries (:mod:`hubkit.catalog.chat`), so
    the two cannot drift apart. A message is ``header + content + footer``;
    ``{role}`` in a header stands for the role's name; ``role_headers`` /
    ``role_footers`` override them per role. ``generation`` opens the
    assistant's turn when a prompt asks for an answer. With
    ``system_prefix`` the family has no system turn: the system text and that
    separator open the next user message (Mistral). ``eos`` ends every assistant
    turn (and is where generation stops); ``pad`` is a separate token so padding
    masks never hide the EOS from training.
    """

    bos: str | None
    eos: str
    pad: str
    header: str = ""
    footer: str = ""
    generation: str = ""
    role_headers: tuple[tuple[str, str], ...] = ()
    role_footers: tuple[tuple[str, str], ...] = ()
    system_prefix: str | None = None
    extra_special: tuple[str, ...] = ()

    @property
    def special_tokens(self) -> list[str]:
        tokens = [t for t in (self.bos, self.eos, self.pad) if t]
        return tokens + [t for t in self.extra_special if t not in tokens]

    def header_for(self, role: str) -> str:
        return dict(self.role_headers).get(role, self.header)

    def footer_for(self, role: str) -> str:
        return dict(self.role_footers).get(role, self.footer)

    @property
    def template(self) -> str:
        """The Jinja chat template (what the tokenizer's ``chat_template`` holds)."""
        from hubkit.catalog.chat import jinja_template

        return jinja_template(self)


# The families' own pre-tokenizer splits (their tokenizer.json ``Split`` regexes).
LLAMA3_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
               r"|\s*[\r\n]+|\s+(?!\S)|\s+")


@dataclass(frozen=True)
class TokenizerLayout:
    """How the family's real tokenizer is built; the stand-in's tokenizer is trained in the same
    layout (:mod:`hubkit.catalog.tokenizer`), so llama.cpp's converter reads it as it reads the family's.

    ``byte_bpe``: byte-level BPE after the family's regex ``split`` (Llama 3, Qwen 2), known to
    llama.cpp as pre-tokenizer ``gguf_pre``; ``nfc`` normalizes text first (Qwen 2);
    ``ignore_merges`` takes a whole word from the vocabulary before merging (Llama 3).
    ``sentencepiece``: a SentencePiece BPE model with byte fallback and a ``tokenizer.model`` file
    (Mistral, Phi-3); ``added_specials`` puts the chat tokens after the SentencePiece vocabulary as
    added tokens (Phi-3) instead of inside it as control symbols (Mistral). ``add_bos``: encoding
    starts with BOS. ``rstrip``: special tokens that swallow the whitespace after them (Phi-3's turn
    tokens; llama.cpp does the same for a model whose name says Phi-3).
    """

    kind: str
    split: str | None = None
    gguf_pre: str | None = None
    nfc: bool = False
    ignore_merges: bool = False
    add_bos: bool = False
    added_specials: bool = False
    rstrip: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    """A base-model family and everything fine-tuning needs to know about it."""

    name: str
    display_name: str
    architecture: str
    model_type: str
    licence: str
    good_at: str
    lora_targets: tuple[str, ...]
    lora_targets_mlp: tuple[str, ...]
    chat: ChatFormat
    models: tuple[RealModel, ...]
    tokenizer: TokenizerLayout
    fused_projections: bool = False
    notes: str = ""

    @property
    def standin_key(self) -> str:
        return f"{self.name}-standin"

    @property
    def lora_targets_all(self) -> tuple[str, ...]:
        return self.lora_targets + self.lora_targets_mlp


class FamilyRegistry(Mapping[str, Family]):
    """Name → family; a new family is one ``register`` call."""

    def __init__(self) -> None:
        self._families: dict[str, Family] = {}

    def register(self, family: Family) -> Family:
        if family.name in self._families:
            raise Conflict(f"A base-model family named {family.name!r} already exists.")
        self._families[family.name] = family
        return family

    def __getitem__(self, name: str) -> Family:
        try:
            return self._families[name]
        except KeyError:
            known = ", ".join(sorted(self._families))
            raise NotFound(
                f"There is no base-model family called {name!r}. Known families: {known}."
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._families)

    def __len__(self) -> int:
        return len(self._families)


FAMILIES = FamilyRegistry()

_ATTN = ("q_proj", "k_proj", "v_proj", "o_proj")
_MLP = ("gate_proj", "up_proj", "down_proj")

FAMILIES.register(Family(
    name="llama3",
    display_name="Llama 3",
    architecture="LlamaForCausalLM",
    model_type="llama",
    licence="Llama 3 / Llama 3.2 Community License",
    good_at="Strong all-rounder for English chat, reasoning and code; the 1B and 3B models run on small GPUs.",
    lora_targets=_ATTN,
    lora_targets_mlp=_MLP,
    chat=ChatFormat(
        header="<|start_header_id|>{role}<|end_header_id|>\n\n",
        footer="<|eot_id|>",
        generation="<|start_header_id|>assistant<|end_header_id|>\n\n",
        bos="<|begin_of_text|>",
        eos="<|eot_id|>",
        pad="<|finetune_right_pad_id|>",
        extra_special=("<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>"),
    ),
    tokenizer=TokenizerLayout("byte_bpe", split=LLAMA3_SPLIT, gguf_pre="llama-bpe", ignore_merges=True, add_bos=True),
    models=(
        RealModel("llama3-8b", "meta-llama/Meta-Llama-3-8B", 8_030_000_000, "Llama 3 Community License", False,
                  "General text and code; a solid base for most fine-tunes."),
        RealModel("llama3-8b-instruct", "meta-llama/Meta-Llama-3-8B-Instruct", 8_030_000_000, "Llama 3 Community License", True,
                  "Chat assistant that follows instructions well in English."),
        RealModel("llama3.2-1b", "meta-llama/Llama-3.2-1B", 1_240_000_000, "Llama 3.2 Community License", False,
                  "Small and fast; good for quick experiments and short texts."),
        RealModel("llama3.2-1b-instruct", "meta-llama/Llama-3.2-1B-Instruct", 1_240_000_000, "Llama 3.2 Community License", True,
                  "Small chat model for summaries and simple instructions."),
        RealModel("llama3.2-3b-instruct", "meta-llama/Llama-3.2-3B-Instruct", 3_210_000_000, "Llama 3.2 Community License", True,
                  "Compact chat model with better reasoning than the 1B."),
    ),
    notes="Base checkpoints end documents with <|end_of_text|>; instruct checkpoints end turns with <|eot_id|>.",
))

FAMILIES.register(Family(
    name="mistral",
    display_name="Mistral",
    architecture="MistralForCausalLM",
    model_type="mistral",
    licence="Apache-2.0",
    good_at="Efficient 7B model with a permissive licence; good at English text and instructions.",
    lora_targets=_ATTN,
    lora_targets_mlp=_MLP,
    chat=ChatFormat(
        role_headers=(("user", "[INST] "),),
        role_footers=(("user", " [/INST]"), ("assistant", "</s>")),
        system_prefix="\n\n",
        bos="<s>",
        eos="</s>",
        pad="<pad>",
        extra_special=("[INST]", "[/INST]"),
    ),
    tokenizer=TokenizerLayout("sentencepiece", add_bos=True),
    models=(
        RealModel("mistral-7b", "mistralai/Mistral-7B-v0.3", 7_250_000_000, "Apache-2.0", False,
                  "General English text; fine-tunes well on modest hardware."),
        RealModel("mistral-7b-instruct", "mistralai/Mistral-7B-Instruct-v0.3", 7_250_000_000, "Apache-2.0", True,
                  "Instruction following and chat with a permissive licence."),
    ),
    notes="User turns are wrapped in [INST] ... [/INST]; assistant turns end with </s>.",
))

FAMILIES.register(Family(
    name="phi3",
    display_name="Phi-3",
    architecture="Phi3ForCausalLM",
    model_type="phi3",
    licence="MIT",
    good_at="Small model trained on textbook-style data; strong at reasoning and math for its size.",
    lora_targets=("qkv_proj", "o_proj"),
    lora_targets_mlp=("gate_up_proj", "down_proj"),
    fused_projections=True,
    chat=ChatFormat(
        header="<|{role}|>\n",
        footer="<|end|>\n",
        generation="<|assistant|>\n",
        bos="<s>",
        eos="<|end|>",
        pad="<|endoftext|>",
        extra_special=("<|user|>", "<|assistant|>", "<|system|>"),
    ),
    tokenizer=TokenizerLayout("sentencepiece", add_bos=True, added_specials=True,
                              rstrip=("</s>", "<|end|>", "<|user|>", "<|assistant|>", "<|system|>")),
    models=(
        RealModel("phi3-mini-4k-instruct", "microsoft/Phi-3-mini-4k-instruct", 3_820_000_000, "MIT", True,
                  "Reasoning and math in a 3.8B model with a 4k context."),
        RealModel("phi3-mini-128k-instruct", "microsoft/Phi-3-mini-128k-instruct", 3_820_000_000, "MIT", True,
                  "The same 3.8B model with a 128k context for long documents."),
        RealModel("phi3-medium-4k-instruct", "microsoft/Phi-3-medium-4k-instruct", 14_000_000_000, "MIT", True,
                  "Larger Phi-3 with stronger reasoning; needs a big GPU."),
    ),
    notes="Attention and MLP projections are fused (qkv_proj, gate_up_proj), so LoRA targets differ.",
))

FAMILIES.register(Family(
    name="qwen2.5",
    display_name="Qwen 2.5",
    architecture="Qwen2ForCausalLM",
    model_type="qwen2",
    licence="Apache-2.0",
    good_at="Multilingual family with strong math and code; sizes from 0.5B to 7B here.",
    lora_targets=_ATTN,
    lora_targets_mlp=_MLP,
    chat=ChatFormat(
        header="<|im_start|>{role}\n",
        footer="<|im_end|>\n",
        generation="<|im_start|>assistant\n",
        bos=None,
        eos="<|im_end|>",
        pad="<|endoftext|>",
        extra_special=("<|im_start|>",),
    ),
    tokenizer=TokenizerLayout("byte_bpe", split=QWEN2_SPLIT, gguf_pre="qwen2", nfc=True),
    models=(
        RealModel("qwen2.5-0.5b", "Qwen/Qwen2.5-0.5B", 494_000_000, "Apache-2.0", False,
                  "Tiny multilingual base model; fastest to fine-tune."),
        RealModel("qwen2.5-0.5b-instruct", "Qwen/Qwen2.5-0.5B-Instruct", 494_000_000, "Apache-2.0", True,
                  "Tiny chat model; handy for demos and classes."),
        RealModel("qwen2.5-1.5b", "Qwen/Qwen2.5-1.5B", 1_540_000_000, "Apache-2.0", False,
                  "Small base model with good math and code."),
        RealModel("qwen2.5-1.5b-instruct", "Qwen/Qwen2.5-1.5B-Instruct", 1_540_000_000, "Apache-2.0", True,
                  "Small chat model with good math and code."),
        RealModel("qwen2.5-7b", "Qwen/Qwen2.5-7B", 7_620_000_000, "Apache-2.0", False,
                  "Strong multilingual base for math, code and long texts."),
        RealModel("qwen2.5-7b-instruct", "Qwen/Qwen2.5-7B-Instruct", 7_620_000_000, "Apache-2.0", True,
                  "Strong multilingual chat model for math and code."),
    ),
    notes="Base checkpoints end documents with <|endoftext|>; chat turns end with <|im_end|>.",
))


def get_family(name: str) -> Family:
    """The family called ``name`` (``NotFound`` lists the known ones)."""
    return FAMILIES[name]
