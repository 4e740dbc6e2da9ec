"""`kt`: adaptive order-k context model with the KT (add-1/2) / Dirichlet-alpha estimator.

Model. The alphabet is {0..K-1}, K = max byte + 1 of the input (one meta byte in the stream) or
forced with `alphabet=`. Symbol x_t is coded in the context of the k symbols before it, the
missing ones before the start read as 0 (so the first k symbols use zero-padded contexts). Each
context keeps integer counts n_s; the coding distribution is

    p(s | ctx) = (n_s + alpha) / (n + K alpha)          alpha = 1/2: Krichevsky-Trofimov

which is the Bayes mixture of all categorical distributions under a Dirichlet(alpha) prior, so
with alpha = 1/2 every context seen m times costs at most ((K-1)/2) log2 m + log2 K bits more
than the best fixed distribution for that context (the log2 K is the worst case, reached at
m = 1; checked by exhaustive enumeration for K <= 5, and it is the classical "+1" for K = 2).

Contexts. If K^k contexts fit (K^k <= 2^22 and K^(k+1) counters <= 2^24, or K^k <= 2^hashbits
when `hashbits` is given) they index the table directly; otherwise the k symbols are hashed into
2^hashbits slots (default 24 - ceil(log2 K), i.e. 2^24 counters, 64 MB) and colliding contexts
share counts. The regret bound (`extras["regret_bound_bits"]`) is reported only for the direct
table with alpha = 1/2, where it is a theorem.

One step function. The numba kernels `_slot` (context -> table row), `_row` (counts -> the
float64 row given to the coder: n_s + alpha, exact in floating point) and `_count` (update) are
the only code that touches the model. The encoder runs them in a compiled loop that fills
chunks of (rows, K) distributions for `core.Encoder.encode` (one call per chunk); the decoder
calls `_dec_step` (the same three kernels) once per symbol around `core.Decoder.decode`. The
probabilities are therefore bit-identical on both sides.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from ..coding.core import Decoder, Encoder
from ..errors import CorruptStreamError, DataError, UsageError
from ..params import Param
from .base import ProgressFn, register
from .model import ModelCoder, Payload, alphabet_of

_MAX_DENSE_CTX = 1 << 22
_MAX_COUNTERS = 1 << 24  # default table size (int32 counters): 64 MB
_MAX_TABLE = 1 << 30  # hard cap on counters for an explicit hashbits
_MAX_ANS_BUFFER = 1 << 31  # bytes of distributions coder=ans may hold until finish()
_TERMINATION_BITS = 64  # range/ANS coders write whole 32-bit words; the tail costs <= 64 bits

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


# ---------------------------------------------------------------------------------------------
# Compiled kernels: shared by encoder, decoder and the step model.
# cfg = [order, K, dense(0/1), hashbits]


@numba.njit(cache=True, nogil=True)
def _slot(buf: np.ndarray, end: int, cfg: np.ndarray) -> int:
    """Table row of the context buf[end-order:end] (positions before 0 read as symbol 0)."""
    order, k, dense, hashbits = cfg[0], cfg[1], cfg[2], cfg[3]
    if dense:
        idx = np.int64(0)
        for j in range(end - order, end):
            s = np.int64(buf[j]) if j >= 0 else np.int64(0)
            idx = idx * k + s
        return idx
    h = _FNV_OFFSET
    for j in range(end - order, end):
        s = np.uint64(buf[j] if j >= 0 else 0)
        h = (h ^ (s + np.uint64(1))) * _FNV_PRIME
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return np.int64(h >> np.uint64(64 - hashbits))


@numba.njit(cache=True, nogil=True)
def _row(counts: np.ndarray, slot: int, alpha: float, out: np.ndarray) -> None:
    """The coding distribution (unnormalised, n_s + alpha) of one context into `out` (K,)."""
    c = counts[slot]
    for s in range(out.shape[0]):
        out[s] = c[s] + alpha


@numba.njit(cache=True, nogil=True)
def _count(counts: np.ndarray, slot: int, sym: int) -> None:
    counts[slot, sym] += 1


@numba.njit(cache=True, nogil=True)
def _enc_fill(buf: np.ndarray, start: int, counts: np.ndarray, cfg: np.ndarray, alpha: float,
              out: np.ndarray) -> None:
    """Rows for symbols start .. start+len(out)-1, updating the counts after each one."""
    for i in range(out.shape[0]):
        t = start + i
        slot = _slot(buf, t, cfg)
        _row(counts, slot, alpha, out[i])
        _count(counts, slot, buf[t])


@numba.njit(cache=True, nogil=True)
def _dec_step(buf: np.ndarray, t: int, counts: np.ndarray, cfg: np.ndarray, alpha: float,
              out: np.ndarray) -> None:
    """Decoder: count buf[t-1] (just decoded) in its context, then the row for symbol t."""
    if t > 0:
        _count(counts, _slot(buf, t - 1, cfg), buf[t - 1])
    _row(counts, _slot(buf, t, cfg), alpha, out)


@numba.njit(cache=True, nogil=True)
def _multi_predict(hist: np.ndarray, counts: np.ndarray, shared: bool, cfg: np.ndarray,
                   alpha: float, out: np.ndarray) -> None:
    order = cfg[0]
    for b in range(hist.shape[0]):
        _row(counts[0 if shared else b], _slot(hist[b], order, cfg), alpha, out[b])


@numba.njit(cache=True, nogil=True)
def _multi_update(hist: np.ndarray, counts: np.ndarray, shared: bool, cfg: np.ndarray,
                  symbols: np.ndarray) -> None:
    order = cfg[0]
    for b in range(hist.shape[0]):
        _count(counts[0 if shared else b], _slot(hist[b], order, cfg), symbols[b])
        for j in range(order - 1):
            hist[b, j] = hist[b, j + 1]
        if order > 0:
            hist[b, order - 1] = symbols[b]


# ---------------------------------------------------------------------------------------------


def table_layout(alphabet: int, order: int, hashbits: int = 0) -> tuple[bool, int]:
    """(dense, slots) for K = `alphabet`: direct indexing when K^order contexts fit, else
    hashing into 2^hashbits slots (hashbits=0: the default rule in the module docstring)."""
    k = max(alphabet, 1)
    nctx = k**order
    if hashbits:
        if nctx <= 1 << hashbits:
            return True, nctx
        slots = 1 << hashbits
    else:
        if nctx <= _MAX_DENSE_CTX and nctx * k <= _MAX_COUNTERS:
            return True, nctx
        slots = 1 << max(10, 24 - math.ceil(math.log2(k)))
    if slots * k > _MAX_TABLE:
        raise UsageError(f"kt: 2^{int(math.log2(slots))} slots x {k} symbols is too large a "
                         f"table (at most 2^30 counters); lower hashbits")
    return False, slots


def regret_bound(alphabet: int, order: int, n: int) -> float:
    """Worst-case KT regret over the best order-k model, in bits, excluding headers:
    K^k ((K-1)/2) log2 n + K^k log2 K (per-context constant, see the module docstring)."""
    k = alphabet
    if n < 1 or k < 2:
        return 0.0
    nctx = k**order
    return nctx * ((k - 1) / 2 * math.log2(n) + math.log2(k))


class KTStepModel:
    """A Python-level `StepModel` of the KT/Dirichlet coder over B parallel streams.

    Each stream b has its own order-k history (zero-padded at its start) and, by default, its
    own count table: stream b's probabilities depend only on stream b's past, exactly as if it
    were coded alone by `kt` (B = 1 reproduces the `kt` coder's probabilities bit for bit).
    With `shared=True` all streams read and update one table (the counts after a step include
    every stream's symbol of that step; within a step, predictions use the counts before it).
    `predict()` returns (B, K) unnormalised float64 rows n_s + alpha; `update(symbols)` counts
    them. Both are compiled (one call per step for all B streams).
    """

    def __init__(self, alphabet: int, streams: int, order: int, alpha: float = 0.5,
                 hashbits: int = 0, shared: bool = False) -> None:
        if alphabet < 1 or streams < 1:
            raise UsageError("kt step model: alphabet and streams must be positive")
        self.alphabet, self.streams, self.shared = alphabet, streams, shared
        dense, slots = table_layout(alphabet, order, hashbits)
        bits = 0 if dense else int(math.log2(slots))
        self._cfg = np.array([order, alphabet, int(dense), bits], dtype=np.int64)
        self._alpha = float(alpha)
        self._hist = np.zeros((streams, order), dtype=np.int64)
        self._counts = np.zeros((1 if shared else streams, slots, alphabet), dtype=np.int32)
        self._out = np.empty((streams, alphabet), dtype=np.float64)

    def predict(self) -> np.ndarray:
        _multi_predict(self._hist, self._counts, self.shared, self._cfg, self._alpha, self._out)
        return self._out.copy()

    def update(self, symbols: np.ndarray) -> None:
        sym = np.ascontiguousarray(symbols, dtype=np.int64).reshape(-1)
        if sym.shape[0] != self.streams or sym.min() < 0 or sym.max() >= self.alphabet:
            raise ValueError("kt step model: one symbol in [0, K) per stream is required")
        _multi_update(self._hist, self._counts, self.shared, self._cfg, sym)


@register
class KT(ModelCoder):
    name = "kt"
    family = "statistical"
    summary = "adaptive order-k context model, KT (add-1/2) or Dirichlet-alpha counts"
    library = "constriction"
    params = (
        Param("order", int, 2, "context length k (previous symbols)", min=0, max=24),
        Param("alpha", float, 0.5, "Dirichlet pseudo-count (0.5 = KT, 1 = Laplace)",
              min=1e-6, max=1e6),
        Param("alphabet", int, 0, "0: the data's (max byte + 1, sent in 1 byte); else forced K",
              min=0, max=256),
        Param("hashbits", int, 0, "log2 hash slots when K^k contexts don't fit (0: auto)",
              min=0, max=30),
        Param("coder", str, "range", "entropy coder", choices=("range", "ans")),
    )

    # -- helpers -----------------------------------------------------------------------------

    def _cfg(self, k: int) -> tuple[np.ndarray, int]:
        order = self.config["order"]
        dense, slots = table_layout(k, order, self.config["hashbits"])
        bits = 0 if dense else int(math.log2(slots))
        return np.array([order, k, int(dense), bits], dtype=np.int64), slots

    def _alphabet(self, data: bytes) -> int:
        forced = self.config["alphabet"]
        k = alphabet_of(data)
        if forced:
            if k > forced:
                raise DataError(f"kt: input has byte value {k - 1}, outside alphabet={forced}")
            return forced
        return k

    def step_model(self, alphabet: int, streams: int, shared: bool = False) -> KTStepModel:
        """This coder's model as a `StepModel` over `streams` parallel streams (see
        `KTStepModel` for the semantics: independent tables unless `shared`)."""
        return KTStepModel(alphabet, streams, self.config["order"], self.config["alpha"],
                           self.config["hashbits"], shared)

    # -- coding ------------------------------------------------------------------------------

    def encode_payload(self, data: bytes, side: Any, progress: ProgressFn | None) -> Payload:
        n = len(data)
        if n >= 1 << 31:
            raise DataError("kt: inputs of 2^31 bytes or more are not supported (int32 counts)")
        k = self._alphabet(data)
        meta = b"" if self.config["alphabet"] else bytes([k - 1])
        if k == 1:  # all zeros: the length says everything (constriction needs K >= 2)
            return Payload(b"", 0.0, meta, {"alphabet": 1})
        cfg, slots = self._cfg(k)
        alpha = float(self.config["alpha"])
        buf = np.frombuffer(data, dtype=np.uint8)
        counts = np.zeros((slots, k), dtype=np.int32)
        rows = int(min(65536, max(64, (1 << 17) // k)))  # ~1 MB of rows: stays in cache
        probs = np.empty((rows, k), dtype=np.float64)
        ans = self.config["coder"] == "ans"
        if ans and n * k * 8 > _MAX_ANS_BUFFER:
            raise UsageError(f"kt: coder=ans keeps every distribution until the end (n x K x 8 "
                             f"= {n * k * 8 / 2**30:.1f} GiB here, limit 2 GiB); use coder=range")
        enc = Encoder(self.config["coder"])
        for start in range(0, n, rows):
            m = min(rows, n - start)
            _enc_fill(buf, start, counts, cfg, alpha, probs[:m])
            # ANS (a stack) keeps the arrays it is given until finish(): hand it its own copies
            enc.encode(buf[start:start + m], probs[:m].copy() if ans else probs[:m])
            if progress is not None:
                progress(start + m, n)
        stream = enc.finish()
        extras: dict[str, Any] = {"alphabet": k, "dense": bool(cfg[2]), "slots": slots}
        if cfg[2] and alpha == 0.5 and k >= 2:
            header = self.container_bits(data, meta=meta)
            extras["regret_bound_bits"] = (regret_bound(k, self.config["order"], n) + header
                                           + _TERMINATION_BITS)
        return Payload(stream, enc.bits_ideal, meta, extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, side: Any,
                       progress: ProgressFn | None) -> bytes:
        if self.config["alphabet"]:
            if meta:
                raise CorruptStreamError("corrupt stream (unexpected kt meta bytes)")
            k = self.config["alphabet"]
        else:
            if len(meta) != 1:
                raise CorruptStreamError("corrupt stream (kt meta must be one alphabet byte)")
            k = meta[0] + 1
        if length >= 1 << 31:
            raise CorruptStreamError("corrupt stream (length too large for kt)")
        if k == 1:
            if payload:
                raise CorruptStreamError("corrupt stream (payload after a one-symbol alphabet)")
            return bytes(length)
        cfg, slots = self._cfg(k)
        alpha = float(self.config["alpha"])
        counts = np.zeros((slots, k), dtype=np.int32)
        out = np.zeros(length, dtype=np.uint8)
        row = np.empty((1, k), dtype=np.float64)
        r0 = row[0]
        dec = Decoder(payload, self.config["coder"])
        every = 1 << 16
        for t in range(length):
            _dec_step(out, t, counts, cfg, alpha, r0)
            out[t] = dec.decode(row)[0]
            if progress is not None and (t + 1) % every == 0:
                progress(t + 1, length)
        if progress is not None:
            progress(length, length)
        return out.tobytes()
