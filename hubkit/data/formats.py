"""The four dataset formats, as data: fields, the column names we accept for
each field, and how one row becomes one normalised item.

Normalised items (the schema every later step relies on):

- ``text``: ``{"text": str}``
- ``instruction``: ``{"instruction": str, "input": str, "response": str}`` (input may be "")
- ``prompt_completion``: ``{"prompt": str, "completion": str}``
- ``chat``: ``{"messages": [{"role": "system"|"user"|"assistant", "content": str}, ...]}``
"""
from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hubkit.data.readers import kind_of
from hubkit.errors import ValidationError

FieldKind = Literal["text", "messages"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    aliases: tuple[str, ...]
    """Column names accepted for this field, best first (the field's own name comes first)."""
    required: bool = True
    kind: FieldKind = "text"


@dataclass(frozen=True)
class DataFormat:
    name: str
    title: str
    description: str
    fields: tuple[FieldSpec, ...]

    @property
    def required(self) -> tuple[FieldSpec, ...]:
        return tuple(f for f in self.fields if f.required)

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


FORMATS: dict[str, DataFormat] = {}


def register_format(fmt: DataFormat) -> DataFormat:
    if fmt.name in FORMATS:
        raise ValueError(f"format {fmt.name!r} is already registered")
    FORMATS[fmt.name] = fmt
    return fmt


register_format(DataFormat(
    name="text",
    title="Plain text",
    description="Documents the model learns to continue; one column of text.",
    fields=(FieldSpec("text", ("text", "content", "document", "body", "passage")),),
))
register_format(DataFormat(
    name="instruction",
    title="Question and answer",
    description="An instruction or question, an optional input, and the response to learn.",
    fields=(
        FieldSpec("instruction",
                  ("instruction", "question", "query", "problem", "prompt", "input")),
        FieldSpec("input", ("input", "context"), required=False),
        FieldSpec("response", ("response", "answer", "output", "solution", "target")),
    ),
))
register_format(DataFormat(
    name="prompt_completion",
    title="Prompt and completion",
    description="A prompt and the exact text that should follow it.",
    fields=(FieldSpec("prompt", ("prompt",)), FieldSpec("completion", ("completion",))),
))
register_format(DataFormat(
    name="chat",
    title="Chat conversations",
    description="Conversations as a list of messages with a role (system, user, assistant) "
                "and content.",
    fields=(FieldSpec("messages", ("messages", "conversations", "conversation", "chat",
                                   "dialogue"), kind="messages"),),
))


def get_format(name: str) -> DataFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ValidationError(
            f"{name!r} is not a dataset format. Choose one of: {', '.join(FORMATS)}.",
            field="format",
        ) from None


ROLE_ALIASES = {
    "system": "system",
    "user": "user", "human": "user", "person": "user",
    "assistant": "assistant", "gpt": "assistant", "bot": "assistant", "model": "assistant",
    "ai": "assistant", "chatgpt": "assistant",
}


def normalise_text(text: str) -> str:
    """One spelling of the same text: Unix newlines, Unicode NFC. Spacing is kept."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


@dataclass
class Coerced:
    """A value accepted after conversion (a number used as text)."""

    field: str


class RowProblem(Exception):
    """One problem in one row; the validator adds file and row."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def text_value(value: Any, *, field: str, noun: str, label: str, needs: str,
               notes: list[Coerced]) -> str:
    """The text of one cell, or a ``RowProblem`` that says what is wrong in plain words."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise RowProblem(f"{label} has no {noun}: {needs}.", field)
    if isinstance(value, str):
        text = normalise_text(value)
        if not text.strip():
            raise RowProblem(f"{label} has an empty {noun}: {needs}.", field)
        return text
    if isinstance(value, bool):
        notes.append(Coerced(field))
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isinf(value):
            raise RowProblem(f"{label} has an infinite number as its {noun}; it must be text.",
                             field)
        notes.append(Coerced(field))
        return str(value)
    raise RowProblem(
        f"{label} has {kind_of(value)} as its {noun}, where text was expected. "
        f"Put plain text in the {noun} column.",
        field,
    )


def messages_value(value: Any, *, field: str, noun: str, label: str,
                   notes: list[Coerced]) -> list[dict[str, str]]:
    """Check one conversation: known roles, alternating turns, an assistant reply last."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            pass
    if value is None:
        raise RowProblem(f"{label} has no {noun}: every row needs a conversation.", field)
    if not isinstance(value, (list, tuple)):
        raise RowProblem(
            f"{label} has {kind_of(value)} as its {noun}, where a list of messages was expected "
            '(like [{"role": "user", "content": "Hi"}, '
            '{"role": "assistant", "content": "Hello"}]).',
            field,
        )
    if not value:
        raise RowProblem(f"{label} has an empty conversation: every row needs at least one "
                         "user message and one assistant reply.", field)
    out: list[dict[str, str]] = []
    for i, message in enumerate(value, start=1):
        where = f"{label}, message {i},"
        if not isinstance(message, Mapping):
            raise RowProblem(f"{where} is {kind_of(message)}, not a message with a role and "
                             "content.", field)
        role_raw = message.get("role", message.get("from"))
        content_raw = message.get("content", message.get("value"))
        if role_raw is None:
            raise RowProblem(f"{where} has no role: each message needs a role (system, user or "
                             "assistant) and content.", field)
        role = ROLE_ALIASES.get(str(role_raw).strip().lower())
        if role is None:
            raise RowProblem(f"{where} has the role {str(role_raw)[:40]!r}; roles must be "
                             "system, user or assistant.", field)
        if content_raw is None or (isinstance(content_raw, str) and not content_raw.strip()):
            raise RowProblem(f"{label}, message {i} ({role}) is empty: every message needs "
                             "some content.", field)
        content = text_value(content_raw, field=field, noun="content", label=where,
                             needs="every message needs some content", notes=notes)
        out.append({"role": role, "content": content})
    _check_turns(out, field=field, label=label)
    return out


def _check_turns(messages: list[dict[str, str]], *, field: str, label: str) -> None:
    turns = messages[1:] if messages[0]["role"] == "system" else messages
    offset = len(messages) - len(turns)
    if not turns:
        raise RowProblem(f"{label} has only a system message: it needs a user message and an "
                         "assistant reply.", field)
    expected = "user"
    for i, message in enumerate(turns, start=1 + offset):
        role = message["role"]
        if role == "system":
            raise RowProblem(f"{label} has a system message at position {i}: a system message "
                             "may only come first.", field)
        if role != expected:
            if i == 1 + offset:
                raise RowProblem(f"{label} starts with an assistant message: a conversation "
                                 "starts with the user (after an optional system message).", field)
            raise RowProblem(f"{label} has two {role} messages in a row (messages {i - 1} and "
                             f"{i}): turns must alternate between user and assistant.", field)
        expected = "assistant" if role == "user" else "user"
    if not any(m["role"] == "assistant" for m in turns):
        raise RowProblem(f"{label} has no assistant reply: every conversation needs at least "
                         "one.", field)
    if turns[-1]["role"] != "assistant":
        raise RowProblem(f"{label} ends with a user message: the last message must be the "
                         "assistant's reply.", field)
