"""The `copy` row: the input itself as the stream (a memcpy each way), as lzbench's memcpy
line. It is the speed limit of the machine and of mdlbench's harness around any codec, and
the ratio 1 that every codec must beat."""

from __future__ import annotations

from .base import Compressor, register


@register
class Copy(Compressor):
    """Nothing to check: a damaged copy is other bytes (mdlbench's container's CRC-32 finds
    that)."""

    name = "copy"
    summary = "memcpy through the harness: stream = input; the speed limit in speed tables"
    max_ratio = 1.0

    def compress(self, data: bytes) -> bytes:
        return bytes(bytearray(data))  # a real copy: bytes(data) of a bytes object is itself

    def decompress(self, blob: bytes) -> bytes:
        return bytes(bytearray(blob))

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        if len(blob) > limit:
            from .classical import too_long

            raise too_long(self.name, limit)
        return self.decompress(blob)
