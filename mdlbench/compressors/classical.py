"""Classical codecs through their real libraries. Bits = 8 × the codec's own output, so the
figures match what the command-line tools produce on the same data.

Each codec also states its resource limits (see Compressor): the memory it needs beyond its
buffers (`memory_bytes`, from the libraries' documented or measured figures), and a bounded
decoder for streams from outside (`decompress_bounded`), which stops once the output passes the
length the container's header claims, so a forged frame that declares gigabytes allocates
nothing of the kind. libzpaq has no such decoder and loops for ever on some damaged streams, so
an outside zpaq stream is decoded in a child process with a deadline.
"""

from __future__ import annotations

import bz2
import functools
import lzma
import resource
import subprocess
import sys
import zlib
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import brotli
import lz4.frame
import pyppmd
import zpaq
import zstandard

from .. import limits
from ..coding import varint
from ..errors import CorruptStreamError, UsageError
from ..params import Param
from .base import Compressor, register

MiB = 1 << 20
_CHUNK = MiB


def corrupt(name: str, exc: Exception) -> CorruptStreamError:
    return CorruptStreamError(f"{name}: corrupt or truncated stream ({type(exc).__name__}: {exc})")


def too_long(name: str, limit: int) -> CorruptStreamError:
    return CorruptStreamError(f"{name}: corrupt stream (decodes to more than the {limit:,} B its "
                              f"header claims)")


def truncated(name: str) -> CorruptStreamError:
    return CorruptStreamError(f"{name}: corrupt or truncated stream (ends before its end mark)")


def bounded(name: str, out: bytes, limit: int, finished: bool) -> bytes:
    """The output of a decoder asked for at most limit + 1 bytes: too long, cut off, or whole."""
    if len(out) > limit:
        raise too_long(name, limit)
    if not finished:
        raise truncated(name)
    return out


def exact(name: str, out: bytes, n: int) -> bytes:
    """The output of a decoder whose stream states its length `n`: any other length is damage."""
    if len(out) != n:
        raise CorruptStreamError(f"{name}: corrupt or truncated stream (decodes to "
                                 f"{len(out):,} B, its header says {n:,})")
    return out


class LengthFirst(Compressor):
    """A codec whose stream states the length it decodes to: `decode_within` reads it and
    refuses one over the caller's limit (None: no limit) before decoding, for both decoders."""

    @abstractmethod
    def decode_within(self, blob: bytes, limit: int | None) -> bytes: ...

    def decompress(self, blob: bytes) -> bytes:
        return self.decode_within(blob, None)

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        return self.decode_within(blob, limit)


Errors = tuple[type[Exception], ...]


def whole(name: str, decode: Callable[[bytes], bytes], blob: bytes, errors: Errors) -> bytes:
    """A library's one-shot decode, its failures (`errors`) as one CorruptStreamError."""
    try:
        return decode(blob)
    except errors as e:
        raise corrupt(name, e) from None


Decoders = tuple[Callable[[bytes], bytes], Callable[[], Any], Errors]


class StreamApi(Compressor):
    """A codec whose library decodes whole in one call and, within a limit, through a streaming
    decoder with stdlib zlib's API (`decompress(data, max_length)` and `eof`): `decoders()` names
    both and the exceptions they fail with, and its memory is its buffers plus `overhead`."""

    overhead: ClassVar[int] = 0
    """Bytes the library needs beyond the input, the output and one copy (3 × n)."""

    @abstractmethod
    def decoders(self) -> Decoders: ...

    def decompress(self, blob: bytes) -> bytes:
        decode, _, errors = self.decoders()
        return whole(self.name, decode, blob, errors)

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        """At most limit + 1 bytes through a fresh streaming decoder, checked by `bounded`."""
        _, start, errors = self.decoders()
        try:
            d = start()
            return bounded(self.name, d.decompress(blob, limit + 1), limit, d.eof)
        except errors as e:
            raise corrupt(self.name, e) from None

    def memory_bytes(self, n: int) -> int:
        return 3 * n + self.overhead


ZLIB: Decoders = (zlib.decompress, zlib.decompressobj, (zlib.error,))


@register
class Zstd(Compressor):
    """Zstandard at every setting: fast (negative) levels, 1-22 (20-22 are zstd's --ultra
    levels, which python-zstandard takes as they are), a window log with or without
    long-distance matching, and a dictionary.

    `dict=K` trains a K-byte dictionary and counts its bytes in the bits: a dictionary left
    out of the count would be a free lunch. On a dataset cut into files (`--per-file`) or
    chunks, it is trained once on all of them (`shared`: 1 KiB pieces of every file) and stored
    once, a part of the cell of its own; each file is then a plain zstd frame that names the
    dictionary, as `zstd -D` writes it. A single input trains its dictionary on its own pieces
    and stores it in its stream, as a varint length and its bytes before the frame (on one
    input it rarely pays for itself). A stream without a dictionary is a plain zstd frame,
    exactly what `zstd` writes; one with starts with a byte that no frame starts with (0x00 or
    a length of 256 or more), so any zstd decoder here reads both."""

    _shared: bytes | None = None

    name = "zstd"
    summary = ("Zstandard (python-zstandard): levels -131072..22, long=W long-distance window, "
               "wlog=W window, dict=K self-trained dictionary stored in the stream")
    library = "zstandard"
    params = (
        Param("level", int, 3, "compression level (negative: zstd --fast; 20-22: --ultra)",
              min=-131072, max=22),
        Param("long", int, 0, "window log for long-distance matching (0 = off)", min=0, max=31),
        Param("wlog", int, 0, "window log without long-distance matching (0: the level's)",
              min=0, max=31),
        Param("dict", int, 0, "bytes of dictionary trained on the input and stored in the "
              "stream (0: none)", min=0, max=1 << 22),
    )

    def validate(self) -> None:
        c = self.config
        if c["long"] and c["long"] < 10:
            raise UsageError("zstd: parameter long must be 0 (off) or 10..31")
        if c["wlog"] and c["wlog"] < 10:
            raise UsageError("zstd: parameter wlog must be 0 (the level's) or 10..31")
        if c["long"] and c["wlog"]:
            raise UsageError("zstd: give long=W (with long-distance matching) or wlog=W, not "
                             "both")
        if c["dict"] and c["dict"] < 256:
            raise UsageError("zstd: parameter dict must be 0 (none) or at least 256 bytes")

    def shared(self, units: Sequence[bytes]) -> bytes | None:
        if not self.config["dict"]:
            return None
        return _train_dict([u[i:i + _DICT_PIECE] for u in units
                            for i in range(0, len(u), _DICT_PIECE)], self.config["dict"]) or None

    def use_shared(self, blob: bytes | None) -> None:
        self._shared = blob

    def compress(self, data: bytes) -> bytes:
        level, long, wlog = self.config["level"], self.config["long"], self.config["wlog"]
        kw: dict = {}
        head = b""
        if self._shared:
            kw["dict_data"] = zstandard.ZstdCompressionDict(self._shared)
        elif self.config["dict"]:
            d = _train_dict([data[i:i + _DICT_PIECE] for i in range(0, len(data), _DICT_PIECE)],
                            self.config["dict"])
            head = varint.encode(len(d))
            if d:
                head += d
                kw["dict_data"] = zstandard.ZstdCompressionDict(d)
        if long:
            p = zstandard.ZstdCompressionParameters.from_level(
                level, window_log=long, enable_ldm=True, source_size=len(data)
            )
            return head + zstandard.ZstdCompressor(compression_params=p, **kw).compress(data)
        if wlog:
            p = zstandard.ZstdCompressionParameters.from_level(level, window_log=wlog,
                                                               source_size=len(data))
            return head + zstandard.ZstdCompressor(compression_params=p, **kw).compress(data)
        return head + zstandard.ZstdCompressor(level=level, **kw).compress(data)

    def _frame(self, blob: bytes) -> tuple[dict, bytes]:
        kw, frame = _zstd_dict(blob)
        if self._shared and not kw:
            kw["dict_data"] = zstandard.ZstdCompressionDict(self._shared)
        return kw, frame

    def decompress(self, blob: bytes) -> bytes:
        kw, frame = self._frame(blob)
        try:
            d = zstandard.ZstdDecompressor(max_window_size=2**31, **kw)
            return d.decompress(frame, max_output_size=2**34) if frame else b""
        except zstandard.ZstdError as e:
            raise corrupt(self.name, e) from None

    def memory_bytes(self, n: int) -> int:
        level, long, wlog = self.config["level"], self.config["long"], self.config["wlog"]
        train = 8 * n if self.config["dict"] else 0  # the trainer's copy and suffix arrays
        if long or wlog:  # the encoder shrinks its window to the input (source_size is passed)
            return 3 * n + train + 4 * min(1 << (long or wlog), 2 * n + MiB) + 16 * MiB
        p = zstandard.ZstdCompressionParameters.from_level(level, source_size=max(n, 1))
        return 3 * n + train + p.estimated_compression_context_size()

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        """Read at most limit + 1 bytes, with a window no larger than the claimed length needs
        (mdlbench's encoder shrinks the window to the input), in chunks as they come."""
        window = 1 << min(31, max(10, (max(limit, 1) - 1).bit_length()))
        kw, frame = self._frame(blob)
        try:
            reader = zstandard.ZstdDecompressor(max_window_size=window, **kw).stream_reader(frame)
            chunks, got = [], 0
            while got <= limit and (block := reader.read(min(_CHUNK, limit + 1 - got))):
                chunks.append(block)
                got += len(block)
        except zstandard.ZstdError as e:
            raise corrupt(self.name, e) from None
        return bounded(self.name, b"".join(chunks), limit, True)  # the CRC-32 finds a cut


_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_DICT_PIECE = 1024


def _train_dict(pieces: list[bytes], size: int) -> bytes:
    """A `size`-byte zstd dictionary trained (one thread: deterministic) on 1 KiB pieces of the
    input; b"" when there is too little to train on or the trainer gives less than 256 bytes
    (so the stream's first byte can never be a frame's)."""
    try:
        d = zstandard.train_dictionary(size, pieces, threads=0).as_bytes()
    except zstandard.ZstdError:
        return b""
    return d if len(d) >= 256 else b""


def _zstd_dict(blob: bytes) -> tuple[dict, bytes]:
    """(decompressor keywords, frame): a plain frame, or a stored dictionary and its frame."""
    if not blob or blob[:4] == _ZSTD_MAGIC:
        return {}, blob
    n, pos = varint.decode(blob, 0)
    if n > len(blob) - pos or 0 < n < 256:
        raise CorruptStreamError(f"zstd: corrupt stream (not a zstd frame, nor a dictionary of "
                                 f"{n:,} B in {len(blob) - pos:,})")
    if not n:
        return {}, blob[pos:]
    try:
        d = zstandard.ZstdCompressionDict(blob[pos:pos + n])
        d.dict_id()
    except zstandard.ZstdError as e:
        raise corrupt("zstd", e) from None
    return {"dict_data": d}, blob[pos + n:]


@register
class Brotli(Compressor):
    name = "brotli"
    summary = "Brotli (google/brotli bindings)"
    library = "brotli"
    params = (
        Param("quality", int, 11, "compression quality", min=0, max=11),
        Param("lgwin", int, 24, "window log", min=10, max=24),
    )

    def compress(self, data: bytes) -> bytes:
        return brotli.compress(data, quality=self.config["quality"], lgwin=self.config["lgwin"])

    def decompress(self, blob: bytes) -> bytes:
        return whole(self.name, brotli.decompress, blob, (brotli.error,))

    def memory_bytes(self, n: int) -> int:
        window = 1 << self.config["lgwin"]  # qualities 10-11 keep a binary tree over the window
        return 3 * n + (12 if self.config["quality"] >= 10 else 4) * window + 16 * MiB

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        try:
            d = brotli.Decompressor()
            out = d.process(blob, output_buffer_limit=limit + 1)
            return bounded(self.name, out, limit, d.is_finished())
        except brotli.error as e:
            raise corrupt(self.name, e) from None


@register
class Xz(StreamApi):
    """xz with its filter chains: `filters=delta:4+lzma2` (a delta filter over 4-byte
    elements, for tables of numbers), `x86+lzma2` and the other branch filters (for
    executables), and LZMA2's lc/lp/pb and dictionary size. The .xz container records the
    chain, so any xz decoder reads the stream; the defaults are exactly `xz -6`."""

    name = "xz"
    library = "stdlib"
    summary = "xz / LZMA2 (stdlib lzma), .xz container with CRC64; filter chains, lc/lp/pb, dict"
    params = (
        Param("preset", int, 6, "compression preset", min=0, max=9),
        Param("extreme", bool, False, "the -e flag: slower, slightly smaller"),
        Param("filters", str, "lzma2", "chain ending in lzma2: delta:N, x86, arm, armthumb, "
              "powerpc, ia64, sparc joined by +"),
        Param("lc", int, 3, "LZMA2 literal context bits (lc + lp <= 4)", min=0, max=4),
        Param("lp", int, 0, "LZMA2 literal position bits", min=0, max=4),
        Param("pb", int, 2, "LZMA2 position bits", min=0, max=4),
        Param("dict", int, 0, "LZMA2 dictionary in bytes (0: the preset's)", min=0,
              max=1536 << 20),
    )

    def validate(self) -> None:
        c = self.config
        xz_chain(c["filters"])
        if c["lc"] + c["lp"] > 4:
            raise UsageError(f"xz: lc + lp must be at most 4 (got {c['lc']} + {c['lp']})")
        if c["dict"] and c["dict"] < 4096:
            raise UsageError("xz: parameter dict must be 0 (the preset's) or at least 4096")

    def compress(self, data: bytes) -> bytes:
        c = self.config
        preset = c["preset"] | (lzma.PRESET_EXTREME if c["extreme"] else 0)
        if (c["filters"], c["lc"], c["lp"], c["pb"], c["dict"]) == ("lzma2", 3, 0, 2, 0):
            return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                                 preset=preset)
        lz: dict = {"id": lzma.FILTER_LZMA2, "preset": preset, "lc": c["lc"], "lp": c["lp"],
                    "pb": c["pb"]}
        if c["dict"]:
            lz["dict_size"] = c["dict"]
        return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC64,
                             filters=[*xz_chain(c["filters"]), lz])

    def decoders(self) -> Decoders:
        return (functools.partial(lzma.decompress, format=lzma.FORMAT_XZ),
                functools.partial(lzma.LZMADecompressor, format=lzma.FORMAT_XZ),
                (lzma.LZMAError, EOFError))

    def memory_bytes(self, n: int) -> int:
        return 3 * n + max(_XZ_MiB[self.config["preset"]] * MiB, 11 * self.config["dict"])


_BCJ = {"x86": lzma.FILTER_X86, "arm": lzma.FILTER_ARM, "armthumb": lzma.FILTER_ARMTHUMB,
        "powerpc": lzma.FILTER_POWERPC, "ia64": lzma.FILTER_IA64, "sparc": lzma.FILTER_SPARC}


def xz_chain(text: str) -> list[dict]:
    """The filters before LZMA2 that `filters=` names (UsageError for anything else): at most
    three, from delta:N (N = 1..256 bytes) and the branch converters, then lzma2."""
    *head, last = text.split("+")
    if last != "lzma2" or len(head) > 3:
        raise UsageError(f"xz: filters={text!r} must be up to three of delta:N, "
                         f"{', '.join(_BCJ)} joined by +, ending in lzma2")
    chain = []
    for f in head:
        kind, _, arg = f.partition(":")
        if kind == "delta" and arg.isdigit() and 1 <= int(arg) <= 256:
            chain.append({"id": lzma.FILTER_DELTA, "dist": int(arg)})
        elif kind in _BCJ and not arg:
            chain.append({"id": _BCJ[kind]})
        else:
            raise UsageError(f"xz: filter {f!r} in filters={text!r} is not delta:N (N = 1..256) "
                             f"nor one of {', '.join(_BCJ)}")
    return chain


_XZ_MiB = (3, 9, 17, 32, 48, 94, 94, 186, 370, 674)
"""Compression memory of xz presets 0-9 (`man xz`, "CompMem"; -e needs the same): decoding
needs less."""


@register
class Bzip2(StreamApi):
    name = "bz2"
    library = "stdlib"
    summary = "bzip2 (stdlib bz2)"
    params = (Param("level", int, 9, "block size in 100 kB", min=1, max=9),)
    overhead = 10 * MiB  # bzip2 -9: 7,600 kB to compress, 3,700 kB to decompress

    def compress(self, data: bytes) -> bytes:
        return bz2.compress(data, compresslevel=self.config["level"])

    def decoders(self) -> Decoders:
        return bz2.decompress, bz2.BZ2Decompressor, (OSError, ValueError, EOFError)


@register
class Zlib(StreamApi):
    name = "zlib"
    library = "zlib"
    summary = "zlib / DEFLATE (stdlib zlib), zlib container with Adler-32"
    params = (Param("level", int, 9, "compression level", min=0, max=9),)
    overhead = MiB  # deflate's state is 256 kB at level 9

    def version(self) -> str:
        """The C library Python's zlib module runs (not a distribution: no package metadata)."""
        return zlib.ZLIB_RUNTIME_VERSION

    def compress(self, data: bytes) -> bytes:
        return zlib.compress(data, self.config["level"])

    def decoders(self) -> Decoders:
        return ZLIB


@register
class Lz4(StreamApi):
    name = "lz4"
    summary = "LZ4 frame format (python-lz4)"
    library = "lz4"
    params = (Param("level", int, 0, "compression level (0 fast, 3..16 HC)", min=0, max=16),)
    overhead = 8 * MiB  # a 4 MB frame block in each direction, and LZ4HC's tables

    def compress(self, data: bytes) -> bytes:
        return lz4.frame.compress(data, compression_level=self.config["level"], store_size=True)

    def decoders(self) -> Decoders:
        return lz4.frame.decompress, lz4.frame.LZ4FrameDecompressor, (RuntimeError,)


@register
class Ppmd(Compressor):
    """PPMd through pyppmd. A PPMd stream decodes only with the order, memory size and variant
    that wrote it, so the stream starts with them (`ppmd_header`, 1 to 3 bytes, counted in the
    bits) and any ppmd decoder reads them from there. pyppmd's own stream follows: for variant I
    (PPMd8, pyppmd's default, with its end mark) its Ppmd8Encoder's stream (`_encode_i`: what
    `pyppmd.compress` writes, but for pyppmd's lost byte; 511,192 bytes for the 11 Canterbury
    files at order 6, 256 MB, as tests/test_harness.py checks); for variant H (PPMd7, 7-Zip's),
    which has no end mark, the input length as a varint first."""

    name = "ppmd"
    family = "statistical"
    summary = "PPMd (pyppmd): variant I (default, PPMd8) or H (PPMd7); order, memory in MB"
    library = "pyppmd"
    params = (
        Param("order", int, 6, "model order", min=2, max=64),
        Param("mem", int, 16, "model memory in MB", min=1, max=2047),
        Param("variant", str, "I", "PPMd variant", choices=("I", "H")),
    )

    def compress(self, data: bytes) -> bytes:
        c = self.config
        head = ppmd_header(c["order"], c["mem"], c["variant"])
        order, mem = c["order"], c["mem"] << 20
        if c["variant"] == "I":
            return head + _encode_i(data, order, mem)
        enc = pyppmd.Ppmd7Encoder(order, mem)
        return head + varint.encode(len(data)) + enc.encode(data) + enc.flush()

    def decompress(self, blob: bytes) -> bytes:
        """Any ppmd stream, whatever this instance's parameters: the stream names its own."""
        order, mem, variant, pos = read_ppmd_header(blob)
        try:
            if variant == "I":
                return _decode_i(blob[pos:], order, mem << 20, self.max_input)
            n, pos = varint.decode(blob, pos)
            return _decode_h(blob[pos:], n, order, mem << 20)
        except (ValueError, RuntimeError, EOFError, SystemError, pyppmd.PpmdError) as e:
            # SystemError: pyppmd's decoder fails on some damaged streams without an exception
            raise corrupt(self.name, e) from None

    max_input = (1 << 31) - 2
    max_input_why = "pyppmd's decoder takes the length as a C int, one more byte than it returns"

    def memory_bytes(self, n: int) -> int:
        return 4 * n + (self.config["mem"] << 20)  # variant H's decoder pads its input by n

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        """As `decompress`, with the model memory the stream asks for checked against what is
        available, and no more than limit + 1 bytes decoded."""
        order, mem, variant, pos = read_ppmd_header(blob)
        limits.check_memory(mem << 20, f"a ppmd stream's model ({mem} MB)")
        try:
            if variant == "I":
                return _decode_i(blob[pos:], order, mem << 20, min(limit, self.max_input))
            n, pos = varint.decode(blob, pos)
            if n > limit:
                raise too_long(self.name, limit)
            return _decode_h(blob[pos:], n, order, mem << 20)
        except (ValueError, RuntimeError, EOFError, SystemError, pyppmd.PpmdError) as e:
            raise corrupt(self.name, e) from None


_PPMD_PIECE = 4096
"""Input bytes per Ppmd8Encoder.encode call. pyppmd 1.3.1 drops one byte of the stream when a
single call's output passes its first 32 KiB output block at an unlucky moment (Canterbury's
ptt5 at order 6: byte 32,768 of the stream is lost, and the decoder then fails). A 4 KiB piece
never yields anywhere near 32 KiB of stream; the range coder's output does not depend on how the
input is split, so every stream that pyppmd did write whole is unchanged, byte for byte."""


def _encode_i(data: bytes, order: int, mem: int) -> bytes:
    """Variant I's stream with its end mark, as `pyppmd.compress` means to write it."""
    enc = pyppmd.Ppmd8Encoder(order, mem)
    view = memoryview(data)
    parts = [enc.encode(view[i:i + _PPMD_PIECE]) for i in range(0, len(data), _PPMD_PIECE)]
    return b"".join(parts) + enc.flush()


def ppmd_header(order: int, mem: int, variant: str) -> bytes:
    """What a PPMd decoder needs, as one varint of (mem - 1)·128 + (order - 2)·2 + [variant H]:
    2 bytes for mem = 2..128 (MB), 1 for mem=1, 3 above 128."""
    return varint.encode(((mem - 1) << 7) | ((order - 2) << 1) | (variant == "H"))


def read_ppmd_header(blob: bytes) -> tuple[int, int, str, int]:
    """(order, mem in MB, variant, position after the header); CorruptStreamError if the
    header is cut off or names parameters `ppmd` does not take."""
    v, pos = varint.decode(blob, 0)
    order, mem, variant = ((v >> 1) & 63) + 2, (v >> 7) + 1, "H" if v & 1 else "I"
    if order > 64 or mem > 2047:
        raise CorruptStreamError(f"ppmd: corrupt stream (header says order {order}, {mem} MB)")
    return order, mem, variant, pos


_PPMD_MAX_RATIO = 4096
"""PPMd's binary contexts saturate near P = 1 - 2^-9, so a stream byte never codes more than
about 2,730 input bytes (measured: 2,717 on 16 MB of zeros, variants H and I alike): a larger
length is damage."""


_PPMD_FEED = 1024


def _decode_i(stream: bytes, order: int, mem: int, limit: int) -> bytes:
    """Variant I's output, up to its end mark, if that comes within `limit` bytes.

    pyppmd 1.3.1's Ppmd8Decoder corrupts the heap (and the process crashes later) when it is
    dropped while it waits for more input, as it does after a truncated stream. So a decoder
    that still wants input after the whole stream is fed zero bytes until it fails, ends or
    passes the limit, and is then reported as cut; an intact stream never asks, since its end
    mark comes first."""
    cap = min(limit, _PPMD_MAX_RATIO * (len(stream) + 1))
    d = pyppmd.Ppmd8Decoder(order, mem)
    out, cut = d.decode(stream, cap + 1), False
    while not d.eof and d.needs_input and len(out) <= cap:
        cut = True
        out += d.decode(bytes(_PPMD_FEED), cap + 1 - len(out))
    if len(out) > limit:
        raise too_long("ppmd", limit)
    if len(out) > cap:
        raise CorruptStreamError(f"ppmd: corrupt stream (decodes to more than "
                                 f"{len(stream):,} B of PPMd can hold)")
    if cut or not d.eof:
        raise truncated("ppmd")
    return out


def _decode_h(stream: bytes, n: int, order: int, mem: int) -> bytes:
    """Variant H's n bytes from `stream`. pyppmd 1.3.1's Ppmd7Decoder corrupts the heap (and
    later crashes the process) when its input runs out before n bytes are out, as it does on a
    truncated stream, so the stream is followed by n + 64 zero bytes, more than decoding n bytes
    of damage reads (checked over thousands of truncated and damaged streams); an intact stream
    leaves all of them unread."""
    if not n:
        return b""
    if n > _PPMD_MAX_RATIO * (len(stream) + 1):
        raise CorruptStreamError(f"ppmd: corrupt stream (length {n} from {len(stream)} bytes)")
    pad = n + 64
    dec = pyppmd.Ppmd7Decoder(order, mem)
    out = dec.decode(stream + bytes(pad), n)
    if len(out) != n or dec.needs_input or len(dec.unused_data or b"") != pad:
        raise CorruptStreamError("ppmd: truncated or corrupt stream")
    return out


@register
class Zpaq(Compressor):
    name = "zpaq"
    family = "statistical"
    summary = "ZPAQ (libzpaq via the zpaq package), single-threaded so bits are deterministic"
    library = "zpaq"
    params = (Param("level", int, 5, "method 1..5", min=1, max=5),)

    def compress(self, data: bytes) -> bytes:
        return zpaq.compress(data, level=self.config["level"], threads=1)

    def decompress(self, blob: bytes) -> bytes:
        return whole(self.name, zpaq.decompress, blob, (zpaq.Error, RuntimeError, ValueError))

    def memory_bytes(self, n: int) -> int:
        return 3 * n + _ZPAQ_MiB[self.config["level"]] * MiB

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        """libzpaq loops for ever on some damaged streams (a few bytes changed are enough), and
        cannot be stopped inside this process: decode in a child with a deadline scaled by the
        claimed length, and an address-space limit of that length plus the model's memory."""
        deadline = ZPAQ_DEADLINE_S + limit / ZPAQ_MIN_SPEED
        room = limit + _ZPAQ_MiB[5] * MiB + (1 << 30)  # output, largest model, the interpreter
        try:
            p = subprocess.run([sys.executable, "-I", "-c", _ZPAQ_CHILD, str(limit)], input=blob,
                               capture_output=True, timeout=deadline,
                               preexec_fn=functools.partial(_address_space, room))
        except subprocess.TimeoutExpired:
            raise CorruptStreamError(f"zpaq: corrupt stream (decoding did not end in "
                                     f"{deadline:.0f} s; libzpaq loops on some damaged "
                                     f"streams)") from None
        if p.returncode == 3:
            raise too_long(self.name, limit)
        if p.returncode != 0:
            why = p.stderr.decode(errors="replace").strip().splitlines()[-1:] or [
                f"the decoder died with status {p.returncode}"]
            raise CorruptStreamError(f"zpaq: corrupt or truncated stream ({why[0]})")
        return p.stdout


_ZPAQ_MiB = (0, 64, 128, 256, 512, 1024)
"""Memory of libzpaq's methods 1-5 beyond the buffers (method 5's context mixing model is the
largest; measured about 100 MB on 600 kB, and it grows with the block)."""
ZPAQ_DEADLINE_S = 30.0
ZPAQ_MIN_SPEED = 50e3
"""Bytes per second below which a zpaq decode is taken to be looping: a tenth of method 5's
speed on a slow, shared core."""
_ZPAQ_CHILD = """
import sys, zpaq
limit = int(sys.argv[1])
try:
    out = zpaq.decompress(sys.stdin.buffer.read())
except MemoryError:
    sys.exit("more memory than the claimed length allows")
except Exception as e:
    sys.exit(f"{type(e).__name__}: {e}")
if len(out) > limit:
    sys.exit(3)
sys.stdout.buffer.write(out)
"""


def _address_space(room: int) -> None:
    """In the zpaq child (before exec): no more memory than `room` bytes of address space."""
    resource.setrlimit(resource.RLIMIT_AS, (room, room))
