"""JSON that keeps numbers exact: decimals are written as JSON numbers and read back as Decimal."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

_encode_str = json.encoder.encode_basestring


def dumps(value: Any) -> str:
    """Compact JSON with sorted keys; a Decimal is written digit for digit."""
    if isinstance(value, str):
        return str(_encode_str(value))
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"not a finite number: {value}")
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return f'"{value.isoformat()}"'
    if isinstance(value, dict):
        items = sorted(value.items())
        return "{" + ",".join(f"{_encode_str(str(k))}:{dumps(v)}" for k, v in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_int=Decimal)


def loads(text: str | bytes) -> Any:
    """JSON with every number read as an exact Decimal (as the engine expects)."""
    return _DECODER.decode(text.decode() if isinstance(text, bytes) else text)


def canonical(value: Any) -> str:
    """Like `dumps`, but numbers normalised (97.0 and 97 are the same content)."""
    return dumps(_normal(value))


def _normal(value: Any) -> Any:
    if isinstance(value, Decimal):
        n = value.normalize()
        return n.quantize(Decimal(1)) if n == n.to_integral_value() else n
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v) for v in value]
    return value
