"""Merge a scenario's `defaults` into each assumption, keeping where every value came from.

Values merged from `defaults` keep the marks of the `defaults` block, so a mistake there is
reported at its own line, once.
"""

from __future__ import annotations

from typing import Any

from infratest.spec.yamlio import MarkedDict, MarkedList, new_dict, new_list

# What a sweep, capacity search or cold start takes from `defaults.load`: the request mix
# and how it is sent, but not users or duration, which these workloads set per step.
TRAFFIC_KEYS = ("requests", "headers", "wait", "timeout", "user_class")
_FILLS = {"sweep": TRAFFIC_KEYS, "capacity": TRAFFIC_KEYS, "cold_start": ("requests",)}
# The workloads with latency figures: the only ones `defaults.latency_of` applies to.
LATENCY_WORKLOADS = ("load", "replay", "llm", "sweep", "capacity")


def _put(target: MarkedDict, source: MarkedDict, key: Any, value: Any) -> None:
    target[key] = value
    target.key_marks[key] = source.key_marks[key]
    target.value_marks[key] = source.value_marks[key]


def deep_merge(base: MarkedDict, override: MarkedDict) -> MarkedDict:
    """`override` wins; nested mappings merge; lists are replaced, not concatenated."""
    result = new_dict(override.mark)
    for key in base:
        if key not in override:
            _put(result, base, key, base[key])
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged = deep_merge(base[key], value)
            _put(result, override, key, merged)
        else:
            _put(result, override, key, value)
    return result


def _fill(section: MarkedDict, source: MarkedDict, keys: tuple[str, ...]) -> MarkedDict:
    partial = new_dict(source.mark)
    for key in keys:
        if key in source:
            _put(partial, source, key, source[key])
    return deep_merge(partial, section)


def merge_assumption(assumption: MarkedDict, defaults: MarkedDict) -> MarkedDict:
    """One assumption with the defaults that apply to its workload filled in."""
    result = deep_merge(new_dict(assumption.mark), assumption)
    load = defaults.get("load")
    if isinstance(load, dict):
        if isinstance(assumption.get("load"), dict):
            _put(result, assumption, "load", deep_merge(load, assumption["load"]))
        for section, keys in _FILLS.items():
            if isinstance(assumption.get(section), dict):
                _put(result, assumption, section, _fill(assumption[section], load, keys))
    if "probe" in defaults and "probe" not in assumption and "cold_start" not in assumption:
        _put(result, defaults, "probe", defaults["probe"])
    has_latency = any(w in assumption for w in LATENCY_WORKLOADS)
    if "latency_of" in defaults and "latency_of" not in assumption and has_latency:
        _put(result, defaults, "latency_of", defaults["latency_of"])
    return result


def apply_defaults(root: MarkedDict) -> MarkedDict:
    """The scenario with `defaults` merged into every assumption (the input is not changed)."""
    defaults, assumptions = root.get("defaults"), root.get("assumptions")
    if not isinstance(defaults, dict) or not isinstance(assumptions, list):
        return root
    merged: MarkedList = new_list(assumptions.mark)
    for item, mark in zip(assumptions, assumptions.item_marks, strict=True):
        merged.append(merge_assumption(item, defaults) if isinstance(item, dict) else item)
        merged.item_marks.append(mark)
    result = deep_merge(new_dict(root.mark), root)
    _put(result, root, "assumptions", merged)
    return result
