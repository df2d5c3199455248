"""Request bodies from a CSV (or TSV) file with a header row: each row one body, built by a
`columns` mapping (body field -> column or columns) or, without one, as an object of all its
columns. Read at validation, so a missing column or a malformed row is reported up front."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from infratest.spec.body_shapes import ColumnMap
from infratest.spec.errors import suggest
from infratest.spec.inputs_file import InputsError

DELIMITERS = {".csv": ",", ".tsv": "\t"}
_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


class ColumnError(InputsError):
    """`columns` names a column the file lacks; `field` is the body field that names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def is_table(path: Path) -> bool:
    """Whether the file is read as CSV/TSV (by its suffix) rather than JSONL."""
    return Path(path).suffix.lower() in DELIMITERS


def read_csv_bodies(
    path: Path, limit: int | None = None, columns: Mapping[str, ColumnMap] | None = None
) -> list[Any]:
    """The bodies of the first `limit` rows, in file order (blank rows skipped)."""
    rows = _rows(Path(path))
    header = _header(path, next(rows, None))
    fields = (
        [(name.split("."), name, m) for name, m in columns.items()]
        if columns
        else [([name], name, ColumnMap(column=name)) for name in header]
    )
    plan = _plan(path, header, fields)
    bodies: list[Any] = []
    for number, row in rows:
        if len(row) != len(header):
            raise InputsError(
                f"{path}:{number}: {len(row)} cells where the header has {len(header)}"
            )
        bodies.append(_body(path, number, row, header, plan))
        if limit is not None and len(bodies) >= limit:
            break
    if not bodies:
        raise InputsError(f"CSV file {path} holds no rows below its header")
    return bodies


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first line of the row, its cells), blank rows skipped; a broken row names its line."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputsError(f"cannot read CSV file {path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle, delimiter=DELIMITERS[path.suffix.lower()], strict=True)
        start = 1
        try:
            for row in reader:
                if row:
                    yield start, row
                start = reader.line_num + 1
        except csv.Error as exc:
            raise InputsError(f"{path}:{start}: not a CSV row: {exc}") from None
        except UnicodeDecodeError:
            raise InputsError(f"CSV file {path} is not UTF-8 text") from None


def _header(path: Path, first: tuple[int, list[str]] | None) -> list[str]:
    if first is None:
        raise InputsError(f"CSV file {path} is empty (a header row naming the columns comes first)")
    number, header = first
    header = [name.strip() for name in header]
    seen: set[str] = set()
    for name in header:
        if not name.strip():
            raise InputsError(f"{path}:{number}: the header has an empty column name")
        if name in seen:
            raise InputsError(f"{path}:{number}: the header names column {name!r} twice")
        seen.add(name)
    return header


Field = tuple[list[str], str, ColumnMap]
Plan = list[tuple[list[str], ColumnMap, int | list[int]]]


def _plan(path: Path, header: list[str], fields: list[Field]) -> Plan:
    """Per body field (its keys, as written, its mapping): the cell index or indexes."""
    index = {name: i for i, name in enumerate(header)}
    plan: Plan = []
    for keys, field, mapping in fields:
        if isinstance(mapping.column, str):
            cells: int | list[int] = _index_of(path, header, index, mapping.column, field)
        else:
            cells = [i for ref in mapping.column for i in _span(path, header, index, ref, field)]
        plan.append((keys, mapping, cells))
    return plan


def _index_of(path: Path, header: list[str], index: dict[str, int], name: str, field: str) -> int:
    if name in index:
        return index[name]
    shown = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
    raise ColumnError(
        f"{path} has no column {name!r}{suggest(name, header)} (its columns: {shown})", field
    )


def _span(path: Path, header: list[str], index: dict[str, int], ref: str, field: str) -> range:
    """The cell indexes of one entry of a list of columns: a name, or ``A..B``."""
    if ref in index or ".." not in ref:
        at = _index_of(path, header, index, ref, field)
        return range(at, at + 1)
    first, _, last = (part.strip() for part in ref.partition(".."))
    start = _index_of(path, header, index, first, field)
    end = _index_of(path, header, index, last, field)
    if end < start:
        raise ColumnError(f"{path}: column {last!r} comes before {first!r} ({ref})", field)
    return range(start, end + 1)


def _body(path: Path, number: int, row: list[str], header: list[str], plan: Plan) -> Any:
    body: dict[str, Any] = {}
    for keys, mapping, cells in plan:
        at = cells if isinstance(cells, list) else [cells]
        try:
            values = [_cell(row, i, mapping.type) for i in at]
        except _CellError as exc:
            raise InputsError(f"{path}:{number}: column {header[exc.index]!r}: {exc}") from None
        node = body
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = values if isinstance(cells, list) else values[0]
    return body


class _CellError(ValueError):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def _cell(row: list[str], index: int, kind: str) -> Any:
    try:
        return typed(row[index], kind)
    except ValueError as exc:
        raise _CellError(str(exc), index) from None


def typed(cell: str, kind: str = "auto") -> Any:
    """The JSON value of one cell: by `kind`, or (auto) an int, else a finite float, else the
    text; an empty cell is null except as a string."""
    if kind == "string":
        return cell
    text = cell.strip()
    if not text:
        return None
    if kind == "json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{_quote(cell)} is not JSON: {exc.msg}") from None
    if kind == "bool":
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"{_quote(cell)} is not true or false")
    return _number(cell, text, kind)


def _number(cell: str, text: str, kind: str) -> Any:
    if kind != "float" and _INT.match(text):
        return int(text)
    if kind == "int":
        raise ValueError(f"{_quote(cell)} is not a whole number")
    if _FLOAT.match(text) and math.isfinite(number := float(text)):
        return number
    if kind == "float":
        raise ValueError(f"{_quote(cell)} is not a finite number")
    return cell


def _quote(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")
