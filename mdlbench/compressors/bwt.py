"""Block-sorting and mixed-transform codecs beyond stdlib bzip2: bzip3 (BWT, then a context
mixing entropy stage) and Kanzi (a chain of transforms and an entropy stage, chosen by level)."""

from __future__ import annotations

from ..errors import CorruptStreamError
from ..params import Param
from .base import register
from .binding import BindingCodec
from .classical import MiB, corrupt, whole


@register
class Bzip3(BindingCodec):
    """bzip3's own file format (the `bzip3` tool's): a 9-byte header, then blocks that record
    their sizes. It has no end mark, so a stream cut exactly between two blocks decodes to a
    prefix of the input unnoticed (mdlbench's container length and CRC-32 catch that); a cut
    inside a block leaves bytes the decoder did not use, which is reported."""

    name = "bzip3"
    summary = "bzip3 (bzip3 binding): BWT + context-mixing entropy coding, block in MiB"
    library = "bzip3"
    binding = ("bz3",)
    params = (Param("block", int, 16, "block size in MiB (the bzip3 tool's -b)", min=1,
                    max=511),)

    def compress(self, data: bytes) -> bytes:
        return self.lib().compress(data, block_size=self.config["block"] * MiB, num_threads=1)

    def decompress(self, blob: bytes) -> bytes:
        from bz3.backends import BZ3Decompressor

        d = BZ3Decompressor()
        try:
            out = d.decompress(blob)
        except (ValueError, RuntimeError, MemoryError) as e:
            raise corrupt(self.name, e) from None
        if d.unused_data or len(blob) < 9:
            raise CorruptStreamError(f"{self.name}: corrupt or truncated stream (a block is cut "
                                     f"off)")
        return out

    max_input = (1 << 31) - 1
    max_input_why = "the binding's block sizes are C ints"

    def memory_bytes(self, n: int) -> int:
        block = min(self.config["block"] * MiB, n + MiB)
        return 3 * n + 6 * block + 16 * MiB  # SAIS and the mixer's tables, per block


@register
class Kanzi(BindingCodec):
    """The kanzi package is a Rust port of Kanzi (not the reference C++/Java coder) and sets
    the transforms and entropy stage by level only, as the kanzi tool's -l does."""

    name = "kanzi"
    summary = "Kanzi (kanzi package, a Rust port): transforms + entropy stage by level 0-9"
    library = "kanzi"
    binding = ("kanzi",)
    params = (
        Param("level", int, 3, "the kanzi tool's -l: which transforms and entropy coder",
              min=0, max=9),
        Param("block", int, 0, "block size in KiB (0: the level's default)", min=0,
              max=1 << 20),
    )

    def compress(self, data: bytes) -> bytes:
        block = self.config["block"] * 1024 or None
        return self.lib().compress(data, self.config["level"], block)

    def decompress(self, blob: bytes) -> bytes:
        return whole(self.name, self.lib().decompress, blob, (ValueError, RuntimeError))

    def memory_bytes(self, n: int) -> int:
        return 4 * n + 256 * MiB  # levels 8-9 use large context-mixing models
