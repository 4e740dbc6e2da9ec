"""DEFLATE from other encoders than stdlib zlib: the same format, so the table shows what each
encoder buys at its own levels. Every stream here is a zlib stream (2-byte header, DEFLATE,
Adler-32), as the `zlib` row's is, so their sizes compare byte for byte; libdeflate's alone is
preceded by the input length (see `Libdeflate`)."""

from __future__ import annotations

from types import ModuleType

from ..coding import varint
from ..errors import CorruptStreamError
from ..params import Param
from .base import register
from .binding import BindingCodec
from .classical import ZLIB, Decoders, LengthFirst, MiB, StreamApi, corrupt, exact, too_long


@register
class Libdeflate(LengthFirst, BindingCodec):
    """libdeflate's one-shot decoder must be told the output size, and it has no streaming
    one: so the stream is the input length (a varint, 1 to 5 bytes, counted in the bits) and
    then libdeflate's zlib stream."""

    name = "libdeflate"
    summary = "libdeflate (deflate binding): zlib stream, levels up to 12; length varint first"
    library = "deflate"
    binding = ("deflate",)
    params = (Param("level", int, 6, "compression level (10-12: near-optimal parsing)",
                    min=1, max=12),)

    def compress(self, data: bytes) -> bytes:
        return varint.encode(len(data)) + bytes(self.lib().zlib_compress(data,
                                                                         self.config["level"]))

    def decode_within(self, blob: bytes, limit: int | None) -> bytes:
        lib = self.lib()
        n, pos = varint.decode(blob, 0)
        if limit is not None and n > limit:
            raise too_long(self.name, limit)
        if n > 1032 * (len(blob) - pos) + 1032:  # DEFLATE's largest ratio is 1032:1
            raise CorruptStreamError(f"{self.name}: corrupt stream (length {n:,} from "
                                     f"{len(blob) - pos:,} bytes of DEFLATE)")
        try:
            out = bytes(lib.zlib_decompress(blob[pos:], n)) if n else _empty(lib, blob[pos:])
        except lib.DeflateError as e:
            raise corrupt(self.name, e) from None
        return exact(self.name, out, n)

    def memory_bytes(self, n: int) -> int:
        return 3 * n + 2 * MiB  # libdeflate's compressor state is under 1 MB at level 12


def _empty(lib: ModuleType, stream: bytes) -> bytes:
    """An empty input's stream, checked: libdeflate refuses an output size of 0."""
    out = bytes(lib.zlib_decompress(stream, 1))
    if out:
        raise CorruptStreamError("libdeflate: corrupt stream (decodes to more than its header's "
                                 "0 B)")
    return out


class _ZlibApi(StreamApi, BindingCodec):
    """Encoders of zlib streams whose library has stdlib zlib's API: by default it decodes
    them too."""

    overhead = 2 * MiB

    def compress(self, data: bytes) -> bytes:
        return self.lib().compress(data, self.config["level"])

    def decoders(self) -> Decoders:
        lib = self.lib()
        return lib.decompress, lib.decompressobj, (lib.error,)


@register
class Isal(_ZlibApi):
    name = "isal"
    summary = "ISA-L igzip (isal binding): zlib stream, levels 0-3, built for speed"
    library = "isal"
    binding = ("isal.isal_zlib",)
    params = (Param("level", int, 2, "compression level", min=0, max=3),)
    overhead = 8 * MiB  # level 3 keeps large hash tables


@register
class ZlibNg(_ZlibApi):
    name = "zlib-ng"
    summary = "zlib-ng (zlib-ng binding): zlib stream, levels 0-9"
    library = "zlib-ng"
    binding = ("zlib_ng.zlib_ng",)
    params = (Param("level", int, 9, "compression level", min=0, max=9),)


@register
class Zopfli(_ZlibApi):
    """Zopfli only encodes: its streams are ordinary zlib streams, read here by stdlib zlib
    (so its decode speed is zlib's)."""

    name = "zopfli"
    summary = "Zopfli (zopfli binding): zlib stream by iterated optimal parsing; stdlib decodes"
    library = "zopfli"
    binding = ("zopfli.zlib",)
    params = (Param("iterations", int, 15, "optimisation passes per block", min=1, max=1000),)

    def compress(self, data: bytes) -> bytes:
        return self.lib().compress(data, numiterations=self.config["iterations"])

    def decoders(self) -> Decoders:
        return ZLIB

    def memory_bytes(self, n: int) -> int:
        return 3 * n + 40 * min(n, 1 << 20) + 16 * MiB  # per-block cost model arrays
