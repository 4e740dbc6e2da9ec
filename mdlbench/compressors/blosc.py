"""Blosc2 for typed numeric data: a shuffle filter regroups the bytes of fixed-size elements
(by byte, or by bit) so that a fast inner codec sees runs, as in HDF5, Zarr and Parquet
pipelines. One Blosc2 chunk per input, one thread, so the bits are deterministic."""

from __future__ import annotations

from ..errors import CorruptStreamError
from ..params import Param
from .base import register
from .binding import BindingCodec
from .classical import LengthFirst, MiB, corrupt, exact, too_long

_FILTERS = ("shuffle", "bitshuffle", "none")
_CODECS = ("blosclz", "lz4", "lz4hc", "zlib", "zstd")


@register
class Blosc2(LengthFirst, BindingCodec):
    """A Blosc2 chunk: its 32-byte header records the input and chunk sizes, which the
    bounded decoder checks before decoding. No checksum inside."""

    name = "blosc2"
    summary = "Blosc2 (python-blosc2): shuffle/bitshuffle over elements, then an inner codec"
    library = "blosc2"
    binding = ("blosc2",)
    params = (
        Param("typesize", int, 8, "element size in bytes that the filter regroups", min=1,
              max=255),
        Param("filter", str, "shuffle", "byte or bit shuffle, or none", choices=_FILTERS),
        Param("codec", str, "zstd", "inner codec", choices=_CODECS),
        Param("clevel", int, 5, "inner codec's level", min=0, max=9),
    )

    def compress(self, data: bytes) -> bytes:
        lib, c = self.lib(), self.config
        flt = {"shuffle": lib.Filter.SHUFFLE, "bitshuffle": lib.Filter.BITSHUFFLE,
               "none": lib.Filter.NOFILTER}[c["filter"]]
        return lib.compress2(data, codec=lib.Codec[c["codec"].upper()], clevel=c["clevel"],
                             typesize=c["typesize"], nthreads=1, filters=[flt],
                             filters_meta=[0])

    def decode_within(self, blob: bytes, limit: int | None) -> bytes:
        lib = self.lib()
        try:
            n, cbytes, _ = lib.get_cbuffer_sizes(blob)
            if cbytes != len(blob):
                raise CorruptStreamError(f"{self.name}: corrupt or truncated stream (its header "
                                         f"says {cbytes:,} B, it has {len(blob):,})")
            if limit is not None and n > limit:
                raise too_long(self.name, limit)
            out = lib.decompress2(blob, nthreads=1)
        except (ValueError, RuntimeError) as e:
            raise corrupt(self.name, e) from None
        return exact(self.name, bytes(out), n)

    max_input = (1 << 31) - 64
    max_input_why = "a Blosc2 chunk holds less than 2 GiB"

    def memory_bytes(self, n: int) -> int:
        return 4 * n + 64 * MiB  # zstd's context at level 9 and the per-block buffers
