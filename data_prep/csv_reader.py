"""The one chunked reader of the converters' CSV inputs.

A file is plain text, gzip, bzip2, xz, or a zip archive holding one ``.csv`` (recognised by its
first bytes, or by its suffix).  :func:`blocks` reads it in blocks of whole records, each with the
number of its first line, so that a converter parses a block with pandas and can name the file
and line of what is wrong, with memory set by the block size rather than the file size.

A record ends at a ``b"\\n"`` (a ``"\\r"`` before it is left to the parser).  With ``quoting``
it ends only outside double quotes, so quoted fields may hold commas and line breaks: in
well-formed CSV (quotes doubled inside quoted fields) that is where the running count of ``"`` is
even.  A UTF-8 byte-order mark at the start of the file is dropped.  A damaged compressed file,
a record that never ends and an unclosed quote are ``ValueError`` naming the file and line.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
import zlib
from pathlib import Path
from typing import Iterator, List, NamedTuple, Optional, Tuple

import numpy as np

DEFAULT_BLOCK_BYTES = 4 << 20
# a record longer than this many blocks (of at least 64 KiB) means the file is not a table
LONGEST_RECORD_BLOCKS = 64

_BOM = b"\xef\xbb\xbf"
_MAGIC = (("gzip", b"\x1f\x8b"), ("bzip2", b"BZh"), ("xz", b"\xfd7zXZ\x00"),
          ("zip", b"PK\x03\x04"))
_SUFFIXES = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zip": "zip"}
_OPENERS = {"gzip": gzip.open, "bzip2": bz2.open, "xz": lzma.open}
# what a damaged compressed stream raises while it is read
_DAMAGED = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)
# the bytes of a blank line, as pandas skips them (skip_blank_lines)
_BLANK = np.zeros(256, bool)
_BLANK[[ord(" "), ord("\t"), ord("\r"), ord("\n")]] = True


class Block(NamedTuple):
    """Whole records of a file: ``data`` (each record ends with ``b"\\n"``) starts on line
    ``line`` (1-based)."""
    line: int
    data: bytes


def blocks(path, *, block_bytes: int = DEFAULT_BLOCK_BYTES, records: Optional[int] = None,
           quoting: bool = False, skip_first: bool = False, describe: str = "a CSV file",
           fix: str = "download it again") -> Iterator[Block]:
    """Read ``path`` in blocks of whole records.

    Without ``records`` a block is what about ``block_bytes`` of decompressed text holds; with
    it, a block holds exactly ``records`` non-blank records (the last one fewer), however many
    bytes that takes.  ``skip_first`` leaves out the file's first record (a header), blank or
    not.  A 0-byte file has no blocks.  ``describe`` names what the file should be ("this is
    not {describe}") and ``fix`` what to do about a damaged file.
    """
    path = Path(path)
    stream, kind = _open(path, fix)
    if stream is None:
        return
    with stream:
        pieces = _pieces(stream, kind, path, block_bytes, quoting, describe, fix)
        if skip_first:
            pieces = _without_first_record(pieces, quoting)
        yield from pieces if records is None else _regroup(pieces, records, quoting)


def records(block: Block, quoting: bool = False) -> List[Tuple[int, bytes]]:
    """The non-blank records of a block: (number of its first line, bytes ending with
    ``b"\\n"``)."""
    data = block.data
    ends = record_ends(data, quoting)
    starts = np.r_[0, ends[:-1]]
    lines = block.line + np.r_[0, np.cumsum(np.frombuffer(data, np.uint8) == 10)][starts]
    solid = np.flatnonzero(~blank_records(data, ends))
    return [(int(lines[i]), data[starts[i]:ends[i]]) for i in solid]


def decode(record: bytes, path: Path, line: int, expected: str) -> str:
    """A record as text; bytes that are not UTF-8 are a ValueError naming the line."""
    try:
        return record.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: line {line} is not UTF-8 text ({exc}); expected {expected}"
                         ) from None


def record_ends(data: bytes, quoting: bool = False) -> np.ndarray:
    """Offsets just after each record's final ``b"\\n"`` in ``data`` (which starts a record)."""
    buf = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(buf == 10)
    if quoting and data.find(b'"') >= 0:
        # the parity of the running count of '"' (uint8 wraps at 256, which keeps parity)
        inside = np.cumsum(buf == 34, dtype=np.uint8) & 1
        ends = ends[inside[ends] == 0]
    return ends + 1


def blank_records(data: bytes, ends: np.ndarray) -> np.ndarray:
    """Per record (ending at ``ends``): does it hold nothing but blanks?"""
    solid = np.cumsum(~_BLANK[np.frombuffer(data, np.uint8)], dtype=np.int64)[ends - 1]
    return solid == np.r_[0, solid[:-1]]


# --- opening --------------------------------------------------------------------------------------

def _open(path: Path, fix: str):
    """-> (binary stream of the decompressed text, kind), or (None, None) for a 0-byte file."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from None
    if not head:
        return None, None
    kind = next((k for k, magic in _MAGIC if head.startswith(magic)), None)
    claimed = _SUFFIXES.get(path.suffix.lower())
    if claimed == "zip" or kind == "zip":
        return _ZipMember(path, fix), "zip"
    if kind is None and claimed is not None:
        raise ValueError(f"{path}: not a {claimed} file (it does not start with the {claimed} "
                         f"magic bytes); {fix}")
    if kind is None:
        return open(path, "rb"), "text"
    return _OPENERS[kind](path, "rb"), kind


class _ZipMember:
    """The one ``.csv`` of a zip archive (or its only file), closing the archive with it."""

    def __init__(self, path: Path, fix: str):
        try:
            self.archive = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ValueError(f"{path} is not a readable zip archive ({exc}); {fix}") from None
        files = [i.filename for i in self.archive.infolist() if not i.is_dir()]
        tables = [n for n in files if n.lower().endswith(".csv")]
        if len(tables) != 1 and not (not tables and len(files) == 1):
            self.archive.close()
            raise ValueError(f"{path} holds {len(tables)} .csv files ({tables[:5]}); expected "
                             "exactly one; unzip it and pass the .csv")
        self.stream = self.archive.open(tables[0] if tables else files[0])

    def read(self, size: int) -> bytes:
        return self.stream.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.close()
        self.archive.close()
        return False


# --- splitting into records -----------------------------------------------------------------------

def _pieces(stream, kind: str, path: Path, block_bytes: int, quoting: bool, describe: str,
            fix: str) -> Iterator[Block]:
    """Blocks of about ``block_bytes``: each read cut after its last complete record."""
    line = 1
    rest = b""
    first = True
    while True:
        try:
            data = stream.read(max(block_bytes, len(_BOM)) if first else block_bytes)
        except _DAMAGED as exc:
            raise ValueError(f"{path}: truncated or corrupt {kind} data after line {line - 1} "
                             f"({exc}); {fix}") from None
        if first and data.startswith(_BOM):
            data = data[len(_BOM):]
        first = False
        if not data:
            break
        data = rest + data if rest else data
        cut = _last_record_end(data, quoting)
        if cut == 0:
            rest = data
            if len(rest) > LONGEST_RECORD_BLOCKS * max(block_bytes, 1 << 16):
                _unclosed_quote(rest, quoting, path, line)
                raise ValueError(f"{path}: line {line} is longer than {len(rest)} bytes; this "
                                 f"is not {describe}")
            continue
        block, rest = data[:cut], data[cut:]
        yield Block(line, block)
        line += block.count(b"\n")
    if rest:
        _unclosed_quote(rest, quoting, path, line)
        yield Block(line, rest + b"\n")


def _unclosed_quote(rest: bytes, quoting: bool, path: Path, line: int) -> None:
    if quoting and rest.count(b'"') % 2:
        raise ValueError(f"{path}: the quoted field starting on line {line} is never closed (odd "
                         "number of '\"'); fix the quoting of that row")


def _last_record_end(data: bytes, quoting: bool) -> int:
    if not quoting or data.find(b'"') < 0:
        return data.rfind(b"\n") + 1
    ends = record_ends(data, quoting)
    return int(ends[-1]) if len(ends) else 0


def _without_first_record(pieces: Iterator[Block], quoting: bool) -> Iterator[Block]:
    first = next(pieces, None)
    if first is not None:
        cut = int(record_ends(first.data, quoting)[0])
        if cut < len(first.data):
            yield Block(first.line + first.data.count(b"\n", 0, cut), first.data[cut:])
        yield from pieces


def _regroup(pieces: Iterator[Block], size: int, quoting: bool) -> Iterator[Block]:
    """Re-cut blocks into blocks of ``size`` non-blank records (blank records go along;
    trailing ones are dropped)."""
    pending: List[bytes] = []
    count = first_line = 0
    for piece in pieces:
        data = piece.data
        ends = record_ends(data, quoting)
        solid = np.flatnonzero(~blank_records(data, ends))
        offset = taken = 0
        while count + len(solid) - taken >= size:
            taken += size - count
            cut = int(ends[solid[taken - 1]])
            if not pending:
                first_line = piece.line + data.count(b"\n", 0, offset)
            pending.append(data[offset:cut])
            yield Block(first_line, b"".join(pending))
            pending, count, offset = [], 0, cut
        if taken < len(solid) or pending:  # a record still to come, or lines to keep counted
            if not pending:
                first_line = piece.line + data.count(b"\n", 0, offset)
            pending.append(data[offset:])
            count += len(solid) - taken
    if pending:
        yield Block(first_line, b"".join(pending))
