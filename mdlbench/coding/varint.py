"""LEB128 unsigned varints: lengths in headers cost 1 byte below 128, so tiny inputs stay tiny."""

from __future__ import annotations

from ..errors import CorruptStreamError


def encode(n: int) -> bytes:
    if n < 0:
        raise ValueError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode(buf: bytes, pos: int) -> tuple[int, int]:
    """Return (value, next position); raise CorruptStreamError on a truncated or absurd varint."""
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise CorruptStreamError("truncated stream (length field cut off)")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise CorruptStreamError("corrupt stream (length field too long)")
