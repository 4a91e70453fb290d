"""Option values converted without pydantic.

Typer 0.29 converts every option and argument through a pydantic ``TypeAdapter``; importing
pydantic and building the adapters costs a command ~0.1 s of start-up. The kinds of value the
``nianbao`` commands take (``str``, ``int``, ``Path``, flags and lists of them) are converted here
directly, giving what typer would give; any other value (``"1_000"`` for a year, a path that
cannot be read …) goes to typer's own conversion, so its answers and errors stay the same.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from typer._coercion import RuntimeParam, build_runtime_param
from typer._typing import get_args, get_origin

_PLAIN_INT = re.compile(r"[+-]?[0-9]{1,18}")
_UNCONVERTED = object()


def _plain_str(value: Any) -> Any:
    return value if isinstance(value, str) else _UNCONVERTED


def _plain_int(value: Any) -> Any:
    if type(value) is int:
        return value
    if isinstance(value, str) and _PLAIN_INT.fullmatch(value):
        return int(value)
    return _UNCONVERTED


def _plain_path(value: Any) -> Any:
    """``Path(value)``, unless typer would refuse it: it refuses a path that exists and cannot
    be read (its ``readable`` check), which typer's own conversion then reports."""
    if isinstance(value, Path):
        path = value
    elif isinstance(value, str) and value and "\0" not in value:
        path = Path(value)
    else:
        return _UNCONVERTED
    try:
        os.stat(path)
    except OSError:
        return path
    return path if os.access(path, os.R_OK) else _UNCONVERTED


def _plain_bool(value: Any) -> Any:
    return value if isinstance(value, bool) else _UNCONVERTED


_CONVERTERS = {str: _plain_str, int: _plain_int, Path: _plain_path, bool: _plain_bool}


def _plain_parameter_info(info: Any) -> bool:
    """No option that changes typer's conversion of the value (ranges, checks, parsers)."""
    return (info.parser is None and getattr(info, "click_type", None) is None and info.min is None and info.max is None
            and not info.clamp and not info.exists and info.file_okay and info.dir_okay and info.readable
            and not info.writable and not info.resolve_path and not info.allow_dash and info.path_type is None)


@dataclass(frozen=True)
class PlainRuntimeParam(RuntimeParam):
    """Converts plain values itself; hands anything else to typer's conversion."""

    converter: Any = None
    many: bool = False
    fallback: list = field(default_factory=list)  # typer's own conversion, made when first needed

    def _typer_coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if not self.fallback:
            self.fallback.append(build_runtime_param(param.type_descriptor))
        return self.fallback[0]._coerce_value(value, param=param, ctx=ctx)

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        if self.many:
            if isinstance(value, (list, tuple)):
                converted = [self.converter(item) for item in value]
                if not any(item is _UNCONVERTED for item in converted):
                    return converted
            return self._typer_coerce(value, param, ctx)
        converted = self.converter(value)
        return self._typer_coerce(value, param, ctx) if converted is _UNCONVERTED else converted


def plain_runtime_param(param: Any) -> Optional[PlainRuntimeParam]:
    """A :class:`PlainRuntimeParam` for a typer parameter of a plain kind, else None."""
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or descriptor.file_annotation is not None \
            or not _plain_parameter_info(descriptor.parameter_info):
        return None
    annotation, many = descriptor.annotation, False
    if get_origin(annotation) is list and len(get_args(annotation)) == 1:
        annotation, many = get_args(annotation)[0], True
    converter = _CONVERTERS.get(annotation)
    if converter is None:
        return None
    return PlainRuntimeParam(parameter_info=descriptor.parameter_info, annotation=descriptor.annotation,
                             converter=converter, many=many)


def use_plain_conversion(params: Any) -> None:
    """Let each parameter of a plain kind convert its value without pydantic."""
    for param in params:
        if getattr(param, "_runtime_param", False) is None:
            runtime = plain_runtime_param(param)
            if runtime is not None:
                param._runtime_param = runtime
