"""A ZIP written and read as a stream, so a batch of a million records never sits in memory.

Writing: ``ZipProducer`` is a file-like *reader* whose bytes are the ZIP, built on demand as
``pyrage.encrypt_io`` asks for more (no thread, no plaintext file). Members are written with
data descriptors and ZIP64 sizes, as ``zipfile`` does on an unseekable stream, so the result
is an ordinary ZIP any tool opens.

Reading: ``ZipStreamReader`` is a file-like *writer* that ``pyrage.decrypt_io`` pushes the
plaintext into; it walks the local headers in order, inflates each member in bounded pieces
and hands the bytes to a handler, checking each member's CRC-32 and sizes. Only deflated
members are accepted (a stored member with a data descriptor cannot be delimited safely).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Protocol

_LOCAL = b"PK\x03\x04"
_CENTRAL = b"PK\x01\x02"
_END = b"PK\x05\x06"
_END64 = b"PK\x06\x06"
_DESCRIPTOR = b"PK\x07\x08"
_CHUNK = 1 << 20
#: a member may inflate to this many bytes before its compression ratio is checked
_RATIO_FREE = 64 << 20
#: deflate reaches ~1000:1 only on crafted input; JSON Lines of records stay far below this
_MAX_RATIO = 200
_EPOCH = (1980, 1, 1, 0, 0, 0)


class ZipStreamError(ValueError):
    """The plaintext is not a well-formed batch ZIP."""


class _Sink:
    """What ``zipfile`` writes into: a growing buffer the producer hands out."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def write(self, data: bytes) -> int:
        self.buf += data
        return len(data)

    def flush(self) -> None:
        return None


Member = tuple[str, Iterable[bytes]]


def zip_steps(
    sink: _Sink,
    members: Iterable[Member],
    trailer: Callable[[], list[tuple[str, bytes]]],
    *,
    level: int = 1,
) -> Iterator[None]:
    """Write ``members`` (name, chunks) then ``trailer()``'s members; yield after each chunk."""
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as zf:
        for name, chunks in members:
            with zf.open(_info(name, level), "w", force_zip64=True) as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    if len(sink.buf) >= _CHUNK:
                        yield
            yield
        for name, data in trailer():
            with zf.open(_info(name, level), "w", force_zip64=True) as handle:
                handle.write(data)
            yield
    yield


def _info(name: str, level: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, _EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    # the attribute was renamed in 3.13; ZipInfo has __slots__, so set whichever exists
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", level)
    return info


class ZipProducer:
    """A reader over ZIP bytes produced by ``steps`` as they are asked for.

    An exception raised while producing (a cancel, a database error) is kept in ``error`` so
    the caller can re-raise the original after the encrypting library wraps it.
    """

    def __init__(self, sink: _Sink, steps: Iterator[None]) -> None:
        self._sink = sink
        self._steps = steps
        self._done = False
        self.error: BaseException | None = None

    def read(self, n: int = -1) -> bytes:
        buf = self._sink.buf
        try:
            while not self._done and (n < 0 or len(buf) < n):
                try:
                    next(self._steps)
                except StopIteration:
                    self._done = True
        except BaseException as exc:
            self.error = exc
            raise
        if n < 0 or n >= len(buf):
            out = bytes(buf)
            buf.clear()
        else:
            out = bytes(buf[:n])
            del buf[:n]
        return out


def producer(
    members: Iterable[Member], trailer: Callable[[], list[tuple[str, bytes]]], level: int = 1
) -> ZipProducer:
    sink = _Sink()
    return ZipProducer(sink, zip_steps(sink, members, trailer, level=level))


class MemberHandler(Protocol):
    def begin(self, name: str) -> None: ...
    def data(self, chunk: bytes) -> None: ...
    def end(self, name: str, size: int) -> None: ...


class ZipStreamReader:
    """Push decrypted ZIP bytes in with ``write``; call ``close`` at the end of the stream."""

    def __init__(self, handler: MemberHandler, *, max_member_bytes: int = 1 << 36) -> None:
        self._handler = handler
        self._buf = bytearray()
        self._eof = False
        self._finished = False
        self._max = max_member_bytes
        self.members: list[str] = []
        self._gen = self._parse()
        next(self._gen)

    # file-like side
    def write(self, data: bytes) -> int:
        if self._finished:
            return len(data)  # central directory: nothing in it we need
        self._buf += data
        self._resume()
        return len(data)

    def flush(self) -> None:
        return None

    def close(self) -> None:
        """End of stream: a ZIP that stopped before its central directory is truncated."""
        self._eof = True
        if not self._finished:
            self._resume()
        if not self._finished:
            raise ZipStreamError("the batch ends before its last member")

    def _resume(self) -> None:
        try:
            next(self._gen)
        except StopIteration:
            self._finished = True

    # parser side (a generator that yields whenever it needs more bytes)
    def _take(self, n: int) -> Generator[None, None, bytes]:
        while len(self._buf) < n:
            if self._eof:
                raise ZipStreamError("the batch ends in the middle of a member")
            yield
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def _parse(self) -> Generator[None, None, None]:
        yield  # primed by __init__
        while True:
            signature = yield from self._take(4)
            if signature in (_CENTRAL, _END, _END64):
                return
            if signature != _LOCAL:
                raise ZipStreamError("unexpected bytes between members")
            header = yield from self._take(26)
            (_v, flags, method, _t, _d, _crc, _cs, _us, name_len, extra_len) = struct.unpack(
                "<HHHHHIIIHH", header
            )
            name = (yield from self._take(name_len)).decode("utf-8", "replace")
            extra = yield from self._take(extra_len)
            if flags & 0x1 or method != zipfile.ZIP_DEFLATED or not flags & 0x8:
                raise ZipStreamError(f"member {name!r} is not a streamed, deflated member")
            zip64 = _has_zip64(extra)
            self.members.append(name)
            self._handler.begin(name)
            inflater = zlib.decompressobj(-15)
            crc = size = consumed = 0
            while not inflater.eof:
                if not self._buf:
                    if self._eof:
                        raise ZipStreamError(f"member {name!r} is cut short")
                    yield
                    continue
                data = bytes(self._buf)
                self._buf.clear()
                consumed += len(data)
                while data and not inflater.eof:
                    try:
                        out = inflater.decompress(data, _CHUNK)
                    except zlib.error:
                        raise ZipStreamError(f"member {name!r} is not valid deflate data") from None
                    data = inflater.unconsumed_tail
                    if out:
                        size += len(out)
                        if size > self._max:
                            raise ZipStreamError(f"member {name!r} is too large")
                        if size > _RATIO_FREE and size > _MAX_RATIO * max(consumed, 1):
                            raise ZipStreamError(f"member {name!r} inflates too far (a zip bomb?)")
                        crc = zlib.crc32(out, crc)
                        self._handler.data(out)
                if inflater.eof:
                    self._buf[:0] = inflater.unused_data
                    consumed -= len(inflater.unused_data) + len(data)
            first = yield from self._take(4)
            if first == _DESCRIPTOR:
                first = yield from self._take(4)
            rest = yield from self._take(16 if zip64 else 8)
            (crc_read,) = struct.unpack("<I", first)
            csize, usize = struct.unpack("<QQ" if zip64 else "<II", rest)
            if crc_read != crc or usize != size or csize != consumed:
                raise ZipStreamError(f"member {name!r} fails its CRC or size check")
            self._handler.end(name, size)


def _has_zip64(extra: bytes) -> bool:
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack("<HH", extra[at : at + 4])
        if kind == 0x0001:
            return True
        at += 4 + length
    return False
