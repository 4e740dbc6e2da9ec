"""Arithmetic coding of symbols under given distributions, on constriction.

Every model-based coder turns its predictions into a real stream here and nowhere else (the one
exception is the numba binary coder in coding/binary.py, for bit-level models whose coder must
run inside their compiled loop):

- `Encoder.encode(symbols, probs)` takes whole (N, K) arrays, `Decoder.decode(probs)` returns
  one symbol per row. The range coder (a queue) is the default: it streams, so the encoder can
  code as the model predicts. ANS (a stack) is available too; because a stack decodes in
  reverse, its encoder buffers everything and writes on `finish()`.
- `AnsStack` is the stack itself, for bits-back coding, where a coder pops symbols (weights
  drawn from a posterior) off the stack before it pushes the data: push/pop of categorical rows,
  of one fixed table, and of quantised Gaussians.

All categorical models are `Categorical(perfect=False)`, quantised deterministically, so the
decoder sees exactly the encoder's model as long as the floats it is given are bit-identical.
constriction's errors on data no model could have written become `CorruptStreamError` here.
`bits_ideal` is Σ -log2 p(symbol) under the (normalised) floats given, in bits.
"""

from __future__ import annotations

import constriction
import numpy as np

from ..errors import CorruptStreamError, UsageError

CODERS = ("range", "ans")
MAX_ALPHABET = 1 << 24
PROB_FLOOR = 1e-12
"""Smallest probability a float model hands the coder: -log2 p stays finite (≤ 40 bits)."""

_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
_queue, _stack = constriction.stream.queue, constriction.stream.stack  # attributes, not modules
_CORRUPT = (ValueError, RuntimeError, AssertionError)
"""What constriction raises when it decodes data that no model could have written."""


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


def _symbols(symbols: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(symbols, dtype=np.int32).reshape(-1)


def _words(payload: bytes) -> np.ndarray:
    if len(payload) % 4:
        raise CorruptStreamError("truncated stream (payload is not a whole number of words)")
    return np.frombuffer(payload, dtype=np.uint32).copy()


def _check_coder(coder: str) -> None:
    if coder not in CODERS:
        raise UsageError(f"unknown entropy coder {coder!r} (known: {', '.join(CODERS)})")


def ideal_bits(symbols: np.ndarray, probs: np.ndarray) -> float:
    """Σ -log2 p(symbol) under the row-normalised probabilities (exact, in bits)."""
    probs = _check(probs)
    symbols = np.asarray(symbols, dtype=np.int64)
    p = probs[np.arange(len(symbols)), symbols] / probs.sum(axis=1)
    return float(-np.log2(p).sum())


class AnsStack:
    """constriction's ANS stack for bits-back coding: what is pushed last is popped first.

    `push(symbols, probs)` codes a whole batch so that `pop(probs)` returns it in its original
    order. Popping from a stack that holds arbitrary words is how bits-back draws a sample
    (the words are the "initial bits"), so a pop never fails on short data; only words that no
    encoder writes (a last word of zero) are refused, as a corrupt stream.
    """

    def __init__(self, words: np.ndarray | None = None) -> None:
        try:
            self._ans = _stack.AnsCoder() if words is None else _stack.AnsCoder(words)
        except _CORRUPT as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None

    @classmethod
    def from_bytes(cls, payload: bytes) -> AnsStack:
        return cls(_words(payload))

    def push(self, symbols: np.ndarray, probs: np.ndarray) -> None:
        """Push one symbol per row of `probs` (N, K)."""
        self._ans.encode_reverse(_symbols(symbols), _CATEGORICAL, _check(probs))

    def pop(self, probs: np.ndarray) -> np.ndarray:
        """Pop one symbol per row of `probs` (N, K)."""
        try:
            return self._ans.decode(_CATEGORICAL, _check(probs)).astype(np.int64, copy=False)
        except _CORRUPT as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None

    decode = pop
    """The decoder side of `code_steps`: a stack pops one step's symbols at a time."""

    def push_table(self, symbols: np.ndarray, table: np.ndarray) -> None:
        """Push every symbol under the same distribution `table` (K,)."""
        self._ans.encode_reverse(_symbols(symbols), _fixed(table))

    def pop_table(self, table: np.ndarray, n: int) -> np.ndarray:
        """Pop `n` symbols, each under the distribution `table` (K,)."""
        try:
            return np.asarray(self._ans.decode(_fixed(table), n), dtype=np.int64)
        except _CORRUPT as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None

    def push_gaussian(self, symbols: np.ndarray, bound: int, means: np.ndarray,
                      stds: np.ndarray) -> None:
        """Push integers in [-bound, bound] under Gaussians N(mean, std²) quantised to integer
        bins (one mean and std > 0 per symbol)."""
        self._ans.encode_reverse(_symbols(symbols), _gaussian(bound), means, stds)

    def pop_gaussian(self, bound: int, means: np.ndarray, stds: np.ndarray) -> np.ndarray:
        """Pop one integer in [-bound, bound] per (mean, std): the inverse of `push_gaussian`."""
        try:
            return np.asarray(self._ans.decode(_gaussian(bound), means, stds), dtype=np.int64)
        except _CORRUPT as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None

    def num_bits(self) -> int:
        """Bits the stack holds now (whole 32-bit words, plus the coder's state)."""
        return int(self._ans.num_bits())

    def words(self) -> np.ndarray:
        """The stack as 32-bit words (what `AnsStack(words)` takes back)."""
        return self._ans.get_compressed()

    def to_bytes(self) -> bytes:
        return self.words().tobytes()


def _fixed(table: np.ndarray):
    try:
        return constriction.stream.model.Categorical(np.asarray(table, dtype=np.float64),
                                                     perfect=False)
    except _CORRUPT as e:
        raise CorruptStreamError(f"corrupt stream (distribution: {e})") from None


def _gaussian(bound: int):
    return constriction.stream.model.QuantizedGaussian(-bound, bound)


class Encoder:
    """Accumulates symbols under their distributions; `finish()` returns the stream bytes."""

    def __init__(self, coder: str = "range") -> None:
        _check_coder(coder)
        self.coder = coder
        self.bits_ideal = 0.0
        self.count = 0
        self._range = _queue.RangeEncoder() if coder == "range" else None
        self._pending: list[tuple[np.ndarray, np.ndarray]] = []

    def encode(self, symbols: np.ndarray, probs: np.ndarray, ideal: float | None = None) -> None:
        """Code `symbols` under the rows of `probs`. `ideal`: Σ -log2 p if the caller already
        has it (it must be the same quantity; it only saves recomputing it). A caller that
        computed it has indexed every symbol in its row, so the alphabet check is skipped too:
        this is the neural encoders' hot path, one call per training segment."""
        probs = _check(probs)
        symbols = _symbols(symbols)
        if symbols.shape[0] != probs.shape[0]:
            raise ValueError("one distribution per symbol is required")
        if symbols.size == 0:
            return
        if ideal is None:
            if symbols.min() < 0 or symbols.max() >= probs.shape[1]:
                raise ValueError("symbol outside the alphabet of its distribution")
            ideal = ideal_bits(symbols, probs)
        self.bits_ideal += ideal
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
        stack = AnsStack()
        for symbols, probs in reversed(self._pending):
            stack.push(symbols, probs)
        self._pending.clear()
        return stack.to_bytes()


class Decoder:
    """Decodes symbols one batch of distributions at a time, in the encoder's order."""

    def __init__(self, payload: bytes, coder: str = "range") -> None:
        _check_coder(coder)
        words = _words(payload)
        self._range = _queue.RangeDecoder(words) if coder == "range" else None
        self._stack = AnsStack(words) if coder == "ans" else None

    def decode(self, probs: np.ndarray) -> np.ndarray:
        probs = _check(probs)
        if probs.shape[1] == 1:
            return np.zeros(probs.shape[0], dtype=np.int64)
        if self._stack is not None:
            return self._stack.pop(probs)
        try:
            return self._range.decode(_CATEGORICAL, probs).astype(np.int64, copy=False)
        except _CORRUPT as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None


def encode(symbols: np.ndarray, probs: np.ndarray, coder: str = "range") -> tuple[bytes, float]:
    """One-shot: code all symbols; returns (stream bytes, ideal bits)."""
    enc = Encoder(coder)
    enc.encode(symbols, probs)
    return enc.finish(), enc.bits_ideal


def decode(payload: bytes, probs: np.ndarray, coder: str = "range") -> np.ndarray:
    """One-shot inverse of `encode` when all distributions are known up front."""
    return Decoder(payload, coder).decode(probs)
