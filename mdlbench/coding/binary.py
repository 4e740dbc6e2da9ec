"""A small binary arithmetic coder compiled with numba, for bit-level models.

Why not constriction here: a bit-level context-mixing model (compressors/mix.py) predicts one
binary probability per bit, and the next prediction depends on the bit just decoded. Handing
each bit to constriction from Python costs about 1.4 µs a call (measured on this project's
2-core machine: one symbol per call decodes at ~700 K symbols/s), 8 calls a byte, which caps
decoding far below 100 KB/s. This coder runs *inside* the compiled model loop instead.

The coder is the classic 32-bit carryless binary arithmetic coder (the paq/lpaq family's
design): the interval [x1, x2] of 32-bit integers is split at

    xmid = x1 + floor((x2 - x1) * p / 2^16)        p = P(bit = 1) in 1..65535 (16-bit)

bit 1 keeps [x1, xmid], bit 0 keeps [xmid + 1, x2]; whenever the leading bytes of x1 and x2
agree, that byte is final and is shifted out. The flush writes one byte; the decoder reads
0xFF past the end of the stream, which lands inside the final interval. Its cost over
Σ -log2 p is tiny (measured against constriction on the same probabilities in
tests/test_mix.py: overhead ≤ 0.01 %, plus the one flushed byte).

State lives in a 4-element int64 array `cs`: [x1, x2, x (decoder), byte position]. One coded
decision shifts out at most the 4 bytes of the 32-bit state (`MAX_BYTES_PER_DECISION`); `Outputs`
uses that to grow the buffers of one or more encoders between compiled blocks, so a compiled
loop never drops a byte and never has to run again.
"""

from __future__ import annotations

import numba
import numpy as np

PROB_BITS = 16
PROB_ONE = 1 << PROB_BITS
MAX_BYTES_PER_DECISION = 4
_MASK32 = 0xFFFFFFFF
NLOG2 = np.concatenate([[0.0], -np.log2(np.arange(1, PROB_ONE + 1) / PROB_ONE)])
"""NLOG2[p] = -log2(p / 2^16): the ideal cost of a decision coded with probability p."""


def decisions_bound(stream_bytes: int, p_max: int = PROB_ONE - 1) -> int:
    """The most decisions a stream of `stream_bytes` bytes can hold when no decision is coded
    with a probability above p_max / 2^16: each costs at least NLOG2[p_max] bits. Twice that
    count (plus 16 bytes of slack), because the carryless coder's rounding can undercut the
    ideal cost a little while its interval straddles a byte boundary. A stream header claiming
    more is damage, found before any decoding (see `Compressor.length_bound`)."""
    return int(2 * 8 * (stream_bytes + 16) / NLOG2[p_max])


@numba.njit(cache=True, inline="always")
def enc_bit(cs: np.ndarray, out: np.ndarray, bit: int, p: int) -> None:
    """Code `bit` with P(bit=1) = p / 2^16 (1 <= p <= 65535). Writes whole bytes to `out`;
    bytes beyond `out`'s end are counted in cs[3] but not written (caller checks overflow)."""
    x1 = cs[0]
    x2 = cs[1]
    r = x2 - x1
    xmid = x1 + (r >> 16) * p + (((r & 0xFFFF) * p) >> 16)
    if bit:
        x2 = xmid
    else:
        x1 = xmid + 1
    pos = cs[3]
    n = out.shape[0]
    while ((x1 ^ x2) & 0xFF000000) == 0:
        if pos < n:
            out[pos] = x2 >> 24
        pos += 1
        x1 = (x1 << 8) & _MASK32
        x2 = ((x2 << 8) & _MASK32) | 255
    cs[0] = x1
    cs[1] = x2
    cs[3] = pos


@numba.njit(cache=True, inline="always")
def enc_cost(cs: np.ndarray, out: np.ndarray, bit: int, p: int) -> float:
    """`enc_bit`, returning the decision's ideal cost -log2 P(bit) in bits (what a coder sums
    for its Σ -log2 p)."""
    enc_bit(cs, out, bit, p)
    return NLOG2[p] if bit else NLOG2[PROB_ONE - p]


@numba.njit(cache=True)
def enc_flush(cs: np.ndarray, out: np.ndarray) -> None:
    """Write the final byte: x1's leading byte followed by the decoder's 0xFF padding is
    inside [x1, x2]."""
    pos = cs[3]
    if pos < out.shape[0]:
        out[pos] = cs[0] >> 24
    cs[3] = pos + 1


@numba.njit(cache=True)
def dec_init(cs: np.ndarray, inp: np.ndarray) -> None:
    cs[0] = 0
    cs[1] = _MASK32
    x = 0
    n = inp.shape[0]
    for i in range(4):
        x = (x << 8) | (inp[i] if i < n else 255)
    cs[2] = x
    cs[3] = 4


@numba.njit(cache=True, inline="always")
def dec_bit(cs: np.ndarray, inp: np.ndarray, p: int) -> int:
    """Decode one bit coded with P(bit=1) = p / 2^16. Past the end of `inp` it reads 0xFF;
    cs[3] - len(inp) tells the caller how far it over-read."""
    x1 = cs[0]
    x2 = cs[1]
    x = cs[2]
    r = x2 - x1
    xmid = x1 + (r >> 16) * p + (((r & 0xFFFF) * p) >> 16)
    if x <= xmid:
        bit = 1
        x2 = xmid
    else:
        bit = 0
        x1 = xmid + 1
    pos = cs[3]
    n = inp.shape[0]
    while ((x1 ^ x2) & 0xFF000000) == 0:
        x1 = (x1 << 8) & _MASK32
        x2 = ((x2 << 8) & _MASK32) | 255
        x = ((x << 8) & _MASK32) | (inp[pos] if pos < n else 255)
        pos += 1
    cs[0] = x1
    cs[1] = x2
    cs[2] = x
    cs[3] = pos
    return bit


def new_state() -> np.ndarray:
    """A fresh encoder state ([x1, x2, x, pos])."""
    return np.array([0, _MASK32, 0, 0], dtype=np.int64)


def decoder_state(inp: np.ndarray) -> np.ndarray:
    """A decoder's state, positioned at the start of the stream `inp`."""
    cs = new_state()
    dec_init(cs, inp)
    return cs


class Outputs:
    """The states `cs[i]` and byte buffers `out[i]` of `rows` binary encoders, for compiled
    loops that code in blocks: `reserve(d)` before a block that codes at most d decisions per
    encoder makes room for them, so no byte is ever dropped."""

    def __init__(self, rows: int = 1, capacity: int = 1 << 12) -> None:
        self.cs = np.tile(new_state(), (rows, 1))
        self.out = np.zeros((rows, capacity), dtype=np.uint8)

    def reserve(self, decisions: int) -> None:
        need = int(self.cs[:, 3].max()) + MAX_BYTES_PER_DECISION * decisions + 8
        if need > self.out.shape[1]:
            grown = np.zeros((self.out.shape[0], max(need, 2 * self.out.shape[1])),
                             dtype=np.uint8)
            grown[:, : self.out.shape[1]] = self.out
            self.out = grown

    def size(self, row: int = 0) -> int:
        """Bytes written so far by encoder `row` (before its final flush byte)."""
        return int(self.cs[row, 3])

    def finish(self, row: int = 0) -> bytes:
        """Flush encoder `row` and return its stream."""
        self.reserve(1)
        enc_flush(self.cs[row], self.out[row])
        return self.out[row, : self.cs[row, 3]].tobytes()


@numba.njit(cache=True)
def _encode_all(bits: np.ndarray, probs: np.ndarray, out: np.ndarray, cs: np.ndarray) -> int:
    for i in range(bits.shape[0]):
        enc_bit(cs, out, bits[i], probs[i])
    enc_flush(cs, out)
    return cs[3]


@numba.njit(cache=True)
def _decode_all(inp: np.ndarray, probs: np.ndarray, bits: np.ndarray, cs: np.ndarray) -> int:
    dec_init(cs, inp)
    for i in range(probs.shape[0]):
        bits[i] = dec_bit(cs, inp, probs[i])
    return cs[3]


def _check_probs(probs: np.ndarray) -> np.ndarray:
    probs = np.ascontiguousarray(probs, dtype=np.int64).reshape(-1)
    if probs.size and (probs.min() < 1 or probs.max() >= PROB_ONE):
        raise ValueError("probabilities must be integers in 1..65535 (P(bit=1) × 2^16)")
    return probs


def encode_bits(bits: np.ndarray, probs: np.ndarray) -> bytes:
    """Code a whole array of bits under 16-bit probabilities P(1) (for tests and tools)."""
    bits = np.ascontiguousarray(bits, dtype=np.int64).reshape(-1)
    probs = _check_probs(probs)
    if bits.shape != probs.shape:
        raise ValueError("one probability per bit is required")
    out = np.zeros(MAX_BYTES_PER_DECISION * bits.size + 8, dtype=np.uint8)
    return out[: _encode_all(bits, probs, out, new_state())].tobytes()


def decode_bits(stream: bytes, probs: np.ndarray) -> np.ndarray:
    """Inverse of `encode_bits` given the same probabilities."""
    probs = _check_probs(probs)
    inp = np.frombuffer(stream, dtype=np.uint8)
    bits = np.zeros(probs.size, dtype=np.int64)
    _decode_all(inp, probs, bits, new_state())
    return bits


def ideal_bits(bits: np.ndarray, probs: np.ndarray) -> float:
    """Σ -log2 p(bit) under the 16-bit probabilities, in bits."""
    bits = np.asarray(bits, dtype=np.int64).reshape(-1)
    p1 = _check_probs(probs) / PROB_ONE
    return float(-np.log2(np.where(bits == 1, p1, 1.0 - p1)).sum())
