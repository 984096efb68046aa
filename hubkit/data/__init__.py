"""Datasets: uploads and references to validated, normalised ``datasets.Dataset``.

Formats are ``text``, ``instruction``, ``prompt_completion`` and ``chat`` (see
``hubkit.data.formats``). Every problem is a ``DataValidationError`` (in fact a
``DatasetRejected`` with ``problems``) naming file, row and field in plain words.
"""
from hubkit.data.detect import Candidate, Detection, detect_format
from hubkit.data.formats import FORMATS, DataFormat, get_format, normalise_text
from hubkit.data.hashing import fingerprint, item_hash
from hubkit.data.limits import DataLimits
from hubkit.data.load import inspect_upload, prepare_records, prepare_reference, prepare_upload
from hubkit.data.names import check_upload_name, content_hash
from hubkit.data.prepared import DatasetSource, DatasetSplit, PreparedDataset
from hubkit.data.readers import READERS, supported_extensions
from hubkit.data.render import (
    IGNORE_INDEX,
    Rendered,
    TokenizedDataset,
    TruncationReport,
    render,
    render_parts,
    tokenize_for_causal_lm,
)
from hubkit.data.stats import DatasetStats, LengthBin

__all__ = [
    "FORMATS", "IGNORE_INDEX", "READERS", "Candidate", "DataFormat", "DataLimits",
    "DatasetSource", "DatasetSplit", "DatasetStats", "Detection", "LengthBin",
    "PreparedDataset", "Rendered", "TokenizedDataset", "TruncationReport",
    "check_upload_name", "content_hash", "detect_format", "fingerprint", "get_format",
    "inspect_upload", "item_hash", "normalise_text", "prepare_records", "prepare_reference",
    "prepare_upload", "render", "render_parts", "supported_extensions", "tokenize_for_causal_lm",
]
