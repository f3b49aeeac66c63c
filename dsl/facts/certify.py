"""The checks across a facts file's facts, certified by a second process while this one scores.

Once a file's every line has passed the typed reader (`dsl.facts.typed`), what is left to check
is across facts (`dsl.facts.validate.FactValidator.validate_read`): no id twice, and what
`dsl.facts.links.link_problems` checks of corrections and single-valued types. That pass runs
over every fact in memory (~0.4 s at a million facts, a set of a million ids built out of cache)
before anything is scored. The reading's child (`dsl.facts.split`) has nothing to do once it
has sent its part, so it reads the whole file once more (from its end: `clean`), decoding a
few keys of each line, and certifies the file while this process indexes and scores; this
process asks for the word before it says anything (`dsl.facts.inputs.Inputs.confirm`).

The certificate is one-sided: `clean()` says True only when the checks in this process would
find no problem; where it is unsure (two ids with the same hash, a correction or a single value
it cannot vouch for, a line it cannot decode) it says False, and this process then runs the
checks itself, which decide and word every problem as before. So a file is never accepted
here that the checks would refuse, and the problems found are always the checks' own.

Memory: the ids are not kept, only their hashes, a chunk of lines at a time, in 256 small
arrays (8 bytes an id); the corrections and the single-valued facts are kept whole (thousands).
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Set
from operator import attrgetter
from pathlib import Path
from typing import Any, Union

import msgspec

from dsl.facts.typed import _chunks

_BUCKETS = 256  # the hashes are checked bucket by bucket: small sets, in cache
_ID = attrgetter("id")
Decode = Callable[[bytes], list[Any]]


def _decoder(types: Iterable[str], keys: Callable[[str], list[Any]]) -> Decode:
    """Decodes lines into a struct of each fact type (named by its class's `type`) with the
    keys given (the other keys skipped)."""
    structs = []
    for name in types:
        struct = msgspec.defstruct(f"row_{name}", keys(name), tag=name, tag_field="type", gc=False)
        struct.type = name  # type: ignore[attr-defined]
        structs.append(struct)
    return msgspec.json.Decoder(Union[tuple(structs)]).decode_lines  # noqa: UP007  (runtime)


def clean(
    path: Path,
    types: Iterable[str],
    single: Set[str],
    period_of: Callable[[Any], Any],
    chunk_size: int,
) -> bool:
    """True only when the file's facts (every line one that the typed reader accepted) hold no
    id twice and `link_problems` would find nothing (nothing `known` elsewhere, nothing
    rejected, not in recording order); False where that is not certain.

    One pass, from the end of the file to its beginning, decodes each line's id, subject and
    `supersedes` (and a single-valued type's period): a correction is met before the fact it
    corrects when that comes earlier in the file, as it mostly does, and the fact is then
    found in the same pass. What a correction names further on is looked for in a second pass
    over the file, for those alone."""
    keys: list[Any] = [("id", str), ("subject", str), ("supersedes", str | None, None)]
    periodic: list[Any] = [*keys, ("period", str | None, None)]
    types = list(types)
    decode = _decoder(types, lambda name: periodic if name in single else keys)
    buckets = [array("q") for _ in range(_BUCKETS)]
    mask = _BUCKETS - 1
    corrections: dict[str, Any] = {}
    wanted: set[str | None] = set()  # what the corrections met so far name
    found: dict[str, Any] = {}  # the facts they name, by id
    singles: list[Any] = []
    try:
        for chunk in chunks_from_end(path, chunk_size):
            rows = decode(chunk)
            for h in map(hash, map(_ID, rows)):
                buckets[h & mask].append(h)
            for r in [r for r in rows if r.supersedes is not None]:
                if corrections.setdefault(r.id, r) is not r:
                    return False
                wanted.add(r.supersedes)
            if wanted:
                found.update((r.id, r) for r in rows if r.id in wanted)
            singles.extend(r for r in rows if r.type in single)
        for b in buckets:
            if len(set(b)) < len(b):  # the same hash twice: perhaps the same id
                return False
        del buckets
        later = wanted - found.keys()
        if later:  # named before they come: a second pass, for them alone
            for chunk in _chunks(path, 0, None, chunk_size):
                found.update((r.id, r) for r in decode(chunk) if r.id in later)
    except (msgspec.DecodeError, msgspec.ValidationError, OSError):
        return False
    return _corrections_clean(corrections, found) and _singles_clean(
        singles, corrections, period_of
    )


def chunks_from_end(path: Path, size: int) -> Iterator[bytes]:
    """The file's lines in pieces of about `size` bytes (more for a longer line), the last
    piece first; each piece whole lines, in their order."""
    with path.open("rb") as fh:
        end = os.fstat(fh.fileno()).st_size
        while end > 0:
            start = max(0, end - size)
            while True:
                fh.seek(start)
                block = fh.read(end - start)
                if start == 0:
                    yield block
                    return
                # The block's first line began before it: the piece starts after it.
                first = block.find(b"\n") + 1
                if 0 < first < len(block):
                    break
                start = max(0, start - size)  # no whole line in the block: a wider one
            yield block[first:]
            end = start + first


def _corrections_clean(corrections: dict[str, Any], found: dict[str, Any]) -> bool:
    """Each correction names another fact of the file, of its type and subject, and no chain
    of corrections comes back on itself."""
    for r in corrections.values():
        old = found.get(r.supersedes)
        if r.supersedes == r.id or old is None or old.type != r.type or old.subject != r.subject:
            return False
    # No cycle anywhere: each chain is walked once (`done`: chains known to end).
    done: set[str] = set()
    for start in corrections:
        walked: set[str] = set()
        cur: str | None = start
        while cur is not None and cur in corrections and cur not in done:
            if cur in walked:
                return False
            walked.add(cur)
            cur = corrections[cur].supersedes
        done |= walked
    return True


def _singles_clean(
    singles: list[Any], corrections: dict[str, Any], period_of: Callable[[Any], Any]
) -> bool:
    """At most one live fact of each single-valued type per subject and period."""
    dead = {r.supersedes for r in corrections.values()}
    seen: set[tuple[str, str, Any]] = set()
    for r in singles:
        if r.id in dead:
            continue
        period = period_of(r.period) if r.period is not None else None
        if r.period is not None and period is None:
            return False
        key = (r.type, r.subject, period)
        if key in seen:
            return False
        seen.add(key)
    return True
