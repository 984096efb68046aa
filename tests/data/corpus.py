"""The bad-input corpus: files people really upload, and what hubkit must say.

Each case is built in code (bytes, not files on disk) so encodings and binary
junk stay exact. ``expect`` is 'reject' (a DataValidationError naming file,
row and field), 'unsafe' (UnsafePath for the name) or 'accept' (valid, with a
``check`` on the result).
"""
from __future__ import annotations

import dataclasses
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from hubkit.data import DataLimits, PreparedDataset


@dataclass(frozen=True)
class Case:
    id: str
    filename: str
    data: bytes
    expect: str
    says: tuple[str, ...] = ()
    """Phrases the (first) message must contain."""
    row: int | None = None
    field: str | None = None
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    check: Callable[[PreparedDataset], None] | None = None


def jsonl(*rows: Any) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode() + b"\n"


def qa(n: int) -> list[dict[str, str]]:
    return [{"question": f"What is {i} plus {i}?", "answer": str(2 * i)} for i in range(1, n + 1)]


def parquet(rows: list[dict[str, Any]]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), sink)
    return sink.getvalue()


def _missing_answer_row_14() -> bytes:
    rows: list[dict[str, Any]] = qa(20)
    del rows[13]["answer"]
    return jsonl(*rows)


def _junk() -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(256) for _ in range(3000))


def _check_bom(p: PreparedDataset) -> None:
    assert p.column_mapping == {"text": "text"}
    assert p.preview(1) == [{"text": "café au lait"}]


def _check_numbers(p: PreparedDataset) -> None:
    assert p.preview(1)[0]["response"] == "4"
    assert p.stats.numbers_as_text == {"answer": 2}
    assert any("number" in w for w in p.stats.warnings)


def _check_csv_newlines(p: PreparedDataset) -> None:
    assert len(p) == 2
    assert p.preview(2)[0]["text"] == 'line one\nline two, with "quotes"'
    assert p.preview(2)[1]["text"] == "second"


def _check_duplicates(p: PreparedDataset) -> None:
    assert p.stats.duplicates == 2
    assert p.stats.warnings == ["2 rows repeat earlier rows."]


def _check_long_row(p: PreparedDataset) -> None:
    report = p.stats.truncation
    assert report is not None and report.rows_truncated == 1 and report.rows == [2]
    assert report.longest == 5000 and report.units_lost == 5000 - 64


def _check_html(p: PreparedDataset) -> None:
    assert p.preview(1)[0]["text"] == '<script>alert("x")</script><b>bold</b> &amp;'


def _check_sharegpt(p: PreparedDataset) -> None:
    assert p.format == "chat"
    assert p.preview(1)[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
    ]


def _check_chat_string(p: PreparedDataset) -> None:
    assert p.format == "chat" and p.preview(1)[0]["messages"][1]["role"] == "assistant"


def _check_jsonl_in_json(p: PreparedDataset) -> None:
    assert p.format == "instruction" and len(p) == 3


def _check_utf16(p: PreparedDataset) -> None:
    assert p.preview(1) == [{"text": "hello"}]


CONVERSATION_OK = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]


def chat(*conversations: list[dict[str, str]]) -> bytes:
    return jsonl(*({"messages": c} for c in conversations))


CASES: list[Case] = [
    Case("empty-file", "data.jsonl", b"", "reject", ("data.jsonl is empty",)),
    Case("whitespace-only", "data.jsonl", b"  \n\t\n\r\n", "reject", ("only blank space",)),
    Case("latin-1", "data.csv", "text\nhello\ncafé\n".encode("latin-1"), "reject",
         ("Line 3", "not UTF-8", "save it as UTF-8")),
    Case("utf-16-without-bom", "data.csv", "text\nhello\n".encode("utf-16-le"), "reject",
         ("UTF-16", "UTF-8")),
    Case("utf-8-bom-accepted", "data.csv", b"\xef\xbb\xbftext\ncaf\xc3\xa9 au lait\n", "accept",
         check=_check_bom),
    Case("utf-16-with-bom-accepted", "data.csv", "text\nhello\n".encode("utf-16"), "accept",
         check=_check_utf16),
    Case("binary-junk", "data.jsonl", _junk(), "reject", ("not text",)),
    Case("zip-named-csv", "data.csv", b"PK\x03\x04" + b"\x00" * 40, "reject",
         ("zip archive", "not text")),
    Case("json-single-object", "data.json", b'{"text": "hello"}', "reject",
         ("single JSON object", "list of rows")),
    Case("json-scalar", "data.json", b"42", "reject", ("holds a number",)),
    Case("json-list-of-strings", "data.json", b'["a", "b"]', "reject",
         ("Row 1 is text, not an object",), row=1),
    Case("json-syntax-error", "data.json", b'[{"text": "a"},\n {"text": }]', "reject",
         ("not valid JSON", "line 2"),),
    Case("jsonl-broken-line", "data.jsonl",
         b'{"text": "one"}\n{"text": "two"\n{"text": "three"}\n', "reject",
         ("Line 2 is not valid JSON",), row=2),
    Case("jsonl-row-not-object", "data.jsonl", b'{"text": "one"}\n[1, 2]\n', "reject",
         ("Row 2 is a list, not an object",), row=2),
    Case("keyerror-text", "data.csv", b"sentence,label\nhello,1\n", "reject",
         ("No column for the text", "sentence, label", "named text"),
         field="text", options={"format": "text"}),
    Case("misnamed-columns", "data.jsonl", jsonl({"q": "a?", "a": "b", "n": 1}), "reject",
         ("the columns q, a, n",
          "question and answer: instruction or question, and response or answer")),
    Case("missing-answer-row-14", "math.jsonl", _missing_answer_row_14(), "reject",
         ("Row 14 has no answer: every row needs both a question and an answer.",),
         row=14, field="answer"),
    Case("empty-text", "data.jsonl", jsonl({"text": "fine"}, {"text": "   "}), "reject",
         ("Row 2 has an empty text",), row=2, field="text"),
    Case("null-value", "data.jsonl", jsonl({"question": None, "answer": "x"}), "reject",
         ("Row 1 has no question",), row=1, field="question"),
    Case("mixed-types", "data.jsonl", jsonl({"text": "fine"}, {"text": ["a", "b"]}), "reject",
         ("Row 2 has a list as its text", "where text was expected"), row=2, field="text"),
    Case("numbers-as-text", "data.jsonl",
         jsonl({"question": "2+2?", "answer": 4}, {"question": "half?", "answer": 0.5}),
         "accept", check=_check_numbers),
    Case("nested-object-as-text", "data.jsonl", jsonl({"text": {"body": "hi"}}), "reject",
         ("Row 1 has an object as its text",), row=1, field="text"),
    Case("csv-embedded-newlines", "data.csv",
         b'text\r\n"line one\r\nline two, with ""quotes"""\r\nsecond\r\n', "accept",
         check=_check_csv_newlines),
    Case("csv-ragged-rows", "data.csv", b"question,answer\nq1,a1\nq2,a2,extra\nq3\n", "reject",
         ("Row 2 (line 3) has 3 values but the header has 2 columns",), row=2),
    Case("csv-unclosed-quote", "data.csv", b'text\n"never closed\nmore\n', "reject",
         ("could not be read as CSV", "quote"), row=1),
    Case("csv-header-only", "data.csv", b"question,answer\n", "reject", ("header but no rows",)),
    Case("csv-duplicate-header", "data.csv", b"text,text\na,b\n", "reject", ("both named 'text'",),
         field="text"),
    Case("gigantic-line", "data.jsonl",
         jsonl({"text": "ok"}) + b'{"text": "' + b"x" * 1_200_000 + b'"}\n', "reject",
         ("Row 2 is 1.2 MB long", "at most 1 MB"), row=2),
    Case("too-many-bytes", "data.jsonl", jsonl(*qa(10)), "reject",
         ("the limit is 100 bytes",), options={"limits": DataLimits(max_bytes=100)}),
    Case("too-many-rows", "data.csv", b"text\na\nb\nc\nd\ne\n", "reject",
         ("more than 3 rows", "the limit is 3"), options={"limits": DataLimits(max_rows=3)}),
    Case("unknown-extension", "data.xlsx", b"PK\x03\x04whatever", "reject",
         ("ending in .xlsx are not supported", ".jsonl")),
    Case("no-extension", "data", b"text\nhello\n", "reject", ("without an extension",)),
    Case("duplicate-rows", "data.jsonl", jsonl({"text": "a"}, {"text": "a "}, {"text": "b"},
                                               {"text": "a"}), "accept", check=_check_duplicates),
    Case("chat-assistant-first", "chat.jsonl",
         chat(CONVERSATION_OK, [{"role": "assistant", "content": "Hi"},
                                {"role": "user", "content": "Yo"}]),
         "reject", ("Row 2 starts with an assistant message",), row=2, field="messages"),
    Case("chat-two-users", "chat.jsonl",
         chat([{"role": "user", "content": "Hi"}, {"role": "user", "content": "Hello?"},
               {"role": "assistant", "content": "Yes"}]),
         "reject", ("two user messages in a row (messages 1 and 2)",), row=1),
    Case("chat-unknown-role", "chat.jsonl",
         chat([{"role": "narrator", "content": "Once"}, {"role": "assistant", "content": "x"}]),
         "reject", ("message 1, has the role 'narrator'", "system, user or assistant"), row=1),
    Case("chat-no-assistant", "chat.jsonl", chat([{"role": "user", "content": "Hi"}]), "reject",
         ("has no assistant reply",), row=1),
    Case("chat-ends-with-user", "chat.jsonl",
         chat(CONVERSATION_OK + [{"role": "user", "content": "And?"}]), "reject",
         ("ends with a user message",), row=1),
    Case("chat-late-system", "chat.jsonl",
         chat(CONVERSATION_OK + [{"role": "system", "content": "Now"}]), "reject",
         ("system message at position 3",), row=1),
    Case("chat-empty-content", "chat.jsonl",
         chat([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}]), "reject",
         ("Row 1, message 2 (assistant) is empty: every message needs some content.",), row=1),
    Case("chat-not-a-list", "chat.jsonl", jsonl({"messages": CONVERSATION_OK},
                                                {"messages": 5}), "reject",
         ("Row 2 has a number as its messages",), row=2, options={"format": "chat"}),
    Case("sharegpt-accepted", "chat.jsonl", jsonl({"conversations": [
        {"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"},
        {"from": "gpt", "value": "Hello"}]}), "accept", check=_check_sharegpt),
    Case("chat-as-json-string-in-csv", "chat.csv",
         b'messages\n"' + json.dumps(CONVERSATION_OK).replace('"', '""').encode() + b'"\n',
         "accept", check=_check_chat_string),
    Case("parquet-that-is-csv", "data.parquet", b"text\nhello\nworld\n", "reject",
         ("is not a Parquet file", "looks like CSV text")),
    Case("csv-that-is-parquet", "data.csv", parquet([{"text": "a"}]), "reject",
         ("looks like a Parquet file",)),
    Case("extremely-long-row-truncated", "data.txt",
         b"short line\n" + b" ".join([b"word"] * 5000) + b"\n", "accept",
         options={"max_seq_len": 64}, check=_check_long_row),
    Case("html-and-script-kept-as-text", "data.jsonl",
         jsonl({"text": '<script>alert("x")</script><b>bold</b> &amp;'}), "accept",
         check=_check_html),
    Case("jsonl-inside-json", "data.json", jsonl(*qa(3)), "accept", check=_check_jsonl_in_json),
    Case("no-text-column", "data.jsonl", jsonl({"a": 1, "b": [1]}), "reject",
         ("the columns a, b, and none of them fits",)),
    Case("ambiguous-columns", "data.jsonl", jsonl({"text": "t", "question": "q", "answer": "a"}),
         "reject", ("not sure how to read", "text, question, answer")),
    Case("map-unknown-column", "data.jsonl", jsonl({"text": "t"}), "reject",
         ("no column 'body'",), options={"mapping": {"body": "text"}}),
    # nesting that would crash the parser (or anything reading the rows) with a RecursionError
    Case("json-nested-5000-deep", "data.json", b"[" * 5000 + b"]" * 5000, "reject",
         ("data.json is nested more than 32 levels deep",)),
    Case("jsonl-row-nested-5000-deep", "data.jsonl",
         jsonl(*qa(2)) + b'{"question": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "reject",
         ("Row 3 is nested more than 32 levels deep",), row=3),
    Case("jsonl-row-nested-40-deep", "data.jsonl",
         jsonl({"text": "t"}) + b'{"text": ' + b"[" * 40 + b"]" * 40 + b"}\n", "reject",
         ("Row 2 is nested more than 32 levels deep",), row=2),
    Case("json-list-nested-5000-deep-as-jsonl", "data.jsonl", b"[" * 5000 + b"]" * 5000, "reject",
         ("data.jsonl is nested more than 32 levels deep",)),
]

UNSAFE_NAMES = [
    "../../etc/passwd",
    "../../etc/passwd.csv",
    "/etc/passwd.csv",
    "//server/share/data.csv",
    "..%2f..%2fdata.csv",
    "%2e%2e%2fdata.csv",
    "..%252f..%252fdata.csv",
    "data\x00.csv",
    "data.csv\x00.txt",
    "..\\..\\windows\\data.csv",
    "C:\\Users\\me\\data.csv",
    "C:data.csv",
    "\uff0e\uff0e\uff0fdata.csv",
    "..",
    "",
    "a" * 300 + ".csv",
    "line\nbreak.csv",
    "invoice\u202efdp.exe",  # right-to-left override: shows as invoiceexe.pdf
    "data\u2066.csv",
    "da\u200bta.csv",  # zero-width space
    "\ufeffdata.csv",
    "data%E2%80%AE.csv",  # the override, percent-encoded
    "line\u2028break.csv",
    "c1\x85control.csv",
]
