"""Dataclass configs: defaults in code, optionally a YAML file, then explicit overrides (CLI flags)."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from antseg import checks
from antseg.errors import AntsegInputError

C = TypeVar("C")
COMMAND_LINE = "command line"


def _coerce(value: Any, tp: Any, name: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        tp = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is dict or tp is dict:
        return _coerce_mapping(value, args, name, source)
    try:
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            if isinstance(value, tp):
                return value
            if not isinstance(value, dict):
                raise TypeError(value)
            return _build(tp, value, source, prefix=f"{name}.")
        if origin in (tuple, list):
            seq = value.split(",") if isinstance(value, str) else list(value)
            inner = args[0] if args else str
            out = [_coerce(v, inner, name, source) for v in seq]
            return tuple(out) if origin is tuple else out
        if tp is bool and isinstance(value, str):
            return value.lower() in ("1", "true", "yes", "on")
        if tp is int:  # 2.5 is refused, never truncated
            return _checked(checks.integer, value, name)
        if tp is float:  # NaN and infinity are refused
            return _checked(checks.number, value, name)
        if tp in (str, bool):
            return tp(value)
        if tp is Path:
            return Path(value)
    except _Refused as exc:
        raise AntsegInputError(None if source == COMMAND_LINE else source, str(exc)) from None
    except (TypeError, ValueError):
        raise AntsegInputError(source, f"{name}: cannot use {value!r} as {getattr(tp, '__name__', tp)}") from None
    return value


def _build(cls: type, data: dict, source: str, prefix: str = "") -> Any:
    """A nested config dataclass from a mapping (unknown keys refused, values coerced)."""
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(map(str, data)) - fields)
    if unknown:
        raise AntsegInputError(
            None if source == COMMAND_LINE else source,
            f"unknown option(s) {', '.join(prefix + u for u in unknown)}; valid: {', '.join(sorted(fields))}",
        )
    return cls(**{k: _coerce(v, hints[k], prefix + k, source) for k, v in data.items()})


def _coerce_mapping(value: Any, args: tuple, name: str, source: str) -> dict:
    """A ``dict[K, V]`` field: a mapping (``options: [1, 2]`` is refused), keys and values coerced in turn."""
    if not isinstance(value, dict):
        raise AntsegInputError(
            None if source == COMMAND_LINE else source, f"{name} must be a mapping (KEY: VALUE), got {value!r}"
        )
    kt, vt = args if len(args) == 2 else (Any, Any)
    return {_coerce(k, kt, name, source): _coerce(v, vt, f"{name}.{k}", source) for k, v in value.items()}


class _Refused(ValueError):
    """A value :mod:`antseg.checks` refused (its reason is kept for the message)."""


def _checked(check: Any, value: Any, name: str) -> Any:
    try:
        return check(value, name)
    except AntsegInputError as exc:
        raise _Refused(exc.problem) from None


#: The largest config file read (bytes), and the most values (scalars, lists and mappings, each alias counted
#: again wherever it is used) a config may expand to: a few aliases must not expand to billions ("billion laughs").
MAX_YAML_BYTES = 1 << 20
MAX_YAML_VALUES = 100_000


def _expanded_size(node: yaml.Node, source: str | Path | None, memo: dict[int, int], active: set[int]) -> int:
    key = id(node)
    if key in memo:
        return memo[key]
    if key in active:
        raise AntsegInputError(source, "YAML refers to itself (a recursive alias): not a config")
    active.add(key)
    n = 1
    if isinstance(node, yaml.SequenceNode):
        n += sum(_expanded_size(c, source, memo, active) for c in node.value)
    elif isinstance(node, yaml.MappingNode):
        n += sum(_expanded_size(k, source, memo, active) + _expanded_size(v, source, memo, active)
                 for k, v in node.value)  # fmt: skip
    active.discard(key)
    if n > MAX_YAML_VALUES:
        raise AntsegInputError(source, f"YAML expands to more than {MAX_YAML_VALUES} values (aliases): not a config")
    memo[key] = n
    return n


def parse_yaml(text: str, source: str | Path | None = None) -> Any:
    """``yaml.safe_load`` of ``text``, bounded: at most :data:`MAX_YAML_BYTES` and :data:`MAX_YAML_VALUES` once
    every alias is expanded, no recursive alias, no nesting deeper than Python's stack; else an input error
    naming ``source``."""
    if len(text) > MAX_YAML_BYTES:
        raise AntsegInputError(source, f"YAML is larger than {MAX_YAML_BYTES} bytes: not a config")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None
        _expanded_size(node, source, {}, set())
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AntsegInputError(source, f"unreadable YAML ({type(exc).__name__})") from None
    except RecursionError:
        raise AntsegInputError(source, "YAML is nested too deeply: not a config") from None


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML mapping (bounded as :func:`parse_yaml` says), or an input error naming the file."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise AntsegInputError(path, f"YAML config is larger than {MAX_YAML_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AntsegInputError(path, f"unreadable YAML config ({type(exc).__name__})") from None
    data = parse_yaml(text, path) or {}
    if not isinstance(data, dict):
        raise AntsegInputError(path, "config must be a mapping of option: value")
    return data


def load_config(cls: type[C], path: str | Path | None = None, base: C | None = None, **overrides: Any) -> C:
    """Build config ``cls`` from ``base`` (or its defaults), then the YAML ``path``, then non-None ``overrides``.

    Raises:
        AntsegInputError: unreadable YAML, unknown keys or values of the wrong type.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = dataclasses.asdict(base) if base is not None else {}
    if path is not None:
        data = read_yaml(path)
        unknown = sorted(set(data) - fields)
        if unknown:
            raise AntsegInputError(path, f"unknown option(s): {', '.join(unknown)}; valid: {', '.join(sorted(fields))}")
        values.update({k: _coerce(v, hints[k], k, str(path)) for k, v in data.items()})
    for k, v in overrides.items():
        if v is None:
            continue  # an unset CLI flag never overrides the file or the default
        if k not in fields:
            raise AntsegInputError(None, f"unknown option {k!r}")
        values[k] = _coerce(v, hints[k], k, COMMAND_LINE)
    return cls(**values)


def load_options(cls: type[C], options: dict[str, Any], owner: str) -> C:
    """The typed options (a dataclass) of ``owner`` (an engine) from a mapping: ``--option OWNER.KEY=VALUE`` on the
    command line or a config's ``options``. Unknown keys are refused, listing the valid ones; each value is
    coerced and checked as :func:`load_config` does, and named ``--option OWNER.KEY`` in errors.

    Raises:
        AntsegInputError: an unknown key, or a value of the wrong type or out of range.
    """
    valid = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(map(str, options)) - set(valid))
    if unknown:
        raise AntsegInputError(None, f"unknown {owner} option(s) {', '.join(unknown)}; valid: {', '.join(valid)}")
    hints = typing.get_type_hints(cls)
    return cls(**{k: _coerce(v, hints[k], f"--option {owner}.{k}", COMMAND_LINE) for k, v in options.items()})


def config_to_dict(cfg: Any) -> dict[str, Any]:
    """Plain-YAML-safe dict of a config dataclass (paths and tuples become strings and lists)."""

    def conv(v: Any) -> Any:
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, tuple | list):
            return [conv(x) for x in v]
        return v

    return {k: conv(v) for k, v in dataclasses.asdict(cfg).items()}


def dump_config(cfg: Any, path: str | Path) -> None:
    """Write the resolved config as YAML."""
    Path(path).write_text(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), encoding="utf-8")
