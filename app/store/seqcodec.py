"""A compact encoding of a set of fact sequence numbers: sorted deltas as varints, zlib'd."""

from __future__ import annotations

import zlib
from collections.abc import Iterable


def encode(seqs: Iterable[int]) -> bytes:
    """The sorted, distinct numbers as compressed delta varints."""
    out = bytearray()
    prev = 0
    for s in sorted(set(seqs)):
        delta = s - prev
        prev = s
        while delta >= 0x80:
            out.append((delta & 0x7F) | 0x80)
            delta >>= 7
        out.append(delta)
    return zlib.compress(bytes(out), 9)


def decode(blob: bytes) -> list[int]:
    """The numbers `encode` was given, sorted."""
    raw = zlib.decompress(blob)
    out: list[int] = []
    cur = shift = value = 0
    for b in raw:
        value |= (b & 0x7F) << shift
        if b & 0x80:
            shift += 7
            continue
        cur += value
        out.append(cur)
        value = shift = 0
    return out
