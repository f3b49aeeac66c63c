"""A large facts file read by two processes: this one reads its first part, a forked one the rest.

The typed reader (`dsl.facts.typed`) decodes and checks every line on its own, so the file's
lines can be read in two parts: the byte ranges meet at the beginning of a line, and the second
part's lines are numbered on from the first's. The child is forked once the reader is built (the
compiled ruleset and the validator's tables are shared copy-on-write; nothing is sent to it). It
reads its part a chunk at a time and writes each chunk's facts as columns (one pickle of eight
lists: far cheaper to write and to read than the facts themselves) to an anonymous file, so it
never holds more than a chunk; then a last word: all read, or declined. This process reads its
own part, then the child's facts from the file. The result is the reader's over the whole file,
fact for fact: the same facts in the same order, or None where any line needs the detailed
checks, which then read the whole file line by line in this process as with one process, so
every problem is found and worded as before.

Asked to certify (`read_certified`: `jixiao score` from files), the child, once its facts are
written, reads the whole file once more for the checks across facts (`dsl.facts.certify`) while
this process goes on, and says its word on the same pipe that said its facts were written; the
`Certificate` waits for the word, or stops and reaps the child when it is no longer wanted.
Certified, the reading may also build only the facts a period's evaluation reads
(`dsl.facts.typed.Keep`): both processes still check every line; the child sends the line
numbers of the facts it kept; wherever the word is not to come, every fact is built.

One process where that is cheaper or not safe: one CPU, no `fork`, a small file, threads
running (a fork copies one thread and whatever locks the others hold), or `JIXIAO_PROCESSES=1`.
A child that fails or is killed costs its part read again here; a child is never left behind:
it is killed and reaped whatever ends this process's reading (an error, Ctrl-C).
"""

from __future__ import annotations

import os
import pickle
import signal
import tempfile
import threading
import weakref
from contextlib import suppress
from itertools import repeat
from operator import add, attrgetter
from pathlib import Path
from typing import IO, Any, NoReturn

from dsl.facts.certify import clean
from dsl.facts.index import Indexer
from dsl.facts.records import Fact
from dsl.facts.typed import Keep, TypedReader

MIN_SPLIT = 24 << 20  # bytes (~200,000 facts): below, one process reads as fast
# The share of the file read here: the child also turns its facts into columns and pickles them
# (~0.6 µs a fact against ~1.4 µs to read one), and this process unpickles them (~0.4 µs).
SHARE = 0.58
# Every field but the last, the line: the child's lines are numbered one after the other
# (a blank line would have sent the file line by line), so the numbers are not sent.
assert Fact.__struct_fields__[-1] == "line"
_COLUMNS = tuple(attrgetter(name) for name in Fact.__struct_fields__[:-1])
_LINE = attrgetter("line")
# The child's chunks: what it holds at once (the bytes, their structs and facts, the columns).
# Its peak resident memory (VmHWM) at 1M facts: 106-112 MB with 8 MB chunks, 69 MB with 4 MB,
# 49 MB with 2 MB, for the same CPU; below 4 MB this process's share grows (each chunk brings
# its own copies of the subjects, dates and data).
CHILD_CHUNK = 4 << 20
_DONE = "done"  # the child's last word when it read its whole part (None: it declined)
_WRITTEN = b"w"  # said on the pipe: the child's facts are written
_CLEAN = b"1"  # said on the pipe: the file is certified clean (`dsl.facts.certify`)


def processes() -> int:
    """How many processes may read a file: 2 where a fork is possible and pays, else 1."""
    if os.environ.get("JIXIAO_PROCESSES") == "1" or not hasattr(os, "fork"):
        return 1
    if threading.active_count() > 1:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 2 if cpus >= 2 else 1


def read_facts(reader: TypedReader, path: Path, share: float = SHARE) -> list[Fact] | None:
    """`reader.read(path)`, the file's second part read by a forked process where it pays."""
    return read_certified(reader, path, share, certify=False)[0]


def read_certified(
    reader: TypedReader,
    path: Path,
    share: float = SHARE,
    certify: bool = True,
    keep: Keep | None = None,
    indexer: Indexer | None = None,
) -> tuple[list[Fact] | None, Certificate | None]:
    """`read_facts`, and, where a child read part of the file (and `certify`), its word to
    come on the checks across the file's facts (`dsl.facts.certify`); else None.

    With `keep` (and `certify`), the facts it does not keep are checked but not built, where
    a child certifies the file; without a certificate, every fact is built. With `indexer`
    (and `certify`), each chunk of facts built is added to it as it comes, in order, where a
    child certifies the file; without a certificate, it is to be dropped."""
    assert (keep is None and indexer is None) or certify
    size = path.stat().st_size
    cut = split_point(path, int(size * share)) if size >= MIN_SPLIT and processes() > 1 else 0
    if not cut:
        return reader.read(path), None
    return read_in_two(reader, path, cut, certify, keep, indexer)


def split_point(path: Path, near: int) -> int:
    """The first beginning of a line at or after `near` (0 if there is none before the end)."""
    if near <= 0:
        return 0
    with path.open("rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        fh.seek(near - 1)
        while block := fh.read(1 << 16):
            at = block.find(b"\n")
            if at >= 0:
                cut = fh.tell() - len(block) + at + 1
                return cut if cut < size else 0
    return 0


def read_in_two(
    reader: TypedReader,
    path: Path,
    cut: int,
    certify: bool = False,
    keep: Keep | None = None,
    indexer: Indexer | None = None,
) -> tuple[list[Fact] | None, Certificate | None]:
    """The facts of the bytes before `cut` read here, those of the rest by a forked child;
    with `certify`, the child then certifies the whole file (its `Certificate`); with `keep`
    too, both build only the facts it keeps (the child sends their line numbers); with
    `indexer`, each chunk of facts is added to it here as it is built (`read_certified`)."""
    try:
        spool = _spool()
        said, say = os.pipe()  # the child's words: its facts written, then its certificate
    except OSError:  # no anonymous file or pipe to be had: one process
        return reader.read(path), None
    before = signature(path)
    with spool, open(said, "rb", buffering=0) as words:
        parent = os.getpid()
        reader.keep = keep  # (the child's copy too)
        try:
            pid = os.fork()
        except OSError:  # no process to be had (a limit, memory): one process
            os.close(say)
            reader.keep = None
            return reader.read(path), None
        if pid == 0:  # the child: never returns
            end_with_parent(parent)
            _child(reader, path, cut, spool, say, before if certify else None)
        os.close(say)  # (the child's end: the pipe ends when the child does)
        cert: Certificate | None = None
        try:
            first = _read_part(reader, path, cut, indexer)
            if first is None:  # the whole file goes line by line: the child's part is not needed
                return None, None
            written = words.read(1) == _WRITTEN  # (nothing: the child ended first)
            spool.seek(0)
            built, lines = len(first), reader.lines
            got = _received(spool, first, lines, indexer) if written else False
            if got is False and keep is not None:  # the child failed: every fact, read here
                reader.keep = None
                return reader.read(path), None
            if got is False:  # the child failed: its part read here
                del first[built:]
                rest = reader.read(path, cut)
                if rest is None:
                    return None, None
                for f in rest:
                    f.line += lines
                first.extend(rest)
                return first, None
            if not got:
                return None, None
            if certify:
                cert = Certificate(pid, os.dup(words.fileno()))
            return first, cert
        finally:
            reader.keep = None
            if cert is None:
                _end(pid)


class Certificate:
    """The child's word, to come, on the checks across the file's facts (`dsl.facts.certify`).

    `clean()` waits for it: True only when the child found the file clean; False when it was
    unsure, failed or was killed. The child is reaped then, or killed when the word is no
    longer wanted (`close`, or this object dropped)."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd = pid, fd
        self._word: bool | None = None
        self._finalizer = weakref.finalize(self, _close, pid, fd)

    def clean(self) -> bool:
        """Waits for the child's word."""
        if self._word is None:
            try:
                self._word = os.read(self.fd, 1) == _CLEAN
            except OSError:
                self._word = False
            self.close()
        return self._word

    def close(self) -> None:
        """The child stopped (if still at work) and reaped."""
        self._finalizer()


def signature(path: Path) -> tuple[int, ...]:
    """What changes when a file is written: its identity, size and time of change."""
    st = os.stat(path)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _close(pid: int, fd: int) -> None:
    with suppress(OSError):
        os.close(fd)
    _end(pid)


def _child(
    reader: TypedReader,
    path: Path,
    cut: int,
    spool: IO[bytes],
    say: int,
    before: tuple[int, ...] | None,
) -> NoReturn:
    """Reads the facts from `cut` on and writes them to `spool`, a chunk at a time, says so on
    `say`; then, given the file's `signature` when the reading began, certifies the whole
    file and says its word; exits."""
    code = 1
    try:
        pickler = pickle.Pickler(spool, protocol=pickle.HIGHEST_PROTOCOL)
        dump = pickler.dump

        # With `keep`, the facts kept are not one a line: their numbers are sent.
        columns = _COLUMNS if reader.keep is None else (*_COLUMNS, _LINE)

        def each(facts: list[Fact]) -> None:
            dump([list(map(column, facts)) for column in columns])
            # The memo holds every object written (ids, numbers): a chunk's alone, not all.
            pickler.clear_memo()

        got = reader.read(path, cut, each=each, chunk_size=CHILD_CHUNK)
        dump(_DONE if got is not None else None)
        spool.flush()
        os.write(say, _WRITTEN)
        if before is not None and got is not None:
            # Of the file both processes read: a file changed meanwhile is not vouched for.
            v = reader.v
            ok = (
                signature(path) == before
                and clean(path, v.types, v.single, v.period_of, CHILD_CHUNK)
                and signature(path) == before
            )
            os.write(say, _CLEAN if ok else b"0")
        code = 0
    except BaseException:  # Ctrl-C, a full disk: the parent reads the part itself or stops
        code = 1
    finally:
        os._exit(code)


def end_with_parent(parent: int) -> None:
    """In a child process: killed when its parent (the process `parent`) ends, however it
    ends (SIGKILL too, which runs no `finally`). Linux's `prctl(PR_SET_PDEATHSIG)`;
    elsewhere the child ends when its work is done."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before that took hold
        os._exit(1)


def _read_part(
    reader: TypedReader, path: Path, cut: int, indexer: Indexer | None
) -> list[Fact] | None:
    """The facts of the bytes before `cut` (`reader.read`), each chunk's added to `indexer`
    as it is built."""
    if indexer is None:
        return reader.read(path, 0, cut)
    out: list[Fact] = []

    def each(facts: list[Fact]) -> None:
        out.extend(facts)
        indexer.add(facts)

    return out if reader.read(path, 0, cut, each=each) is not None else None


def _received(
    spool: IO[bytes], into: list[Fact], lines: int, indexer: Indexer | None = None
) -> bool | None:
    """Appends the child's facts, numbered on after the `lines` of the first part, a chunk
    at a time (each added to `indexer` too); True when it read its whole part, None when it
    declined, False when what it wrote is not whole."""
    try:
        while True:
            # One unpickler a chunk, as the child's memo starts afresh with each chunk (from
            # protocol 4 on, where an object is kept in the memo is implicit: its order).
            got: Any = pickle.Unpickler(spool).load()
            if type(got) is not list:
                return True if got == _DONE else None
            if len(got) > len(_COLUMNS):  # the facts kept, with their numbers in the part
                numbers = map(add, got.pop(), repeat(lines))
                chunk = list(map(Fact, *got, numbers))
            else:
                n = len(into)  # (one fact a line, in either part)
                chunk = list(map(Fact, *got, range(n + 1, n + 1 + len(got[0]))))
            into.extend(chunk)
            if indexer is not None:
                indexer.add(chunk)
    except Exception:  # cut short
        return False


def _spool() -> IO[bytes]:
    """An anonymous file both processes see (in memory where the system has `memfd_create`)."""
    if hasattr(os, "memfd_create"):
        try:
            return os.fdopen(os.memfd_create("jixiao-facts", os.MFD_CLOEXEC), "w+b")
        except OSError:  # refused (a sandbox): a file in the temporary folder
            pass
    return tempfile.TemporaryFile()


def _end(pid: int) -> None:
    """Kills and reaps a child whose part is no longer wanted."""
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with suppress(ChildProcessError):  # reaped already
        os.waitpid(pid, 0)
