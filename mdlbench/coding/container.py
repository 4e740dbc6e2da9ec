"""The self-describing mdlbench container.

Layout (all counted in every reported bit figure of a model-based coder):

    magic  b"MDL"        3 bytes
    format version       1 byte
    spec                 varint length + UTF-8 canonical compressor spec
    original length      varint
    checksum             4 bytes, CRC-32 of the original data
    meta                 varint length + coder-specific bytes (alphabet, device, ...)
    header check         2 bytes, low 16 bits of the CRC-32 of everything above
    payload              the rest: the coder's stream

The decoder reads the spec from the stream itself, so `mdlbench decode` needs no flags. The
header check catches a damaged length or spec before any decoding starts (a wrong length could
otherwise make a decoder run for a long time); the data checksum turns a corrupted payload into
an error instead of wrong output.

A forged header passes the header check (anyone can compute a CRC), so its claims are bounded
too: the length by `MAX_LENGTH` here, then by the named coder against the payload
(`Compressor.check_length`: its `max_input`, and its `max_ratio` where it states one), and a
classical payload is decoded with its output bounded by the length (`decompress_bounded`).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from .. import limits
from ..errors import CorruptStreamError
from . import varint

MAGIC = b"MDL"
VERSION = 1
MAX_LENGTH = limits.MAX_INPUT_BYTES
"""No encoder takes more, so a header claiming more is damage."""
MAX_SPEC = 4096
"""Bytes of spec a header may hold: canonical specs are a few dozen."""


@dataclass(frozen=True)
class Header:
    spec: str
    length: int
    crc32: int
    meta: bytes


def wrap(spec: str, data: bytes, payload: bytes, meta: bytes = b"") -> bytes:
    s = spec.encode()
    head = b"".join([
        MAGIC, bytes([VERSION]), varint.encode(len(s)), s, varint.encode(len(data)),
        zlib.crc32(data).to_bytes(4, "little"), varint.encode(len(meta)), meta,
    ])
    return head + (zlib.crc32(head) & 0xFFFF).to_bytes(2, "little") + payload


def unwrap(blob: bytes) -> tuple[Header, bytes]:
    """Split a container into header and payload; raise CorruptStreamError if it is not one."""
    if len(blob) < 4 or blob[:3] != MAGIC:
        raise CorruptStreamError("not an mdlbench stream (bad magic)")
    if blob[3] != VERSION:
        raise CorruptStreamError(f"unsupported mdlbench stream format version {blob[3]}")
    n, pos = varint.decode(blob, 4)
    if n > MAX_SPEC:
        raise CorruptStreamError(f"corrupt stream (a {n:,}-byte spec in the header)")
    if pos + n > len(blob):
        raise CorruptStreamError("truncated stream (header cut off)")
    spec_bytes = blob[pos:pos + n]
    length, pos = varint.decode(blob, pos + n)
    if length > MAX_LENGTH:
        raise CorruptStreamError(f"corrupt stream (its header claims {length:,} B, more than "
                                 f"the {MAX_LENGTH:,} B any mdlbench encoder takes)")
    if pos + 4 > len(blob):
        raise CorruptStreamError("truncated stream (header cut off)")
    crc = int.from_bytes(blob[pos:pos + 4], "little")
    m, pos = varint.decode(blob, pos + 4)
    if pos + m + 2 > len(blob):
        raise CorruptStreamError("truncated stream (header cut off)")
    end = pos + m
    if int.from_bytes(blob[end:end + 2], "little") != zlib.crc32(blob[:end]) & 0xFFFF:
        raise CorruptStreamError("corrupt stream (header check failed)")
    try:
        spec = spec_bytes.decode()
    except UnicodeDecodeError:
        raise CorruptStreamError("corrupt stream (spec is not UTF-8)") from None
    return Header(spec, length, crc, blob[pos:end]), blob[end + 2:]


def check(header: Header, data: bytes) -> bytes:
    """Verify decoded output against the header; a mismatch means a damaged stream."""
    if len(data) != header.length or zlib.crc32(data) != header.crc32:
        raise CorruptStreamError("corrupt stream: decoded data fails its length/CRC-32 check")
    return data


def header_bits(blob: bytes) -> int:
    """Bits of a container's header (magic, version, spec, length, CRC-32, meta with its
    length, header check): what the stream spends besides the coder's payload. The regret of a
    payload is the stream's regret less these."""
    _, payload = unwrap(blob)
    return 8 * (len(blob) - len(payload))
