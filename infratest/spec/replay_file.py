"""A `replay:` file's bodies, whichever form it has: JSONL (a body a line) or, by a .csv or
.tsv suffix, a table whose rows `columns` turns into bodies."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from infratest.spec.body_shapes import ColumnMap
from infratest.spec.csv_bodies import is_table, read_csv_bodies
from infratest.spec.inputs_file import read_inputs


def read_replay(
    path: Path, limit: int | None = None, columns: Mapping[str, ColumnMap] | None = None
) -> list[Any]:
    """The file's first `limit` bodies in file order; InputsError names the file and line."""
    if is_table(path):
        return read_csv_bodies(path, limit, columns)
    return read_inputs(path, limit)
