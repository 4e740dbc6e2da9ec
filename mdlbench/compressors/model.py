"""Base class for model-based coders (statistical, neural, variational, prequential).

They all write the same self-describing container (coding/container.py): the reported bits
include magic, spec, length, checksum and the coder's own meta bytes, and the decoder rebuilds
the coder from the spec stored in the stream. Subclasses implement only the payload.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from ..coding import container
from ..errors import CorruptStreamError, DataError
from ..params import Param
from .base import NOTHING_GIVEN, Compressor, Encoded, Given
from .bounds import check_length


@dataclass
class Payload:
    """What a model-based encoder produces besides the container header."""

    data: bytes
    bits_ideal: float
    meta: bytes = b""
    extras: dict[str, Any] = field(default_factory=dict)


class ModelCoder(Compressor):
    family = "statistical"
    self_describing = True

    @abstractmethod
    def encode_payload(self, data: bytes, given: Given) -> Payload:
        """Code non-empty `data` (with `given.side`, if the coder uses it); return the stream,
        Σ -log2 p in bits, and meta for the decoder."""

    @abstractmethod
    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        """Inverse of `encode_payload` for an input of `length` bytes. A payload or meta that
        the encoder cannot have written raises CorruptStreamError (the decoder checks what it
        reads; the coding layer converts constriction's errors); any other exception is a bug.
        Output that merely differs from the input is caught by the container's CRC-32."""

    def encode(self, data: bytes, given: Given = NOTHING_GIVEN) -> Encoded:
        p = Payload(b"", 0.0) if not data else self.encode_payload(data, given)
        return self.wrap(data, p)

    def wrap(self, data: bytes, payload: Payload) -> Encoded:
        """The container around the payload of `data`: what `encode` returns."""
        blob = container.wrap(self.spec, data, payload.data, payload.meta)
        return Encoded(blob, payload.bits_ideal, payload.extras)

    def container_bits(self, data: bytes, payload: bytes = b"", meta: bytes = b"") -> int:
        """Bits of the whole container for this payload (with no payload: the header alone)."""
        return 8 * len(container.wrap(self.spec, data, payload, meta))

    def compress(self, data: bytes) -> bytes:
        return self.encode(data).blob

    def decode(self, blob: bytes, given: Given = NOTHING_GIVEN) -> bytes:
        header, payload = container.unwrap(blob)
        if header.spec != self.spec:
            raise CorruptStreamError(f"stream was written by {header.spec!r}, not {self.spec!r}")
        if header.length == 0:
            return container.check(header, b"")
        check_length(self, header.length, len(payload), header.meta)  # a forged length fails
        data = self.decode_payload(payload, header.length, header.meta, given)
        return container.check(header, data)

    def decompress(self, blob: bytes) -> bytes:
        return self.decode(blob)


def alphabet_of(data: bytes) -> int:
    """The smallest alphabet {0..K-1} holding every byte of `data` (sent as one header byte)."""
    return max(data) + 1 if data else 1


def coded_alphabet(name: str, forced: int, k: int) -> int:
    """The alphabet a coder with an `alphabet=forced` parameter (0: the data's) uses for data
    whose bytes are below k; DataError when a byte is outside the forced one."""
    if forced and k > forced:
        raise DataError(f"{name}: input has byte value {k - 1}, outside alphabet={forced}")
    return forced or k


def alphabet_meta(forced: int, k: int) -> bytes:
    """The stream's meta for alphabet K: one byte K - 1, or nothing when the spec forces K."""
    return b"" if forced else bytes([k - 1])


def one_symbol(payload: bytes, length: int) -> bytes:
    """The data of a one-symbol alphabet: all zeros, said by the length alone, so a payload
    after it is damage."""
    if payload:
        raise CorruptStreamError("corrupt stream (payload after a one-symbol alphabet)")
    return bytes(length)


def read_alphabet(name: str, forced: int, meta: bytes) -> int:
    """K from meta written by `alphabet_meta`; CorruptStreamError when the meta does not fit."""
    if forced:
        if meta:
            raise CorruptStreamError(f"corrupt stream (unexpected {name} meta bytes)")
        return forced
    if len(meta) != 1:
        raise CorruptStreamError(f"corrupt stream ({name} meta must be one alphabet byte)")
    return meta[0] + 1


class CountingCoder(ModelCoder):
    """A context-counting coder of the order-k Markov class (kt, snml): int32 counts per
    context, an `alphabet` parameter, and the same stream header (the alphabet byte)."""

    ORDER = Param("order", int, 2, "context length k (previous symbols)", min=0, max=24)
    ALPHABET = Param("alphabet", int, 0, "0: the data's (max byte + 1, sent in 1 byte); else "
                     "forced K", min=0, max=256)

    def alphabet_for(self, k: int) -> int:
        """The alphabet this coder uses for data whose bytes are below k."""
        return coded_alphabet(self.name, self.config["alphabet"], k)

    def header(self, data: bytes) -> tuple[int, bytes]:
        """The alphabet K of `data` and the stream's meta; DataError for inputs the int32
        counts cannot hold."""
        if len(data) >= 1 << 31:
            raise DataError(f"{self.name}: inputs of 2^31 bytes or more are not supported "
                            "(int32 counts)")
        k = self.alphabet_for(alphabet_of(data))
        return k, alphabet_meta(self.config["alphabet"], k)

    def read_header(self, meta: bytes, length: int) -> int:
        """K from the stream's meta, checked with the length it codes."""
        k = read_alphabet(self.name, self.config["alphabet"], meta)
        if length >= 1 << 31:
            raise CorruptStreamError(f"corrupt stream (length too large for {self.name})")
        return k
