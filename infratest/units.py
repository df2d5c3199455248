"""Quantities: parse what people write in scenario files ("200ms", "1.5GiB", "100MB/s", "50/s",
"1%") into SI base units, and format SI values back for people.

Everything inside infratest is SI (seconds, bytes, bytes/s, 1/s, ratios 0..1, cores); units
exist only at the edges, in this module.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from enum import StrEnum


class Dimension(StrEnum):
    """What a quantity measures; each metric has exactly one."""

    DURATION = "duration"
    BYTES = "bytes"
    BYTE_RATE = "byte rate"
    RATE = "rate"
    RATIO = "ratio"
    COUNT = "count"
    CORES = "cpu"
    POWER = "power"  # watts
    NUMBER = "number"  # a bare number: fits ratio, count and cpu


class QuantityError(ValueError):
    """A quantity that cannot be read; the message is written for the person who wrote it."""


TIME_UNITS: dict[str, float] = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "min": 60.0,
    "m": 60.0,
    "h": 3600.0,
}
SIZE_UNITS: dict[str, float] = {
    "B": 1.0,
    "KB": 1e3,
    "kB": 1e3,
    "MB": 1e6,
    "GB": 1e9,
    "TB": 1e12,
    "KiB": 2.0**10,
    "MiB": 2.0**20,
    "GiB": 2.0**30,
    "TiB": 2.0**40,
}
POWER_UNITS: dict[str, float] = {"mW": 1e-3, "W": 1.0, "kW": 1e3}

SI_UNIT: dict[Dimension, str] = {
    Dimension.DURATION: "s",
    Dimension.BYTES: "B",
    Dimension.BYTE_RATE: "B/s",
    Dimension.RATE: "1/s",
    Dimension.RATIO: "ratio",
    Dimension.COUNT: "count",
    Dimension.CORES: "cores",
    Dimension.POWER: "W",
    Dimension.NUMBER: "",
}

EXAMPLES: dict[Dimension, str] = {
    Dimension.DURATION: '"200ms"',
    Dimension.BYTES: '"512MiB"',
    Dimension.BYTE_RATE: '"100MB/s"',
    Dimension.RATE: '"50/s"',
    Dimension.RATIO: '"1%"',
    Dimension.COUNT: '"100"',
    Dimension.CORES: '"150%" (1.5 cores)',
    Dimension.POWER: '"250W"',
    Dimension.NUMBER: '"0.7"',
}

_QUANTITY = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
    r"(?P<unit>[A-Za-zµ%]*)\s*(?:/\s*(?P<per>[A-Za-zµ]+))?\s*$"
)
_CONDITION = re.compile(r"^\s*(?P<op><=|>=|<|>)\s*(?P<rest>.+?)\s*$")

OPS = ("<", "<=", ">", ">=")

# A bare number is accepted where the dimension has no unit of its own.
_BARE_OK = {Dimension.RATIO, Dimension.COUNT, Dimension.CORES, Dimension.NUMBER}
_PERCENT_OK = {Dimension.RATIO, Dimension.CORES, Dimension.NUMBER}


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity: its value in SI base units and the dimension its unit implies."""

    value: float
    dimension: Dimension
    text: str


@dataclass(frozen=True)
class Condition:
    """An `expect` condition such as ``< 200ms``: operator, SI bound, and the text as written."""

    op: str
    bound: float
    dimension: Dimension
    text: str
    # A signed bound (`<= +10%`, `<= +5ms`, `<= +0.5pp`) is a change from a baseline:
    # "relative" (a ratio of the baseline's value) or "absolute" (in the metric's unit; ratio
    # metrics in percentage points). None: the metric's own value.
    change: str | None = None

    @property
    def is_change(self) -> bool:
        """Whether the bound is a change from a baseline (written with a sign)."""
        return self.change is not None

    def holds(self, value: float) -> bool:
        """Whether a (point) value satisfies the condition."""
        return compare(value, self.op, self.bound)


def compare(value: float, op: str, bound: float) -> bool:
    """Apply a comparison operator given as text."""
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    if op == ">=":
        return value >= bound
    raise ValueError(f"unknown operator {op!r}")


NOUNS: dict[Dimension, str] = {
    Dimension.DURATION: "a duration",
    Dimension.BYTES: "a size",
    Dimension.BYTE_RATE: "a byte rate",
    Dimension.RATE: "a rate",
    Dimension.RATIO: "a ratio",
    Dimension.COUNT: "a count",
    Dimension.CORES: "a CPU amount",
    Dimension.POWER: "a power",
    Dimension.NUMBER: "a number",
}


def describe(dimension: Dimension) -> str:
    """'a duration such as "200ms"' — the phrase error messages use."""
    return f"{NOUNS[dimension]} such as {EXAMPLES[dimension]}"


def _unit_hint(unit: str, table: dict[str, float]) -> str:
    lowered = {u.lower(): u for u in table}
    if unit.lower() in lowered:
        close = [lowered[unit.lower()]]
    else:
        close = difflib.get_close_matches(unit, list(table), n=1, cutoff=0.5)
    return f' (did you mean "{close[0]}"?)' if close else ""


KNOWN_UNITS = (
    "durations us ms s min (or m) h; sizes B KB MB GB TB KiB MiB GiB TiB; "
    "rates like 50/s or 300/min; byte rates like 100MB/s; power mW W kW; "
    "ratios as % or a bare number"
)


def _per_time(per: str, text: str) -> float:
    if per not in TIME_UNITS:
        hint = _unit_hint(per, TIME_UNITS)
        raise QuantityError(f'unknown time unit "/{per}" in "{text}"{hint}')
    return TIME_UNITS[per]


def _with_unit(number: float, unit: str, per: str | None, text: str) -> Quantity:
    if unit in TIME_UNITS and per is None:
        return Quantity(number * TIME_UNITS[unit], Dimension.DURATION, text)
    if unit in SIZE_UNITS:
        if per is None:
            return Quantity(number * SIZE_UNITS[unit], Dimension.BYTES, text)
        rate = number * SIZE_UNITS[unit] / _per_time(per, text)
        return Quantity(rate, Dimension.BYTE_RATE, text)
    if unit in POWER_UNITS and per is None:
        return Quantity(number * POWER_UNITS[unit], Dimension.POWER, text)
    table = {**TIME_UNITS, **SIZE_UNITS, **POWER_UNITS}
    raise QuantityError(
        f'unknown unit "{unit}" in "{text}"{_unit_hint(unit, table)}; known units: {KNOWN_UNITS}'
    )


def parse_quantity(text: str | int | float) -> Quantity:
    """Read a quantity; its unit decides the dimension. Negative quantities are refused."""
    if isinstance(text, bool):
        raise QuantityError(f'expected a quantity such as "200ms", got {text!r}')
    if isinstance(text, int | float):
        if not math.isfinite(text) or text < 0:
            raise QuantityError(f"expected a finite, non-negative number, got {text!r}")
        return Quantity(float(text), Dimension.NUMBER, str(text))
    if not isinstance(text, str):  # an empty YAML value (null), a list, a mapping
        shown = "nothing" if text is None else type(text).__name__
        raise QuantityError(f'expected a quantity such as "200ms", "1.5GiB" or "50/s", got {shown}')
    match = _QUANTITY.match(text)
    if match is None:
        raise QuantityError(
            f'expected a quantity such as "200ms", "1.5GiB" or "50/s", got "{text}"'
        )
    number = float(match["num"])
    if number < 0 or not math.isfinite(number):
        raise QuantityError(f'expected a non-negative quantity, got "{text}"')
    unit, per = match["unit"], match["per"]
    if unit == "%":
        if per is not None:
            raise QuantityError(f'"%" cannot have a time unit, in "{text}"')
        return Quantity(number / 100.0, Dimension.RATIO, text)
    if unit == "":
        if per is None:
            return Quantity(number, Dimension.NUMBER, text)
        return Quantity(number / _per_time(per, text), Dimension.RATE, text)
    return _with_unit(number, unit, per, text)


def fits(given: Dimension, wanted: Dimension) -> bool:
    """Whether a quantity of dimension `given` may stand where `wanted` is expected."""
    if given == wanted:
        return True
    if given == Dimension.NUMBER:
        return wanted in _BARE_OK
    if given == Dimension.RATIO:  # "150%" is how CPU is written
        return wanted in _PERCENT_OK
    return False


def _quoted(text: object) -> str:
    return f'"{text}"' if isinstance(text, str) else repr(text)


def parse_as(text: str | int | float, wanted: Dimension) -> float:
    """Parse a quantity that must have dimension `wanted`; returns the SI value."""
    try:
        quantity = parse_quantity(text)
    except QuantityError:
        if not isinstance(text, str) or _QUANTITY.match(text):
            raise  # a unit or range problem: its own message is the clearer one
        raise QuantityError(f"expected {describe(wanted)}, got {_quoted(text)}") from None
    if not fits(quantity.dimension, wanted):
        raise QuantityError(f"expected {describe(wanted)}, got {_quoted(text)}")
    if wanted == Dimension.COUNT and quantity.value != int(quantity.value):
        raise QuantityError(f"expected a whole number, got {text!r}")
    return quantity.value


def parse_condition(text: str | int | float) -> Condition:
    """Read ``<op> <quantity>``; the dimension is checked later, against the metric."""
    if not isinstance(text, str):
        raise QuantityError(f'expected a condition such as "< 200ms", got {text!r} (no operator)')
    match = _CONDITION.match(text)
    if match is None:
        raise QuantityError(
            f'expected a condition "<op> <quantity>" with op one of < <= > >=, such as "< 200ms", '
            f'got "{text}"'
        )
    rest = match["rest"]
    if rest[:1] in "+-":
        return _change_condition(match["op"], rest, text.strip())
    quantity = parse_quantity(rest)
    return Condition(match["op"], quantity.value, quantity.dimension, text.strip())


def _change_condition(op: str, rest: str, text: str) -> Condition:
    """``<= +10%`` (relative), ``<= +0.5pp`` (percentage points), ``<= +5ms`` (absolute)."""
    sign = -1.0 if rest[0] == "-" else 1.0
    magnitude = rest[1:].strip()
    if magnitude.endswith("pp"):
        points = parse_quantity(magnitude[:-2].strip() or "x")
        if points.dimension != Dimension.NUMBER:
            raise QuantityError(f'expected percentage points such as "+0.5pp", got "{rest}"')
        return Condition(op, sign * points.value / 100.0, Dimension.RATIO, text, "absolute")
    quantity = parse_quantity(magnitude)
    if quantity.dimension == Dimension.RATIO:
        return Condition(op, sign * quantity.value, Dimension.RATIO, text, "relative")
    if quantity.dimension == Dimension.NUMBER:
        raise QuantityError(
            f'a change needs a unit: "+10%" (relative), "+5ms" (absolute) or "+0.5pp" '
            f'(percentage points), got "{rest}"'
        )
    return Condition(op, sign * quantity.value, quantity.dimension, text, "absolute")


def format_change(value: float, condition_change: str, dimension: Dimension) -> str:
    """A signed change for people: "+12.5%", "-3ms", "+0.4pp"."""
    if math.isnan(value):
        return "n/a"
    sign = "+" if value >= 0 else "-"
    if condition_change == "relative":
        return f"{sign}{_number(abs(value) * 100.0, 3)}%"
    if dimension == Dimension.RATIO:
        return f"{sign}{_number(abs(value) * 100.0, 3)}pp"
    return f"{sign}{format_quantity(abs(value), dimension)}"


_DURATION_STEPS = (("h", 3600.0), ("min", 60.0), ("s", 1.0), ("ms", 1e-3), ("us", 1e-6))
_SIZE_STEPS = (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1.0))
_POWER_STEPS = (("kW", 1e3), ("W", 1.0), ("mW", 1e-3))


def _number(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    if "e+" in text and abs(value) < 1e15:  # 1200/s reads better than 1.2e+03/s
        return f"{value:.0f}"
    return text


def _scaled(value: float, steps: tuple[tuple[str, float], ...], digits: int) -> str:
    for unit, scale in steps:
        if abs(value) >= scale:
            return f"{_number(value / scale, digits)}{unit}"
    unit, scale = steps[-1]
    return f"{_number(value / scale, digits)}{unit}"


def format_quantity(value: float, dimension: Dimension, digits: int = 3) -> str:
    """Format an SI value for people ("41.2ms", "1.5GB", "120MB/s", "50/s", "1%").

    With ``digits=17`` the text parses back to the same float (used by round-trip tests).
    """
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if dimension == Dimension.DURATION:
        return _scaled(value, _DURATION_STEPS, digits)
    if dimension == Dimension.BYTES:
        return _scaled(value, _SIZE_STEPS, digits)
    if dimension == Dimension.BYTE_RATE:
        return f"{_scaled(value, _SIZE_STEPS, digits)}/s"
    if dimension == Dimension.RATE:
        return f"{_number(value, digits)}/s"
    if dimension == Dimension.POWER:
        return _scaled(value, _POWER_STEPS, digits)
    if dimension == Dimension.RATIO:
        return f"{_number(value * 100.0, digits)}%"
    if dimension == Dimension.CORES:
        return f"{_number(value * 100.0, digits)}%"
    if dimension == Dimension.COUNT:
        return f"{value:.0f}" if value == int(value) else _number(value, digits)
    return _number(value, digits)
