"""Safe YAML loading that remembers where every value came from.

Mappings and lists come back as :class:`MarkedDict` / :class:`MarkedList`, which carry the line
and column of each of their values, so any later error can point at ``file:line:column``.
Hostile input is refused early: size cap, alias-expansion cap (billion laughs), depth cap,
duplicate keys, non-UTF-8 bytes, unknown tags.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from infratest.spec.interpolate import InterpolationError, interpolate
from infratest.spec.problems import Problem, SpecError

MAX_FILE_BYTES = 1 << 20  # scenario and config files are small; a bigger one is a mistake
MAX_NODES = 50_000  # values after alias expansion
MAX_DEPTH = 64
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


@dataclass(frozen=True)
class Mark:
    """1-based line and column of a value in its file."""

    line: int
    column: int


class MarkedDict(dict):
    """A mapping that knows the mark of itself, of each key and of each value."""

    mark: Mark
    key_marks: dict[Any, Mark]
    value_marks: dict[Any, Mark]


class MarkedList(list):
    """A list that knows the mark of itself and of each item."""

    mark: Mark
    item_marks: list[Mark]


def new_dict(mark: Mark) -> MarkedDict:
    """An empty MarkedDict at `mark`."""
    result = MarkedDict()
    result.mark, result.key_marks, result.value_marks = mark, {}, {}
    return result


def new_list(mark: Mark) -> MarkedList:
    """An empty MarkedList at `mark`."""
    result = MarkedList()
    result.mark, result.item_marks = mark, []
    return result


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    """Turns a composed node graph into plain marked data, counting what aliases expand to."""

    def __init__(self, file: str, env: dict[str, str]) -> None:
        self.file = file
        self.env = env
        self.nodes = 0
        self.problems: list[Problem] = []
        self.constructor = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, message: str, fatal: bool = True) -> None:
        mark = _mark(node)
        self.problems.append(Problem(self.file, mark.line, mark.column, (), message))
        if fatal:
            raise SpecError(self.problems)

    def build(self, node: yaml.Node, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            self.fail(
                node,
                f"too many values (over {MAX_NODES}, counting what aliases expand to);"
                " refusing what looks like an alias bomb",
            )
        if depth > MAX_DEPTH:
            self.fail(node, f"nested deeper than {MAX_DEPTH} levels (or a recursive alias)")
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN_TAGS:
            self.fail(node, f"unsupported YAML tag {node.tag}")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, depth)
        if isinstance(node, yaml.SequenceNode):
            result = new_list(_mark(node))
            for item in node.value:
                result.append(self.build(item, depth + 1))
                result.item_marks.append(_mark(item))
            return result
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, depth: int) -> MarkedDict:
        if node.tag == "tag:yaml.org,2002:merge" or any(
            k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value
        ):
            self.fail(
                node, "YAML merge keys (<<) are not supported; write the keys out or use `defaults`"
            )
        result = new_dict(_mark(node))
        for key_node, value_node in node.value:
            key = self._scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if key is None or isinstance(key, list | dict):
                self.fail(key_node, "a key must be plain text")
            if key in result:
                first = result.key_marks[key]
                self.fail(
                    key_node, f"duplicate key '{key}' (first at line {first.line})", fatal=False
                )
                continue
            result[key] = self.build(value_node, depth + 1)
            result.key_marks[key] = _mark(key_node)
            result.value_marks[key] = _mark(value_node)
        return result

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            value = self.constructor.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            self.fail(node, f"unsupported YAML value ({exc.problem})")
        if isinstance(value, str):
            try:
                return interpolate(value, self.env)
            except InterpolationError as exc:
                self.fail(node, str(exc), fatal=False)
        return value


def read_text(path: Path, display: str) -> str:
    """Read a file as UTF-8 text, refusing huge files and bad bytes with a located message."""
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SpecError(
            [
                Problem(
                    display,
                    1,
                    1,
                    (),
                    f"file is {size} bytes; the limit is "
                    f"{MAX_FILE_BYTES} bytes for a scenario or config file",
                )
            ]
        )
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        message = f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        raise SpecError([Problem(display, line, column, (), message)]) from None


def _compose(text: str, display: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(part for part in (exc.context, exc.problem) if part)
        raise SpecError(
            [Problem(display, line, column, (), f"YAML syntax error: {what}")]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(display, 1, 1, (), f"YAML error: {exc}")]) from None


def load_marked(
    path: str | os.PathLike[str],
    display: str | None = None,
    env: dict[str, str] | None = None,
    expect_key: str = "",
) -> MarkedDict:
    """Load one YAML file whose top level must be a mapping; raise SpecError on any problem."""
    path = Path(path)
    display = display or str(path)
    try:
        text = read_text(path, display)
    except OSError as exc:
        raise SpecError([Problem(display, 1, 1, (), f"cannot read: {exc.strerror}")]) from None
    node = _compose(text, display)
    wanted = f"a mapping with '{expect_key}' at the top" if expect_key else "a mapping"
    if node is None:
        raise SpecError([Problem(display, 1, 1, (), f"the file is empty; expected {wanted}")])
    builder = _Builder(display, dict(os.environ) if env is None else env)
    data = builder.build(node)
    if builder.problems:
        raise SpecError(builder.problems)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"the value {data!r}"
        mark = _mark(node)
        raise SpecError(
            [Problem(display, mark.line, mark.column, (), f"expected {wanted}, got {kind}")]
        )
    return data


def mark_at(data: Any, path: tuple[str | int, ...], key: bool = False) -> Mark | None:
    """The mark of the value at `path` (or of its key), or of the deepest ancestor that exists."""
    best: Mark | None = getattr(data, "mark", None)
    node = data
    for index, part in enumerate(path):
        last = index == len(path) - 1
        found = _child_mark(node, part, key and last)
        if found is None:
            break
        best = found
        node = node[part]
    return best


def _child_mark(node: Any, part: str | int, key: bool) -> Mark | None:
    if isinstance(node, MarkedDict) and part in node:
        return node.key_marks[part] if key else node.value_marks[part]
    if isinstance(node, MarkedList) and isinstance(part, int) and 0 <= part < len(node):
        return node.item_marks[part]
    return None
