"""Hostile or broken files are refused quickly, in bounded memory, with a located message;
random damage to a valid file yields a valid model or the project's own error, nothing else."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infratest import load_config, load_scenario
from infratest.spec.problems import SpecError
from infratest.spec.yamlio import MAX_FILE_BYTES

ROOT = Path(__file__).parent.parent.parent
EXAMPLE = ROOT / "tests" / "fixtures" / "valid" / "format-example.yaml"
CONFIG = load_config(ROOT / "tests" / "fixtures" / "valid" / "format-example-config.yaml")


def _problems(path: Path) -> list[str]:
    try:
        load_scenario(path, CONFIG)
    except SpecError as exc:
        return [str(p) for p in exc.problems]
    raise AssertionError("expected a SpecError")


def test_billion_laughs_is_refused_fast_in_bounded_memory(tmp_path: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, 10):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\nassumptions: *a9\n")
    tracemalloc.start()
    started = time.monotonic()
    problems = _problems(path)
    elapsed = time.monotonic() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "alias bomb" in problems[0]
    assert elapsed < 5.0
    assert peak < 100 * 2**20


def test_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * (MAX_FILE_BYTES // 10 + 10))
    assert "the limit is" in _problems(path)[0]


def test_non_utf8_bytes_point_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"target: demo\ndescription: caf\xe9\n")
    problem = _problems(path)[0]
    assert ":2:17: not UTF-8 text" in problem


def test_recursive_alias_and_deep_nesting_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("assumptions: " + "[" * 200 + "]" * 200 + "\n")
    assert "nested deeper than" in _problems(path)[0]


def test_unreadable_path_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    assert "cannot read" in _problems(tmp_path / "missing.yaml")[0]


EXAMPLE_LINES = EXAMPLE.read_text().splitlines()
_noise = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@st.composite
def damaged(draw) -> str:
    lines = list(EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "noise", "indent", "cut", "swap"]))
        line = lines[index]
        if action == "drop":
            del lines[index]
        elif action == "dup":
            lines.insert(index, line)
        elif action == "noise":
            at = draw(st.integers(0, len(line)))
            lines[index] = line[:at] + draw(_noise) + line[at:]
        elif action == "indent":
            lines[index] = " " * draw(st.integers(0, 8)) + line.lstrip()
        elif action == "cut":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], line
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=damaged())
def test_damaged_files_give_a_model_or_our_error(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("damaged") / "s.yaml"
    path.write_text(text)
    try:
        scenario = load_scenario(path, CONFIG)
    except SpecError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.line >= 1 and problem.column >= 1
            assert str(problem).startswith(f"{problem.file}:{problem.line}:")
    else:
        assert scenario.assumptions
