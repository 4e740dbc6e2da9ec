"""A classical codec as an mdlbench plugin: Google's Snappy (raw block format), through cramjam.

    mdlbench --plugin examples/snappy_codec.py run canterbury -c snappy -j 2

A compressor is a class with a `name`, its parameters (none here), and compress/decompress;
`@register` adds it to the registry. `library` names the distribution whose version every
record stores. A stream this codec did not write raises `CorruptStreamError`, so a damaged
stream is a failed cell, never a traceback.
"""

import cramjam

from mdlbench.compressors import Compressor, register
from mdlbench.errors import CorruptStreamError


@register
class Snappy(Compressor):
    name = "snappy"
    summary = "Snappy raw blocks (cramjam): fast LZ77, no entropy coding"
    library = "cramjam"

    def compress(self, data: bytes) -> bytes:
        return bytes(cramjam.snappy.compress_raw(data))

    def decompress(self, blob: bytes) -> bytes:
        try:
            return bytes(cramjam.snappy.decompress_raw(blob))
        except cramjam.DecompressionError as e:
            raise CorruptStreamError(f"corrupt snappy stream ({e})") from None
