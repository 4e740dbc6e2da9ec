"""Byte-oriented LZ codecs without entropy coding, or with a light one: LZ4's block format,
Snappy, LZF, LZO and LZFSE. Their raw formats carry no checksum, so damage inside a literal may
decode to other bytes; mdlbench's own container (`encode`, `decode`) has the CRC-32 that finds
it. A format that does not record the input length gets it as a varint in front (counted in
the bits): its decoder must be told the size."""

from __future__ import annotations

from abc import abstractmethod

import lz4.block

from ..coding import varint
from ..errors import CorruptStreamError, UsageError
from ..params import Param
from .base import register
from .binding import BindingCodec
from .classical import LengthFirst, MiB, corrupt, exact, too_long


def _length_ok(name: str, n: int, limit: int | None, stream: int, ratio: int) -> None:
    """A header's length checked against the caller's limit and the format's largest ratio."""
    if limit is not None and n > limit:
        raise too_long(name, limit)
    if n > ratio * (stream + 1):
        raise CorruptStreamError(f"{name}: corrupt stream (length {n:,} from {stream:,} B)")


@register
class Lz4Block(LengthFirst):
    """python-lz4's block API (a core dependency, as the `lz4` frame codec's) with its 4-byte
    little-endian length in front (store_size), which is what the decoder is told."""

    name = "lz4-block"
    summary = "LZ4 block format (python-lz4): level 0 fast (with accel), 1-12 HC"
    library = "lz4"
    params = (
        Param("level", int, 0, "0: the fast coder; 1..12: LZ4HC at that level", min=0, max=12),
        Param("accel", int, 1, "the fast coder's acceleration (larger: faster, bigger)",
              min=1, max=65537),
    )

    def validate(self) -> None:
        if self.config["level"] and self.config["accel"] != 1:
            raise UsageError("lz4-block: parameter accel applies to level 0 (the fast coder) "
                             "only")

    def compress(self, data: bytes) -> bytes:
        lib, level = lz4.block, self.config["level"]
        if level:
            return lib.compress(data, mode="high_compression", compression=level)
        return lib.compress(data, mode="fast", acceleration=self.config["accel"])

    def decode_within(self, blob: bytes, limit: int | None) -> bytes:
        if len(blob) < 4:
            raise CorruptStreamError(f"{self.name}: truncated stream (no length)")
        n = int.from_bytes(blob[:4], "little")
        _length_ok(self.name, n, limit, len(blob) - 4, 255)
        try:
            return exact(self.name, lz4.block.decompress(blob), n)
        except lz4.block.LZ4BlockError as e:
            raise corrupt(self.name, e) from None

    max_input = (1 << 31) - 1
    max_input_why = "LZ4's block format takes at most 2 GB"

    def memory_bytes(self, n: int) -> int:
        return 4 * n + MiB


@register
class Snappy(LengthFirst, BindingCodec):
    """Named libsnappy: `snappy` is the name of the example plugin (examples/snappy_codec.py),
    the same format through cramjam."""

    name = "libsnappy"
    summary = "Snappy raw format (python-snappy, Google's library): length varint, then LZ77"
    library = "python-snappy"
    binding = ("snappy",)

    def compress(self, data: bytes) -> bytes:
        return self.lib().compress(data)

    def decode_within(self, blob: bytes, limit: int | None) -> bytes:
        n, _ = varint.decode(blob, 0)  # Snappy's own preamble is this varint
        _length_ok(self.name, n, limit, len(blob), 64)
        lib = self.lib()
        try:
            return exact(self.name, lib.uncompress(blob), n)
        except lib.UncompressError as e:
            raise corrupt(self.name, e) from None

    max_input = (1 << 32) - 1
    max_input_why = "Snappy's length preamble is 32 bits"


class VarintBlock(LengthFirst, BindingCodec):
    """A raw block format with no header of its own (LZF, LZO1X): the input length goes first,
    as a varint, and the block decoder is told it. An empty input is the varint alone (these
    libraries refuse one)."""

    ratio = 256
    """Most output bytes one stream byte can make in the format (checked before decoding)."""

    @abstractmethod
    def block(self, data: bytes) -> bytes: ...

    @abstractmethod
    def unblock(self, payload: bytes, n: int) -> bytes:
        """`payload` decoded to `n` bytes; the library's failures as CorruptStreamError."""

    def compress(self, data: bytes) -> bytes:
        return varint.encode(len(data)) + (self.block(data) if data else b"")

    def decode_within(self, blob: bytes, limit: int | None) -> bytes:
        n, pos = varint.decode(blob, 0)
        _length_ok(self.name, n, limit, len(blob) - pos, self.ratio)
        if not n:
            if pos != len(blob):
                raise CorruptStreamError(f"{self.name}: corrupt stream (data after an empty "
                                         f"input)")
            return b""
        return exact(self.name, self.unblock(blob[pos:], n), n)


@register
class Lzf(VarintBlock):
    name = "lzf"
    summary = "LibLZF (pylzf): length varint, then LZF"
    library = "pylzf"
    binding = ("pylzf",)

    def block(self, data: bytes) -> bytes:
        # room for LZF's worst case, n + n/32 + 1 bytes (pylzf fails when the stream overflows)
        return self.lib().compress(data, len(data) + len(data) // 32 + 64)

    def unblock(self, payload: bytes, n: int) -> bytes:
        try:
            return self.lib().decompress(payload, n)
        except ValueError as e:
            raise corrupt(self.name, e) from None

    max_input = (1 << 32) - 1
    max_input_why = "pylzf's decoder takes the length as an unsigned int"


@register
class Lzo(VarintBlock):
    """LZO1X through lzallright, a binding of lzokay (a C++ LZO1X coder whose encoder searches
    like LZO1X-999 and whose streams any LZO1X decoder reads). python-lzo, the binding of the
    reference liblzo2, builds only against liblzo2's headers, which pip cannot install."""

    name = "lzo"
    summary = "LZO1X (lzallright: lzokay's LZO1X-999-class coder): length varint, then LZO1X"
    library = "lzallright"
    binding = ("lzallright",)

    def block(self, data: bytes) -> bytes:
        return self.lib().LZOCompressor().compress(data)

    def unblock(self, payload: bytes, n: int) -> bytes:
        lib = self.lib()
        try:
            return lib.LZOCompressor.decompress(payload, output_size_hint=n)
        except (lib.LZOError, lib.InputNotConsumed) as e:
            raise corrupt(self.name, e) from None

    def memory_bytes(self, n: int) -> int:
        return 3 * n + 4 * MiB


@register
class Lzfse(BindingCodec):
    """Apple's LZFSE (lzfse binding). Its blocks record their sizes; the binding has no
    bounded or streaming decoder, so an outside stream decodes whole and is then checked
    against its claimed length. The binding reports a failed decode as MemoryError."""

    name = "lzfse"
    summary = "LZFSE (lzfse binding): LZ77 with finite-state entropy, Apple's reference coder"
    library = "lzfse"
    binding = ("lzfse",)

    def compress(self, data: bytes) -> bytes:
        return self.lib().compress(data) if data else b""  # the binding refuses an empty input

    def decompress(self, blob: bytes) -> bytes:
        if not blob:
            return b""
        lib = self.lib()
        try:
            out = lib.decompress(blob)
        except (lib.error, MemoryError) as e:
            raise corrupt(self.name, e) from None
        if not out:
            raise CorruptStreamError(f"{self.name}: corrupt or truncated stream (decodes to "
                                     f"nothing)")
        return out

    def memory_bytes(self, n: int) -> int:
        return 4 * n + 4 * MiB
