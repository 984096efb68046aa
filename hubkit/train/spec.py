"""`TrainSpec`: every training knob, with its help text and bounds in one place.

The wizard, the CLI ``--help``, the docs and the presets all read the field
definitions below (``field_help()``), so a bound or an explanation is written
exactly once. ``level`` says whether a casual user sees the field ("guided")
or only developers do ("advanced").
"""
from __future__ import annotations

from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from hubkit.errors import ValidationError

DATA_FORMATS = ("text", "instruction", "prompt_completion", "chat")
Precision = Literal["auto", "fp32", "bf16", "fp16"]
Scheduler = Literal["linear", "cosine", "constant", "constant_with_warmup", "cosine_with_restarts",
                    "polynomial", "inverse_sqrt"]
Optimizer = Literal["adamw_torch", "adafactor", "sgd", "adagrad"]
Quantization = Literal["none", "8bit", "4bit"]


def _f(default: Any, help: str, *, level: str = "advanced", label: str | None = None, **bounds: Any) -> Any:
    """A field with its plain-language help, its bounds and its audience level."""
    extra: dict[str, Any] = {"level": level}
    if label:
        extra["label"] = label
    return Field(default, description=help, json_schema_extra=extra, **bounds)


class DatasetRef(BaseModel):
    """Where the training data comes from: exactly one of a stored dataset, a file, or an example."""

    model_config = ConfigDict(extra="forbid")

    dataset_id: int | None = _f(None, "A dataset already uploaded to the hub.", level="guided",
                                label="Dataset", ge=1)
    path: str | None = _f(None, "A local file or folder with the training data (JSONL, JSON, CSV, "
                          "Parquet or TXT).", label="File", min_length=1, max_length=1000)
    example: str | None = _f(None, "A built-in example dataset for a domain (math, code, ...).",
                             level="guided", label="Example data", min_length=1, max_length=40)
    example_rows: int = _f(200, "How many rows to take from the example dataset.", label="Example rows",
                           ge=8, le=20_000)
    format: Literal["text", "instruction", "prompt_completion", "chat"] | None = _f(
        None, "How rows are laid out; detected from the columns when left empty.", label="Format")
    columns: dict[str, str] = _f({}, "Which column of the file feeds which field, e.g. "
                                 "{'question': 'instruction'}; only needed when detection is unsure.",
                                 label="Column mapping")
    name: str | None = _f(None, "The name the dataset is recorded under (defaults to the file name).",
                          label="Dataset name", max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> DatasetRef:
        given = [n for n in ("dataset_id", "path", "example") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("choose exactly one data source: a stored dataset, a file path or an "
                             f"example (got {', '.join(given) or 'none'})")
        return self


class TrainSpec(BaseModel):
    """A complete, validated description of one LoRA fine-tuning run."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- what ---------------------------------------------------------------
    base_model: str = _f(..., "The base model to start from (a catalog key such as 'llama3-standin').",
                         level="guided", label="Base model", min_length=1, max_length=120)
    dataset: DatasetRef = _f(..., "The training data.", level="guided", label="Data")
    domain: str = _f("general", "What the model is being taught (math, code, ...); used to group "
                     "results and leaderboards.", level="guided", label="Goal", min_length=1, max_length=40)
    name: str = _f("", "A name for the model; a name is made up from the goal and base when empty.",
                   level="guided", label="Name", max_length=200)
    description: str = _f("", "A few words about what this model is for.", level="guided",
                          label="Description", max_length=20_000)
    visibility: Literal["private", "unlisted", "public"] = _f(
        "private", "Who can see the model: only you, anyone with the link, or everyone.",
        level="guided", label="Visibility")

    # --- LoRA ---------------------------------------------------------------
    lora_r: int = _f(16, "LoRA rank: how many new directions the adapter may learn. Higher learns "
                     "more but is slower and may overfit.", label="LoRA rank", ge=1, le=512)
    lora_alpha: float = _f(32.0, "LoRA scaling: how strongly the adapter changes the model "
                           "(often twice the rank).", label="LoRA alpha", gt=0, le=4096)
    lora_dropout: float = _f(0.05, "Share of adapter inputs randomly dropped while training, "
                             "against overfitting.", label="LoRA dropout", ge=0, lt=1)
    target_modules: list[str] | None = _f(
        None, "Which layers get an adapter (module names such as q_proj); empty means the base "
        "family's default.", label="Target modules", min_length=1, max_length=64)
    target_mlp: bool = _f(False, "With the family's default layers, also adapt the feed-forward (MLP) layers: "
                          "learns more, with about three times the adapter size.", label="Adapt MLP layers")
    lora_bias: Literal["none", "all", "lora_only"] = _f(
        "none", "Whether bias terms are trained too.", label="LoRA bias")
    use_rslora: bool = _f(False, "Rank-stabilised scaling (alpha / sqrt(rank)); helps at high ranks.",
                          label="rsLoRA")
    use_dora: bool = _f(False, "Weight-decomposed LoRA (DoRA): often better, somewhat slower.",
                        label="DoRA")

    # --- optimisation -------------------------------------------------------
    learning_rate: float = _f(2e-4, "How big each update step is. Too high and training blows up; "
                              "too low and nothing is learnt.", level="guided", label="Learning rate",
                              gt=0, le=100)
    lr_scheduler: Scheduler = _f("cosine", "How the learning rate changes over the run.",
                                 label="Schedule")
    warmup_ratio: float = _f(0.03, "Share of the run spent slowly raising the learning rate at the start.",
                             label="Warm-up share", ge=0, le=0.5)
    warmup_steps: int = _f(0, "Warm-up length in steps; overrides the warm-up share when above 0.",
                           label="Warm-up steps", ge=0, le=100_000)
    num_epochs: float | None = _f(1.0, "How many times the model sees the whole dataset.",
                                  level="guided", label="Epochs", gt=0, le=100)
    max_steps: int | None = _f(None, "Stop after this many update steps (overrides epochs when set).",
                               label="Max steps", ge=1, le=10_000_000)
    batch_size: int = _f(8, "Examples processed together in one step; lower it if memory runs out.",
                         label="Batch size", ge=1, le=4096)
    gradient_accumulation: int = _f(1, "Steps whose gradients are added up before one update: a larger "
                                    "effective batch without more memory.", label="Gradient accumulation",
                                    ge=1, le=1024)
    max_seq_len: int = _f(256, "Longest example in tokens; longer ones are cut.", label="Max sequence length",
                          ge=8, le=131_072)
    packing: bool = _f(False, "Join short examples into full-length sequences so no compute is "
                       "spent on padding.", label="Packing")
    weight_decay: float = _f(0.0, "Pulls adapter weights towards zero, against overfitting.",
                             label="Weight decay", ge=0, le=1)
    max_grad_norm: float = _f(1.0, "Gradients longer than this are shortened (clipping); 0 turns "
                              "clipping off.", label="Gradient clipping", ge=0, le=1000)
    optimizer: Optimizer = _f("adamw_torch", "The update rule.", label="Optimizer")
    seed: int = _f(42, "Random seed: the same seed and settings give the same run.", label="Seed",
                   ge=0, le=2**31 - 1)

    # --- evaluation and stopping ---------------------------------------------
    validation_fraction: float = _f(0.1, "Share of the data held back to check the model on unseen "
                                    "examples; 0 means no check.", label="Validation share", ge=0, le=0.5)
    eval_interval: int = _f(50, "Check on the held-back data every this many steps.",
                            label="Evaluation interval", ge=1, le=1_000_000)
    early_stopping_patience: int = _f(0, "Stop when this many checks in a row bring no improvement; "
                                      "0 turns early stopping off.", label="Early-stopping patience",
                                      ge=0, le=1000)
    early_stopping_threshold: float = _f(0.0, "How much the held-back loss must fall to count as an "
                                         "improvement.", label="Early-stopping threshold", ge=0, le=100)
    divergence_factor: float = _f(5.0, "Training is stopped as diverged when the loss stays this many "
                                  "times above its lowest value so far.", label="Blow-up factor",
                                  gt=1, le=1000)
    time_budget_s: float | None = _f(None, "Stop (keeping what was learnt) after this many seconds of training.",
                                     level="guided", label="Time budget (s)", gt=0, le=30 * 86_400)
    checkpoint_interval: int = _f(100, "Save a resumable checkpoint every this many steps.",
                                  label="Checkpoint interval", ge=1, le=1_000_000)
    logging_steps: int = _f(1, "Record the loss every this many steps.", label="Logging interval",
                            ge=1, le=10_000)

    # --- hardware -------------------------------------------------------------
    precision: Precision = _f("auto", "Number format for training: auto picks fp32 on CPU, bf16 on GPUs "
                              "that support it and fp16 on the others.", label="Precision")
    quantization: Quantization = _f(
        "none", "Load the frozen base model in 4-bit or 8-bit (QLoRA) so a bigger model fits on a smaller "
        "GPU; the adapter itself still trains at full precision. Needs an NVIDIA GPU; 'none' keeps the "
        "base at the training precision.", label="Quantization")
    gradient_checkpointing: bool = _f(False, "Recompute activations instead of storing them: much less "
                                      "memory, about a third slower.", label="Gradient checkpointing")
    workers: int = _f(1, "Training processes that share every step (data-parallel, on a Ray cluster); the batch "
                      "size is split evenly between them, so results match one worker. Above 1 needs Ray.",
                      label="Workers", ge=1, le=256)
    merge_after: bool = _f(False, "Also save a full model with the adapter merged in (bigger download, "
                           "no PEFT needed to use it).", label="Save merged model")

    @field_validator("workers")
    @classmethod
    def _batch_splits(cls, workers: int, info: ValidationInfo) -> int:
        batch = info.data.get("batch_size")
        if batch is not None and batch % workers:
            raise ValueError(f"the batch size ({batch}) cannot be split evenly between {workers} workers; choose a "
                             f"batch size that is a multiple of the workers, such as "
                             f"{batch - batch % workers or workers} or {batch + workers - batch % workers}")
        return workers

    @model_validator(mode="after")
    def _length_given(self) -> TrainSpec:
        if self.max_steps is None and self.num_epochs is None:
            raise ValueError("set how long to train: a number of epochs or a maximum number of steps")
        if self.early_stopping_patience and self.validation_fraction == 0:
            raise ValueError("early stopping needs held-back data: set a validation share above 0")
        if self.target_modules is not None:
            bad = [m for m in self.target_modules if not m or not m.replace("_", "").replace(".", "").isalnum()]
            if bad:
                raise ValueError(f"target module names are layer names such as q_proj; {bad!r} is not one")
            _check_family_targets(self.base_model, self.target_modules)
        return self

    # --- construction with plain-language errors -------------------------------
    @classmethod
    def parse(cls, data: dict[str, Any], *, source: str | None = None) -> TrainSpec:
        """Validate ``data``; errors become one ``ValidationError`` that names the field in words."""
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise _plain_error(exc, source=source) from None

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.model_dump(mode="json", exclude_none=False), sort_keys=False)

    @property
    def display_name(self) -> str:
        return self.name or f"{self.domain} on {self.base_model}"


def _check_family_targets(base_model: str, targets: list[str]) -> None:
    """Refuse layer names the base family does not have (the loaded model is checked again)."""
    from hubkit.catalog import resolve
    from hubkit.errors import NotFound

    try:
        family = resolve(base_model)[0]
    except NotFound:
        return  # not a catalog key: the run refuses it with the catalog's own message
    unknown = [t for t in targets if t not in family.lora_targets_all]
    if unknown:
        raise ValueError(f"the layer{'' if len(unknown) == 1 else 's'} {', '.join(unknown)} "
                         f"{'is' if len(unknown) == 1 else 'are'} not in "
                         f"{family.architecture} ({family.display_name}); choose from "
                         f"{', '.join(family.lora_targets_all)}")


def _label(loc: tuple[Any, ...]) -> str:
    model: type[BaseModel] = TrainSpec
    labels: list[str] = []
    for part in loc:
        info = model.model_fields.get(str(part)) if isinstance(part, str) else None
        if info is None:
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        labels.append(f"{extra.get('label', part)} ({part})")
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
    return " → ".join(labels) or "the settings"


def _plain_error(exc: pydantic.ValidationError, *, source: str | None) -> ValidationError:
    sentences = []
    first_field = None
    for err in exc.errors(include_url=False):
        loc = tuple(err.get("loc", ()))
        if first_field is None and loc:
            first_field = ".".join(str(p) for p in loc)
        msg = str(err.get("msg", "")).removeprefix("Value error, ").replace("Input should be", "must be")
        if err.get("type") == "extra_forbidden":
            msg = "is not a training setting (check the spelling)"
            sentences.append(f"'{'.'.join(str(p) for p in loc)}' {msg}.")
            continue
        given = err.get("input")
        shown = "" if isinstance(given, dict) or given is None else f"; you gave {given!r}"
        where = _label(loc) if loc else ""
        sentences.append(f"{where}: {msg}{shown}." if where else f"{msg[:1].upper()}{msg[1:]}.")
    prefix = f"{source}: " if source else ""
    return ValidationError(prefix + " ".join(sentences), field=first_field, detail=str(exc))


def field_help() -> dict[str, dict[str, Any]]:
    """Every setting with its label, help, level, default, bounds and choices (one source for all UIs)."""
    out: dict[str, dict[str, Any]] = {}
    for prefix, model in (("", TrainSpec), ("dataset.", DatasetRef)):
        schema = model.model_json_schema()
        props = schema["properties"]
        for name, info in model.model_fields.items():
            if name == "dataset" and model is TrainSpec:
                continue
            prop = props[name]
            entry: dict[str, Any] = {
                "label": prop.get("label", name),
                "help": info.description,
                "level": prop.get("level", "advanced"),
                "default": None if info.is_required() else info.get_default(call_default_factory=True),
                "required": info.is_required(),
            }
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
                        "minItems", "maxItems"):
                bound = _find(prop, key)
                if bound is not None:
                    entry[key] = bound
            choices = _find(prop, "enum")
            if choices:
                entry["choices"] = choices
            out[prefix + name] = entry
    return out


def _find(prop: dict[str, Any], key: str) -> Any:
    """A schema keyword, also inside ``anyOf`` (optional fields)."""
    if key in prop:
        return prop[key]
    for option in prop.get("anyOf", []):
        if key in option:
            return option[key]
    return None


def settings_markdown() -> str:
    """The settings table in docs/training.md (a test keeps the page equal to this)."""
    lines = ["| setting | level | default | allowed | what it does |", "|---|---|---|---|---|"]
    for name, entry in field_help().items():
        allowed = ", ".join(str(c) for c in entry["choices"]) if "choices" in entry else _range(entry)
        default = ("required" if entry["required"] else "empty" if entry["default"] in ("", None, {})
                   else f"`{entry['default']}`")
        lines.append(f"| `{name}` | {entry['level']} | {default} | {allowed} | {entry['help']} |")
    return "\n".join(lines) + "\n"


def _range(entry: dict[str, Any]) -> str:
    low = entry.get("minimum", entry.get("exclusiveMinimum"))
    high = entry.get("maximum", entry.get("exclusiveMaximum"))
    if low is None and high is None:
        return ""
    left = "" if low is None else f"{low} {'<' if 'exclusiveMinimum' in entry else '≤'} "
    right = "" if high is None else f" {'<' if 'exclusiveMaximum' in entry else '≤'} {high}"
    return f"{left}x{right}"
