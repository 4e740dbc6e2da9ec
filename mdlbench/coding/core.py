"""Arithmetic coding of symbols under given categorical distributions, on constriction.

Every model-based coder turns its predictions into a real stream here and nowhere else:
`Encoder.encode(symbols, probs)` takes whole (N, K) arrays, `Decoder.decode(probs)` returns one
symbol per row. The range coder (a queue) is the default: it streams, so the encoder can code
as the model predicts. ANS (a stack) is available; because a stack decodes in reverse, its
encoder buffers everything and writes on `finish()`; that is what bits-back coding needs.

Both sides quantise probabilities with `Categorical(perfect=False)`, deterministically, so the
decoder sees exactly the encoder's model as long as the floats it is given are bit-identical.
`bits_ideal` is Σ -log2 p(symbol) under the (normalised) floats given, in bits.
"""

from __future__ import annotations

import constriction
import numpy as np

from ..errors import CorruptStreamError, UsageError

CODERS = ("range", "ans")
MAX_ALPHABET = 1 << 24

_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
_queue, _stack = constriction.stream.queue, constriction.stream.stack  # attributes, not modules


def _check(probs: np.ndarray) -> np.ndarray:
    if type(probs) is np.ndarray and probs.dtype == np.float64 and probs.ndim == 2 \
            and probs.flags.c_contiguous and 1 <= probs.shape[1] <= MAX_ALPHABET:
        return probs  # the hot path of step-by-step decoders: no copies, no conversions
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim == 1:
        probs = probs[None, :]
    if probs.ndim != 2 or probs.shape[1] < 1 or probs.shape[1] > MAX_ALPHABET:
        raise UsageError(f"probabilities must be (N, K) with 1 <= K <= {MAX_ALPHABET}")
    return np.ascontiguousarray(probs)


def ideal_bits(symbols: np.ndarray, probs: np.ndarray) -> float:
    """Σ -log2 p(symbol) under the row-normalised probabilities (exact, in bits)."""
    probs = _check(probs)
    symbols = np.asarray(symbols, dtype=np.int64)
    p = probs[np.arange(len(symbols)), symbols] / probs.sum(axis=1)
    return float(-np.log2(p).sum())


class Encoder:
    """Accumulates symbols under their distributions; `finish()` returns the stream bytes."""

    def __init__(self, coder: str = "range") -> None:
        if coder not in CODERS:
            raise UsageError(f"unknown entropy coder {coder!r} (known: {', '.join(CODERS)})")
        self.coder = coder
        self.bits_ideal = 0.0
        self.count = 0
        self._range = _queue.RangeEncoder() if coder == "range" else None
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []

    def encode(self, symbols: np.ndarray, probs: np.ndarray, ideal: float | None = None) -> None:
        """Code `symbols` under the rows of `probs`. `ideal`: Σ -log2 p if the caller already
        has it (it must be the same quantity; it only saves recomputing it)."""
        probs = _check(probs)
        symbols = np.ascontiguousarray(symbols, dtype=np.int32).reshape(-1)
        if symbols.shape[0] != probs.shape[0]:
            raise ValueError("one distribution per symbol is required")
        if symbols.size == 0:
            return
        if symbols.min() < 0 or symbols.max() >= probs.shape[1]:
            raise ValueError("symbol outside the alphabet of its distribution")
        self.bits_ideal += ideal_bits(symbols, probs) if ideal is None else ideal
        self.count += symbols.size
        if probs.shape[1] == 1:
            return  # a one-symbol alphabet costs nothing: the decoder knows every symbol
        if self._range is not None:
            self._range.encode(symbols, _CATEGORICAL, probs)
        else:  # ANS writes in reverse at finish(): keep private copies of reusable buffers
            self._pending.append((symbols.copy(), probs.copy()))

    def num_bits(self) -> int:
        """Bits the range coder's stream holds so far (whole 32-bit words); ANS: known at finish."""
        if self._range is None:
            raise ValueError("num_bits() is only defined for the range coder before finish()")
        return int(self._range.num_bits())

    def finish(self) -> bytes:
        if self._range is not None:
            return self._range.get_compressed().tobytes()
        ans = _stack.AnsCoder()
        for symbols, probs in reversed(self._pending):
            ans.encode_reverse(symbols, _CATEGORICAL, probs)
        self._pending.clear()
        return ans.get_compressed().tobytes()


class Decoder:
    """Decodes symbols one batch of distributions at a time, in the encoder's order."""

    def __init__(self, payload: bytes, coder: str = "range") -> None:
        if coder not in CODERS:
            raise UsageError(f"unknown entropy coder {coder!r} (known: {', '.join(CODERS)})")
        if len(payload) % 4:
            raise CorruptStreamError("truncated stream (payload is not a whole number of words)")
        words = np.frombuffer(payload, dtype=np.uint32).copy()
        self._dec = _queue.RangeDecoder(words) if coder == "range" else _stack.AnsCoder(words)

    def decode(self, probs: np.ndarray) -> np.ndarray:
        probs = _check(probs)
        if probs.shape[1] == 1:
            return np.zeros(probs.shape[0], dtype=np.int64)
        try:
            return self._dec.decode(_CATEGORICAL, probs).astype(np.int64, copy=False)
        except (ValueError, RuntimeError, AssertionError) as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None


def encode(symbols: np.ndarray, probs: np.ndarray, coder: str = "range") -> tuple[bytes, float]:
    """One-shot: code all symbols; returns (stream bytes, ideal bits)."""
    enc = Encoder(coder)
    enc.encode(symbols, probs)
    return enc.finish(), enc.bits_ideal


def decode(payload: bytes, probs: np.ndarray, coder: str = "range") -> np.ndarray:
    """One-shot inverse of `encode` when all distributions are known up front."""
    return Decoder(payload, coder).decode(probs)
