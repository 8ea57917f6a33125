"""Reading CSV uploads: UTF-8 (with or without Excel's BOM), a header row, and errors by line and column.

Line numbers are the file's own (line 1 is the header), counted from the start of each record even
when a quoted cell spans several lines, so "line 7" is where a person finds it in their editor.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from core.domain.errors import Invalid

MAX_ROWS = 100_000
# Lists inside a cell (asset model codes, serial numbers) are separated by semicolons.
LIST_SEPARATOR = ";"
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    field: str
    message: str


class CsvRejected(Invalid):
    """The file had errors; nothing was imported. `errors` lists every one, in line order."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        ordered = sorted(errors, key=lambda e: e.line)
        first = ordered[0]
        more = f" (and {len(ordered) - 1} more)" if len(ordered) > 1 else ""
        super().__init__(
            f"nothing was imported: line {first.line}, {first.field}: {first.message}{more}",
            field=first.field,
        )
        self.errors = ordered


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    cells: dict[str, str]
    # Set when the row has a different number of cells than the header.
    width_error: str | None = None


def read_rows(text: bytes | str, columns: Sequence[str], required: Sequence[str]) -> list[Row]:
    """The data rows (blank lines skipped); a bad header or an unreadable file is rejected at once."""
    return list(_iter_rows(_decode(text), columns, required))


def _decode(text: bytes | str) -> str:
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    try:
        return text.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvRejected(
            [RowError(1, "file", f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
        ) from exc


def _iter_rows(text: str, columns: Sequence[str], required: Sequence[str]) -> Iterator[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise CsvRejected([RowError(1, "file", "the file is empty; expected a header row")]) from None
    except csv.Error as exc:
        raise CsvRejected([RowError(1, "file", f"malformed CSV: {exc}")]) from exc
    expected = ", ".join(columns)
    problems = [
        RowError(1, h or "(blank)", f"unknown column (expected {expected})")
        for h in header
        if h not in columns
    ]
    problems += [RowError(1, c, "required column is missing") for c in required if c not in header]
    problems += [RowError(1, h, "column appears twice") for i, h in enumerate(header) if h in header[:i]]
    if problems:
        raise CsvRejected(problems)
    start, count = reader.line_num + 1, 0
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            count += 1
            if count > MAX_ROWS:
                raise CsvRejected([RowError(line, "file", f"more than {MAX_ROWS} rows; split the file")])
            if len(values) != len(header):
                width = f"{len(values)} cells where the header has {len(header)}"
                yield Row(line, {}, width)
                continue
            yield Row(line, {h: v.strip() for h, v in zip(header, values, strict=True)})
    except csv.Error as exc:
        raise CsvRejected([RowError(start, "file", f"malformed CSV: {exc}")]) from exc


def flag(value: str, default: bool) -> bool:
    """A yes/no cell; blank means the default."""
    if value == "":
        return default
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError("expected true or false")


def split_list(value: str) -> list[str]:
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def join_list(items: Sequence[str]) -> str:
    return LIST_SEPARATOR.join(items)
