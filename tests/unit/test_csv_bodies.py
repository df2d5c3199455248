"""Bodies from CSV/TSV rows: cells typed, columns placed into (nested) fields or arrays, a
missing column named with its field, a malformed row named with its line."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from infratest.spec.body_shapes import ColumnMap, parse_size
from infratest.spec.csv_bodies import ColumnError, read_csv_bodies, typed
from infratest.spec.inputs_file import InputsError
from infratest.spec.replay_file import read_replay
from infratest.spec.traffic import RequestSpec


def _csv(tmp_path: Path, text: str, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _columns(**given: object) -> dict[str, ColumnMap]:
    spec = RequestSpec(path="/p", replay="x.csv", columns=given)
    assert spec.columns is not None
    return spec.columns


@pytest.mark.parametrize(
    ("cell", "kind", "value"),
    [
        ("12", "auto", 12),
        ("-3", "auto", -3),
        ("2.5", "auto", 2.5),
        ("1e3", "auto", 1000.0),
        (".5", "auto", 0.5),
        ("", "auto", None),
        ("  ", "auto", None),
        ("abc", "auto", "abc"),
        ("nan", "auto", "nan"),
        ("inf", "auto", "inf"),
        ("1_000", "auto", "1_000"),
        ("007", "string", "007"),
        ("", "string", ""),
        ("12", "float", 12.0),
        ("7", "int", 7),
        ("", "int", None),
        ("Yes", "bool", True),
        ("0", "bool", False),
        ('[1, "a"]', "json", [1, "a"]),
    ],
)
def test_cells_are_typed(cell: str, kind: str, value: object) -> None:
    got = typed(cell, kind)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("cell", "kind", "fragment"),
    [
        ("1.5", "int", "not a whole number"),
        ("x", "float", "not a finite number"),
        ("maybe", "bool", "not true or false"),
        ("[1,", "json", "not JSON"),
    ],
)
def test_a_cell_of_the_wrong_type_is_refused(cell: str, kind: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        typed(cell, kind)


def test_without_columns_each_row_is_an_object_of_its_typed_columns(tmp_path: Path) -> None:
    path = _csv(tmp_path, '\ufeffid, score ,inputs.text\n1,0.5,hi\n\n2,,"a, b"\n')
    assert read_csv_bodies(path) == [
        {"id": 1, "score": 0.5, "inputs.text": "hi"},
        {"id": 2, "score": None, "inputs.text": "a, b"},
    ]


def test_columns_build_arrays_nested_fields_and_typed_values(tmp_path: Path) -> None:
    path = _csv(tmp_path, "request_id,f1,f2,f3,f4,text\n007,1,2.5,,4,hello\n8,5,6,7,8,bye\n")
    columns = _columns(
        features="f1,f2,f3,f4",
        tail=["f3", "f4"],
        span="f2..f4",
        **{"inputs.text": "text", "inputs.id": {"column": "request_id", "type": "string"}},
    )
    bodies = read_csv_bodies(path, None, columns)
    assert bodies[0] == {
        "features": [1, 2.5, None, 4],
        "tail": [None, 4],
        "span": [2.5, None, 4],
        "inputs": {"text": "hello", "id": "007"},
    }
    assert bodies[1]["inputs"] == {"text": "bye", "id": "8"}
    assert list(bodies[0]) == ["features", "tail", "span", "inputs"]  # the mapping's order


def test_tsv_and_the_pool_limit(tmp_path: Path) -> None:
    path = _csv(tmp_path, "a\tb\n1\tx,y\n2\tz\n3\tw\n", name="rows.tsv")
    assert read_replay(path, 2) == [{"a": 1, "b": "x,y"}, {"a": 2, "b": "z"}]


@pytest.mark.parametrize(
    ("columns", "field", "fragment"),
    [
        ({"features": "f1,f9"}, "features", "has no column 'f9'"),
        ({"x": "idd"}, "x", "has no column 'idd' (did you mean \"id\"?)"),
        ({"x": "f2..f0"}, "x", "has no column 'f0'"),
        ({"x": "f2..f1"}, "x", "column 'f1' comes before 'f2'"),
    ],
)
def test_a_missing_column_names_it_and_its_field(
    tmp_path: Path, columns: dict, field: str, fragment: str
) -> None:
    path = _csv(tmp_path, "id,f1,f2\n1,2,3\n")
    with pytest.raises(ColumnError) as info:
        read_csv_bodies(path, None, _columns(**columns))
    assert info.value.field == field
    assert fragment in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("a,b\n1,2\n3\n", "rows.csv:3: 1 cells where the header has 2"),
        ('a,b\n1,"two\nlines"\n3,4,5\n', "rows.csv:4: 3 cells where the header has 2"),
        ('a,b\n1,2\n3,"open\n', "rows.csv:3: not a CSV row"),
        ('a,b\n1,"x"y\n', "rows.csv:2: not a CSV row"),
        ("", "is empty (a header row"),
        ("a,b\n", "holds no rows below its header"),
        ("a,a\n1,2\n", "rows.csv:1: the header names column 'a' twice"),
        ("a,,b\n1,2,3\n", "rows.csv:1: the header has an empty column name"),
    ],
)
def test_a_malformed_file_names_its_line(tmp_path: Path, text: str, fragment: str) -> None:
    path = _csv(tmp_path, text)
    with pytest.raises(InputsError) as info:
        read_csv_bodies(path)
    assert fragment in str(info.value)


def test_a_typed_cell_that_does_not_parse_names_line_and_column(tmp_path: Path) -> None:
    path = _csv(tmp_path, "id,n\n1,2\n2,two\n")
    with pytest.raises(InputsError, match=r"rows.csv:3: column 'n': 'two' is not a whole number"):
        read_csv_bodies(path, None, _columns(n={"column": "n", "type": "int"}))


def test_columns_mapping_shapes_are_checked_when_the_scenario_loads() -> None:
    with pytest.raises(ValidationError, match=r"cannot hold a value and also 'a\.b'"):
        _columns(a="x", **{"a.b": "y"})
    with pytest.raises(ValidationError, match="not a body field path"):
        _columns(**{"a..b": "x"})
    with pytest.raises(ValidationError, match="an empty column name"):
        _columns(a="x,,y")
    with pytest.raises(ValidationError, match="type"):
        _columns(a={"column": "x", "type": "date"})


def test_size_ranges_parse() -> None:
    assert [parse_size(v) for v in (8, "8", "64..512", "..4", "4..", " 3 .. 9 ")] == [
        (8, 8),
        (8, 8),
        (64, 512),
        (None, 4),
        (4, None),
        (3, 9),
    ]
    for bad in ("", "..", "a", "1 2", "8-16", -1, True, 2.5):
        with pytest.raises(ValueError, match="expected a length such as 64"):
            parse_size(bad)
    with pytest.raises(ValueError, match="ends below its start"):
        parse_size("5..2")


text_cells = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(), text_cells), min_size=1, max_size=8))
def test_written_rows_read_back_as_written(rows: list[tuple[int, str]]) -> None:
    """Whatever csv.writer writes (quotes, commas, newlines in cells), the bodies hold: ints
    as ints, text exactly with type string."""
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["n", "s"])
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.csv"
        path.write_text(out.getvalue(), encoding="utf-8", newline="")
        columns = _columns(n="n", s={"column": "s", "type": "string"})
        assert read_csv_bodies(path, None, columns) == [{"n": n, "s": s} for n, s in rows]
