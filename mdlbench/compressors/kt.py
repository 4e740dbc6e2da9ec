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

Coding. A symbol is D = ceil(log2 K) binary decisions, most significant bit first, coded by the
binary arithmetic coder of coding/binary.py inside ONE compiled loop, `_code(mode, ...)`, that
the encoder (mode 0) and the decoder (mode 1) share. At a node u of the binary tree over the
symbols, P(bit = 1) is the KT mass of u's right subtree over the mass of u, where the mass of a
subtree is n_u + alpha r_u (n_u: how often its symbols were seen in this context; r_u: how many
of its symbols are below K: the symbols >= K of the last subtree carry no prior mass, and a node
whose right subtree holds none codes nothing). Along a symbol's path the ratios telescope to
exactly (n_s + alpha) / (n + K alpha). Each ratio is rounded to 16 bits for the coder:
`bits_ideal` is Σ -log2 of the probabilities actually coded, `extras["bits_kt"]` the exact KT
code length (unquantised, the figure the regret bound speaks of). The rounding costs next to
nothing (measured in tests/test_kt.py: under 0.001 % of the length on text and on Markov
sources); the coder adds its flush byte and under 0.01 %.

Counts. Each context owns W = 2^D int32 counters: [0] how often the context was seen, [u] for an
internal node u (heap order, root 1) how many of those symbols went right at u. A prediction
and an update walk one path: O(log K). The public kernels `kt_begin`, `kt_p`, `kt_bit`,
`kt_end` and `kt_commit` on a `KTState` (the model's arrays, named) are the whole model; `_code`
and the ensemble's compiled loop (compressors/ensemble.py) both call them, so an ensemble's kt member predicts exactly what this coder codes.

Contexts. If K^k contexts fit (K^k <= 2^22 and K^k W counters <= 2^24, or K^k <= 2^hashbits
when `hashbits` is given) they index the table directly; otherwise the k symbols are hashed into
2^hashbits slots (default 24 - D, i.e. 2^24 counters, 64 MB) and colliding contexts share
counts. The regret bound (`extras["regret_bound_bits"]`) is reported only for one stream, the
direct table and alpha = 1/2, where it is a theorem.

Streams. `streams=B` codes the input as B contiguous streams in lockstep (the layout of
coding/streams.py, as the neural coders): ONE count table shared by all streams, a history per
stream (its contexts come from its own past, zero-padded at its start). As in every lockstep
model, the predictions of a step see the counts before that step: its B symbols are counted
once all B are coded. `KTStepModel` is the same model as a byte-level StepModel: its rows are
the exact distributions of `kt:streams=B`.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numba
import numpy as np

from ..coding.binary import Outputs, dec_bit, decisions_bound, decoder_state, enc_cost
from ..coding.streams import (
    layout,
    layout_array,
    segment_steps,
    segments,
    stream_length,
    stream_start,
)
from ..errors import CorruptStreamError, UsageError
from ..params import Param
from .base import Given, register
from .model import CountingCoder, Payload, one_symbol

_MAX_DENSE_CTX = 1 << 22
_MAX_COUNTERS = 1 << 24  # default table size (int32 counters): 64 MB
_MAX_TABLE = 1 << 30  # hard cap on counters for an explicit hashbits
_TERMINATION_BITS = 64  # the binary coder's flush byte and rounding, with room to spare
_BLOCK = 1 << 16  # symbols per compiled call (progress and output growth in between)

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)

# cfg (int64): order, K, dense (0/1), hashbits, D
C_ORDER, C_K, C_DENSE, C_HASHBITS, C_DEPTH = range(5)
# per-stream scratch (B, 4) int64: context slot, current node, count at that node, symbol
KS_SLOT, KS_NODE, KS_COUNT, KS_SYM = range(4)


class KTState(NamedTuple):
    """The arrays of one kt model, as the compiled kernels take them."""

    counts: np.ndarray   # (slots, 2^D) int32: [0] times the context was seen, [u] went right at u
    config: np.ndarray   # int64 C_* settings
    real: np.ndarray     # int64 per tree node: how many of its symbols are below K
    alpha: float         # the Dirichlet pseudo-count
    scratch: np.ndarray  # (B, 4) int64 per stream: KS_* (slot, node, count at node, symbol)


# ---------------------------------------------------------------------------------------------
# The model: compiled kernels shared by the coder, the step model and the ensemble.


@numba.njit(cache=True, nogil=True)
def _slot(buf: np.ndarray, end: int, start: int, cfg: np.ndarray) -> int:
    """Table row of the context buf[end-order:end] (positions before `start` read as 0)."""
    order, k, dense, hashbits = cfg[C_ORDER], cfg[C_K], cfg[C_DENSE], cfg[C_HASHBITS]
    if dense:
        idx = np.int64(0)
        for j in range(end - order, end):
            s = np.int64(buf[j]) if j >= start else np.int64(0)
            idx = idx * k + s
        return idx
    h = _FNV_OFFSET
    for j in range(end - order, end):
        s = np.uint64(buf[j] if j >= start else 0)
        h = (h ^ (s + np.uint64(1))) * _FNV_PRIME
    h ^= h >> np.uint64(30)
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    return np.int64(h >> np.uint64(64 - hashbits))


@numba.njit(cache=True, inline="always")
def kt_begin(m: KTState, b: int, buf: np.ndarray, pos: int, start: int) -> None:
    """Stream b starts the symbol at `pos`: find its context, stand at the root."""
    slot = _slot(buf, pos, start, m.config)
    m.scratch[b, KS_SLOT] = slot
    m.scratch[b, KS_NODE] = 1
    m.scratch[b, KS_COUNT] = m.counts[slot, 0]


@numba.njit(cache=True, inline="always")
def kt_depth(m: KTState) -> int:
    """D: the binary decisions of a symbol (the low D bits of a byte)."""
    return m.config[C_DEPTH]


@numba.njit(cache=True, inline="always")
def kt_p(m: KTState, b: int) -> int:
    """16-bit P(next bit = 1) at stream b's node; 0 when the bit must be 0 (no symbol < K to
    the right)."""
    ks, alpha = m.scratch, m.alpha
    u = ks[b, KS_NODE]
    r1 = m.real[2 * u + 1]
    if r1 == 0:
        return 0
    m1 = m.counts[ks[b, KS_SLOT], u] + alpha * r1
    p = int(m1 / (ks[b, KS_COUNT] + alpha * m.real[u]) * 65536.0 + 0.5)
    if p < 1:
        return 1
    if p > 65535:
        return 65535
    return p


@numba.njit(cache=True, inline="always")
def kt_bit(m: KTState, b: int, y: int) -> None:
    """Step down to child y of stream b's node."""
    ks = m.scratch
    u = ks[b, KS_NODE]
    n1 = m.counts[ks[b, KS_SLOT], u]
    ks[b, KS_COUNT] = n1 if y else ks[b, KS_COUNT] - n1
    ks[b, KS_NODE] = 2 * u + y


@numba.njit(cache=True, inline="always")
def kt_end(m: KTState, b: int) -> int:
    """Stream b's symbol is at a leaf: note it for `kt_commit` and return it."""
    ks = m.scratch
    sym = ks[b, KS_NODE] - (1 << m.config[C_DEPTH])
    ks[b, KS_SYM] = sym
    return sym


@numba.njit(cache=True, inline="always")
def kt_commit(m: KTState, b: int) -> None:
    """Count stream b's symbol (noted by `kt_end`) in its context: once per step, after all B."""
    counts = m.counts
    slot = m.scratch[b, KS_SLOT]
    sym = m.scratch[b, KS_SYM]
    d = m.config[C_DEPTH]
    counts[slot, 0] += 1
    u = 1
    for i in range(d):
        y = (sym >> (d - 1 - i)) & 1
        if y:
            counts[slot, u] += 1
        u = 2 * u + y


@numba.njit(cache=True, nogil=True)
def _code(mode: int, buf: np.ndarray, lay: np.ndarray, t0: int, t1: int, stream: np.ndarray,
          cs: np.ndarray, m: KTState, acc: np.ndarray, seg: np.ndarray, seg_steps: int) -> None:
    """Steps t0..t1-1 of the lockstep layout `lay`: encode (mode 0) the symbols of buf into
    `stream`, or decode (mode 1) them from `stream` into buf. Encoding adds Σ -log2 p of the
    coded decisions to acc[0] and seg[t // seg_steps], and keeps the exact KT length as
    acc[1] - log2(acc[2]) (a running product, folded into the sum before it underflows)."""
    nb = lay[0]
    d = m.config[C_DEPTH]
    k = m.config[C_K]
    alpha = m.alpha
    ks = m.scratch
    for t in range(t0, t1):
        bits = 0.0
        for b in range(nb):
            if t >= stream_length(lay, b):
                continue  # the ragged last step
            start = stream_start(lay, b)
            pos = start + t
            kt_begin(m, b, buf, pos, start)
            root = ks[b, KS_COUNT]
            sym = np.int64(buf[pos]) if mode == 0 else np.int64(0)
            for i in range(d):
                p = kt_p(m, b)
                if mode == 0:
                    y = (sym >> (d - 1 - i)) & 1
                    if p:
                        bits += enc_cost(cs, stream, y, p)
                else:
                    y = dec_bit(cs, stream, p) if p else 0
                kt_bit(m, b, y)
            sym = kt_end(m, b)
            if mode == 0:
                acc[2] *= (ks[b, KS_COUNT] + alpha) / (root + k * alpha)
                if acc[2] < 1e-250:
                    acc[1] -= math.log2(acc[2])
                    acc[2] = 1.0
            else:
                buf[pos] = sym
        for b in range(nb):
            if t < stream_length(lay, b):
                kt_commit(m, b)
        acc[0] += bits
        seg[t // seg_steps] += bits


@numba.njit(cache=True, nogil=True)
def _rows(hist: np.ndarray, m: KTState, leaf: np.ndarray, out: np.ndarray) -> None:
    """Each stream's distribution (n_s + alpha for s < K) from the counts of its context."""
    counts, cfg, alpha, ks = m.counts, m.config, m.alpha, m.scratch
    order = cfg[C_ORDER]
    w = leaf.shape[0] // 2
    for b in range(hist.shape[0]):
        slot = _slot(hist[b], order, 0, cfg)
        ks[b, KS_SLOT] = slot
        leaf[1] = counts[slot, 0]
        for u in range(1, w):
            leaf[2 * u + 1] = counts[slot, u]
            leaf[2 * u] = leaf[u] - counts[slot, u]
        for s in range(out.shape[1]):
            out[b, s] = leaf[w + s] + alpha


@numba.njit(cache=True, nogil=True)
def _count_step(hist: np.ndarray, m: KTState, symbols: np.ndarray) -> None:
    order = m.config[C_ORDER]
    for b in range(hist.shape[0]):
        m.scratch[b, KS_SLOT] = _slot(hist[b], order, 0, m.config)
        m.scratch[b, KS_SYM] = symbols[b]
        kt_commit(m, b)
        for j in range(order - 1):
            hist[b, j] = hist[b, j + 1]
        if order > 0:
            hist[b, order - 1] = symbols[b]


# ---------------------------------------------------------------------------------------------


def depth(alphabet: int) -> int:
    """D: binary decisions per symbol (at least 1)."""
    return max(1, math.ceil(math.log2(max(alphabet, 2))))


def table_layout(alphabet: int, order: int, hashbits: int = 0) -> tuple[bool, int]:
    """(dense, slots) for K = `alphabet`: direct indexing when K^order contexts fit, else
    hashing into 2^hashbits slots (hashbits=0: the default rule in the module docstring)."""
    k = max(alphabet, 1)
    width = 1 << depth(k)
    nctx = k**order
    if hashbits:
        if nctx <= 1 << hashbits:
            return True, nctx
        slots = 1 << hashbits
    else:
        if nctx <= _MAX_DENSE_CTX and nctx * width <= _MAX_COUNTERS:
            return True, nctx
        slots = 1 << max(10, 24 - depth(k))
    if slots * width > _MAX_TABLE:
        raise UsageError(f"kt: 2^{int(math.log2(slots))} slots x {width} counters is too large "
                         f"a table (at most 2^30 counters); lower hashbits")
    return False, slots


def regret_bound(alphabet: int, order: int, n: int) -> float:
    """Worst-case KT regret over the best order-k model, in bits, excluding headers:
    K^k ((K-1)/2) log2 n + K^k log2 K (per-context constant, see the module docstring)."""
    k = alphabet
    if n < 1 or k < 2:
        return 0.0
    nctx = k**order
    return nctx * ((k - 1) / 2 * math.log2(n) + math.log2(k))


class KTModel:
    """The arrays of one kt model over B streams: the shared counts, the tree's real-symbol
    counts, and each stream's scratch. `state` is what the compiled kernels take."""

    def __init__(self, alphabet: int, streams: int, order: int, alpha: float = 0.5,
                 hashbits: int = 0) -> None:
        if not 1 <= alphabet <= 256 or streams < 1:
            raise UsageError("kt: the alphabet must be 1..256 and streams positive")
        dense, slots = table_layout(alphabet, order, hashbits)
        d = depth(alphabet)
        self.alphabet, self.streams, self.dense, self.slots = alphabet, streams, dense, slots
        self.alpha = float(alpha)
        self.cfg = np.array([order, alphabet, int(dense), 0 if dense else int(math.log2(slots)),
                             d], dtype=np.int64)
        self.real = np.zeros(2 << d, dtype=np.int64)
        for lvl in range(d + 1):
            for u in range(1 << lvl, 2 << lvl):
                lo = (u - (1 << lvl)) << (d - lvl)
                self.real[u] = min(max(alphabet - lo, 0), 1 << (d - lvl))
        self.counts = np.zeros((slots, 1 << d), dtype=np.int32)
        self.ks = np.zeros((streams, 4), dtype=np.int64)
        self.state = KTState(self.counts, self.cfg, self.real, self.alpha, self.ks)


class KTStepModel:
    """`kt:streams=B` as a byte-level `StepModel`: predict() gives the (B, K) rows n_s + alpha
    of each stream's context (exact in floating point), update(symbols) counts the step's B
    symbols in the one shared table and moves each stream's history on. Compiled: one call per
    step for all B streams."""

    def __init__(self, alphabet: int, streams: int, order: int, alpha: float = 0.5,
                 hashbits: int = 0) -> None:
        self.model = KTModel(alphabet, streams, order, alpha, hashbits)
        self.alphabet, self.streams = alphabet, streams
        self._hist = np.zeros((streams, order), dtype=np.uint8)
        self._leaf = np.zeros(2 << int(self.model.cfg[C_DEPTH]), dtype=np.int64)
        self._out = np.empty((streams, alphabet), dtype=np.float64)

    def predict(self) -> np.ndarray:
        m = self.model
        _rows(self._hist, m.state, self._leaf, self._out)
        return self._out.copy()

    def update(self, symbols: np.ndarray) -> None:
        sym = np.ascontiguousarray(symbols, dtype=np.int64).reshape(-1)
        if sym.shape[0] != self.streams or sym.min() < 0 or sym.max() >= self.alphabet:
            raise ValueError("kt step model: one symbol in [0, K) per stream is required")
        m = self.model
        _count_step(self._hist, m.state, sym)


@register
class KT(CountingCoder):
    name = "kt"
    family = "statistical"
    summary = "adaptive order-k context model, KT (add-1/2) or Dirichlet-alpha counts"
    library = "numba"
    params = (
        CountingCoder.ORDER,
        Param("alpha", float, 0.5, "Dirichlet pseudo-count (0.5 = KT, 1 = Laplace)",
              min=1e-6, max=1e6),
        CountingCoder.ALPHABET,
        Param("hashbits", int, 0, "log2 hash slots when K^k contexts don't fit (0: auto)",
              min=0, max=30),
        Param("streams", int, 1, "lockstep streams sharing one count table (B)", min=1,
              max=65536),
    )
    max_input = (1 << 31) - 1
    max_input_why = "int32 counts"

    # -- limits ------------------------------------------------------------------------------

    def memory_bytes(self, n: int) -> int:
        """The count table (int32, for the forced alphabet or the worst case of 256 symbols),
        the input, the stream and the decoded copy."""
        k = self.config["alphabet"] or 256
        _, slots = table_layout(k, self.config["order"], self.config["hashbits"])
        return 3 * n + 4 * slots * (1 << depth(k))

    def length_bound(self, stream_bytes: int, meta: bytes = b"") -> int:
        """Every symbol of a K >= 2 alphabet has at least one coded decision, with a
        probability of at most 65535/2^16 (`decisions_bound`); a one-symbol alphabet costs
        nothing, so only `max_input` bounds it."""
        k = self.config["alphabet"] or (meta[0] + 1 if len(meta) == 1 else 256)
        if k == 1:
            return self.max_input
        return min(self.max_input, decisions_bound(stream_bytes))

    # -- helpers -----------------------------------------------------------------------------

    def model(self, alphabet: int, streams: int) -> KTModel:
        """A fresh model of this spec over `streams` streams (for the ensemble's loop)."""
        c = self.config
        return KTModel(alphabet, streams, c["order"], c["alpha"], c["hashbits"])

    def step_model(self, alphabet: int, streams: int) -> KTStepModel:
        """This coder's model as a byte-level `StepModel` (see `KTStepModel`)."""
        c = self.config
        return KTStepModel(alphabet, streams, c["order"], c["alpha"], c["hashbits"])

    def _run(self, mode: int, buf: np.ndarray, k: int, out: Outputs | None,
             stream: np.ndarray | None, cs: np.ndarray | None,
             given: Given) -> tuple[KTModel, np.ndarray, np.ndarray, int]:
        n = buf.shape[0]
        lay = layout_array(n, self.config["streams"])
        b, q, r = (int(v) for v in lay)
        m = self.model(k, b)
        steps = q + (r > 0)
        seg_steps = segment_steps(n, b)
        seg = np.zeros(-(-steps // seg_steps), dtype=np.float64)
        acc = np.array([0.0, 0.0, 1.0])
        block = max(1, _BLOCK // b)
        d = int(m.cfg[C_DEPTH])
        for t0 in range(0, steps, block):
            t1 = min(steps, t0 + block)
            if out is not None:
                out.reserve((t1 - t0) * b * d)
                stream, cs = out.out[0], out.cs[0]
            _code(mode, buf, lay, t0, t1, stream, cs, m.state, acc, seg, seg_steps)
            bits = () if out is None else (8.0 * out.size(),)  # real bits so far
            given.tell(min(t1, q) * b + (r if t1 > q else 0), n, *bits)
        return m, acc, seg, seg_steps

    # -- coding ------------------------------------------------------------------------------

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        n = len(data)
        k, meta = self.header(data)
        b = layout(n, self.config["streams"])[0]
        if k == 1:  # all zeros: the length says everything
            return Payload(b"", 0.0, meta, {"alphabet": 1, "streams": b, "bits_kt": 0.0,
                                            "segments": []})
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        out = Outputs(1, n // 2 + 64)
        m, acc, seg, seg_steps = self._run(0, buf, k, out, None, None, given)
        stream = out.finish()
        exact = float(acc[1] - math.log2(acc[2]))
        extras: dict[str, Any] = {"alphabet": k, "dense": m.dense, "slots": m.slots,
                                  "streams": b, "bits_kt": exact,
                                  "segments": segments(seg, n, b, seg_steps)}
        if m.dense and self.config["alpha"] == 0.5 and b == 1:
            header = self.container_bits(data, meta=meta)
            extras["regret_bound_bits"] = (regret_bound(k, self.config["order"], n) + header
                                           + _TERMINATION_BITS)
        return Payload(stream, float(acc[0]), meta, extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        k = self.read_header(meta, length)
        if k == 1:
            return one_symbol(payload, length)
        inp = np.frombuffer(payload, dtype=np.uint8).copy()  # one array type for both modes
        cs = decoder_state(inp)
        buf = np.zeros(length, dtype=np.uint8)
        self._run(1, buf, k, None, inp, cs, given)
        if cs[3] > len(inp) + 4:
            raise CorruptStreamError("kt: truncated stream (decoder ran past its end)")
        return buf.tobytes()
