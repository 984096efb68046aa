"""Every error hubkit raises, in one place.

Each error carries two texts: ``message`` is a plain sentence a casual user can
act on (the apps show only this), ``detail`` is for developers and logs.
"""
from __future__ import annotations


class HubkitError(Exception):
    """Root of all hubkit errors."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or message

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class ConfigError(HubkitError):
    """Settings are missing or contradictory."""


class ValidationError(HubkitError):
    """Input was rejected before anything was written."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.field = field


class DataValidationError(ValidationError):
    """A dataset file is unusable; names the file, row and field."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, field=field, detail=detail)
        self.file = file
        self.row = row


class NotFound(HubkitError):
    """The object does not exist, or the caller may not know it exists."""


class PermissionDenied(HubkitError):
    """The caller may see the object but not change it."""


class Conflict(HubkitError):
    """The request contradicts what is already recorded (e.g. outcome set twice)."""


class ArchiveIntegrityError(HubkitError):
    """Stored bytes no longer match their content hash."""


class UnsafePath(HubkitError):
    """A user-supplied name tried to leave its folder."""


class TrainingError(HubkitError):
    """Training could not start or went wrong in a classified way."""

    def __init__(
        self, message: str, *, failure_class: str = "exception", detail: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.failure_class = failure_class


class EvaluationError(HubkitError):
    """A benchmark could not be run or scored."""


class DemoError(HubkitError):
    """Trying a model failed after its prompt was accepted (slow answer, out of memory, a broken model)."""


class JobError(HubkitError):
    """A notebook job could not be submitted, run or controlled."""


class ExportError(HubkitError):
    """A model could not be exported (GGUF, Ollama) or pushed to the Hub; nothing was left half-written."""


class MissingExtra(HubkitError):
    """An optional component is not installed; the message says how to get it."""

    def __init__(self, component: str, extra: str) -> None:
        super().__init__(
            f"{component} is not installed. Install it with: pip install 'hubkit[{extra}]'",
        )
        self.component = component
        self.extra = extra


class DatasetRejected(DataValidationError):
    """A dataset failed validation; ``problems`` holds the first problems found.

    Reporting several problems at once spares a user the fix-one-upload-again
    loop. ``file``, ``row``, ``field`` and ``message`` repeat the first problem
    so callers that only show one sentence still point at a row; ``total`` is
    how many problems there were in all (``problems`` may stop earlier).
    """

    def __init__(self, problems: list[DataValidationError], *, total: int | None = None) -> None:
        if not problems:
            raise ValueError("DatasetRejected needs at least one problem")
        first = problems[0]
        count = max(total or len(problems), len(problems))
        message = first.message
        if count > 1:
            more = count - 1
            message = f"{message} ({more} more problem{'s' if more > 1 else ''} in this file.)"
        super().__init__(
            message,
            file=first.file,
            row=first.row,
            field=first.field,
            detail="\n".join(p.detail for p in problems),
        )
        self.problems = list(problems)
        self.total = count
