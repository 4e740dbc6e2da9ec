"""`snml`: the sequential NML coder of the order-k Markov class (Feder, Urbanke & Fogel 2025).

Model. The alphabet is {0..K-1}, K = max byte + 1 of the input (one meta byte in the stream) or
forced with `alphabet=`. Symbol x_t is coded in the context of the k symbols before it (those
before the start read as 0, as in `kt`), and each context's distribution is the sequential NML
predictor of the multinomial class:

    p(a | x^{t-1}) ∝ max_θ p_θ(x^{t-1} a) ∝ (c_a + 1)^(c_a + 1) / c_a^(c_a)    (0^0 = 1)

with c_a the count of a in this context so far (Rissanen & Roos 2007, "Conditional NML
universal models", on sequential NML). It depends on the counts alone, like KT's
(c_a + ½) / (n + K/2), and grows like e·(c_a + ½) for large counts, so the two are close; SNML's regret stays within a small constant of the minimax regret
log2 C(K, n) of each context, which the `(NML)` row of a Markov or i.i.d. dataset shows.

Coding. The weights are w_a = exp(g(c_a) - max_b g(c_b)), g(c) = ln(c+1) + c·log1p(1/c), in
float64 by one compiled kernel (`_row`) that encoder and decoder share, so their probabilities
are identical; constriction's range coder normalises and codes them. The encoder fills chunks
of rows in one compiled call and hands each chunk to the coder at once; the decoder steps once
per symbol through the same kernels. Contexts index a dense table (K^k rows of K counts), so
K^k ≤ 2^22 and K^(k+1) ≤ 2^24 counters.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from ..coding.core import Decoder, Encoder
from ..errors import CorruptStreamError, UsageError
from .base import Given, register
from .model import CountingCoder, Payload, one_symbol

_MAX_CTX = 1 << 22
_MAX_COUNTERS = 1 << 24


@numba.njit(cache=True, nogil=True)
def _slot(buf: np.ndarray, end: int, order: int, k: int) -> int:
    """Row of the context buf[end-order:end] (positions before 0 read as symbol 0)."""
    idx = 0
    for j in range(end - order, end):
        idx = idx * k + (np.int64(buf[j]) if j >= 0 else 0)
    return idx


@numba.njit(cache=True, nogil=True)
def _g(c: int) -> float:
    """ln((c+1)^(c+1) / c^c), with 0^0 = 1."""
    if c == 0:
        return 0.0
    return math.log(c + 1.0) + c * math.log1p(1.0 / c)


@numba.njit(cache=True, nogil=True)
def _row(counts: np.ndarray, slot: int, out: np.ndarray) -> None:
    """The SNML weights of one context into `out` (K,), largest weight 1."""
    c = counts[slot]
    top = _g(c.max())
    for s in range(out.shape[0]):
        out[s] = math.exp(_g(c[s]) - top)


@numba.njit(cache=True, nogil=True)
def _enc_fill(buf: np.ndarray, start: int, counts: np.ndarray, order: int,
              out: np.ndarray) -> None:
    """Rows for symbols start .. start+len(out)-1, counting each symbol after its row."""
    k = out.shape[1]
    for i in range(out.shape[0]):
        t = start + i
        slot = _slot(buf, t, order, k)
        _row(counts, slot, out[i])
        counts[slot, buf[t]] += 1


@numba.njit(cache=True, nogil=True)
def _dec_step(buf: np.ndarray, t: int, counts: np.ndarray, order: int, out: np.ndarray) -> None:
    """Decoder: count buf[t-1] (just decoded) in its context, then the row for symbol t."""
    k = out.shape[0]
    if t > 0:
        counts[_slot(buf, t - 1, order, k), buf[t - 1]] += 1
    _row(counts, _slot(buf, t, order, k), out)


@register
class SNML(CountingCoder):
    name = "snml"
    family = "statistical"
    summary = "sequential NML (SNML) coder of the order-k Markov class: the minimax-regret code"
    library = "constriction"
    params = (CountingCoder.ORDER, CountingCoder.ALPHABET)

    def _contexts(self, k: int) -> int:
        nctx = k ** self.config["order"]
        if nctx > _MAX_CTX or nctx * k > _MAX_COUNTERS:
            raise UsageError(f"snml: {k}^{self.config['order']} contexts of {k} counts do not "
                             f"fit (at most 2^22 contexts and 2^24 counters); lower the order")
        return nctx

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        n = len(data)
        k, meta = self.header(data)
        if k == 1:  # all zeros: the length says everything (constriction needs K >= 2)
            return Payload(b"", 0.0, meta, {"alphabet": 1})
        order = self.config["order"]
        counts = np.zeros((self._contexts(k), k), dtype=np.int32)
        buf = np.frombuffer(data, dtype=np.uint8)
        rows = int(min(65536, max(64, (1 << 17) // k)))
        probs = np.empty((rows, k), dtype=np.float64)
        enc = Encoder("range")
        for start in range(0, n, rows):
            m = min(rows, n - start)
            _enc_fill(buf, start, counts, order, probs[:m])
            enc.encode(buf[start:start + m], probs[:m])
            given.tell(start + m, n)
        return Payload(enc.finish(), enc.bits_ideal, meta,
                       {"alphabet": k, "contexts": int(counts.shape[0])})

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        k = self.read_header(meta, length)
        if k == 1:
            return one_symbol(payload, length)
        try:
            counts = np.zeros((self._contexts(k), k), dtype=np.int32)
        except UsageError as e:
            raise CorruptStreamError(f"corrupt stream ({e})") from None
        order = self.config["order"]
        out = np.zeros(length, dtype=np.uint8)
        row = np.empty((1, k), dtype=np.float64)
        dec = Decoder(payload, "range")
        for t in range(length):
            _dec_step(out, t, counts, order, row[0])
            out[t] = dec.decode(row)[0]
            if (t + 1) % (1 << 16) == 0:
                given.tell(t + 1, length)
        given.tell(length, length)
        return out.tobytes()
