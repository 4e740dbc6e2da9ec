"""`mix`: a bit-level context-mixing coder (in the spirit of PAQ/lpaq), compiled with numba.

Each byte is coded as 8 binary decisions, most significant bit first. For every bit:

- context models: one per order in `orders` (hash of the last k bytes; order 0 is the partial
  byte alone) plus, with `word=true`, three text contexts: the current word with the last byte,
  the current word with the previous word, and the column in the line with the last byte (the
  last one alone takes alice29 from 1.938 to 1.915 bpb and plrabn12 from 2.107 to 2.070). Each context owns a 16-byte slot per nibble in a
  shared hash table of 2^mem bytes (1 check byte + 15 bit-history states, one per node of the
  nibble's binary tree; 3-way probing, the least-used slot is replaced). A slot holds *bit
  histories*: 8-bit states standing for bounded counts (n0, n1) that discard part of the
  opposite count when a bit is seen (so they follow non-stationary data). An adaptive state map
  per context turns a state into a probability (input stretch(p)); a second input per context
  says how sure a deterministic history is (only 0s or only 1s seen, and how many).
- binary contexts, switched on by what the encoder finds in the data (`detect_shape`; the
  finding, a `Shape`, goes into the stream's meta, so the decoder builds the same model; on
  text nothing is found, no meta is written and the stream is what it was without them):
  on binary data (under 90 % text bytes) six sparse contexts (bytes 2, 3, 2+3, 1+3, 3+4 back,
  and the high nibbles of the last three) replace the three text contexts; where one distance
  r repeatedly separates equal bytes (paq8's record model: four equal steps in a row), six
  record contexts (the byte r above, with the last byte, with the byte 2r above, with its
  neighbours, with the column, and all of them); on a raster (some distance R in 8..4096 at
  which bytes differ far less than at the others: its rows), six image contexts of the
  neighbours W, N, NW, NE of the same channel (pixel stride: r when it is 2-4 bytes) and the
  predictions of a lossless image coder (W + N - NW, (W + NE)/2, the last channel's
  gradient). Binary streams use the lean set (`context_codes`, meta flag 8: order 3 and two
  image contexts left out, each measured to save at most 0.1 % anywhere; about a fifth less
  time on kennedy.xls and ptt5); streams written without the flag keep the full set. On x86
  machine code (at least 32 near calls, half of them to a target another call shares:
  `x86_calls`) the data is modelled after the E8/E9 transform (`e8e9`: near call and jump
  addresses made absolute, undone after decoding; meta flag 16): ls 50,298 -> 48,405 B,
  libz.so 47,650 -> 47,087 (ZPAQ-5 52,196, 49,172).
  Measured: kennedy.xls 25,606 -> 13,374 B, ptt5 44,096 -> 25,614, sum 9,996 -> 8,974
  (ZPAQ-5 15,792, 27,547, 9,511).
- a match model: the most recent earlier occurrence of the last 12 bytes (hash of them → last
  position) predicts the next bit of the byte that followed it; its confidence is learned per
  (match length bucket, predicted bit), plus an input growing with the match length.
- mixing: inputs are in the stretch domain ln(p/(1-p)); four logistic mixers whose weight sets
  are selected by the partial byte, the match state, the previous byte, and (number of contexts
  seen before × bit position), then a second-layer mixer (selected by the partial byte) over
  their outputs; online gradient descent on coding cost (layer-1 sets skip the update when the
  error is under 3 %, which is faster and measured no worse).
- two APM/SSE stages (partial byte × hashed order-2 context, partial byte × previous byte)
  refine the mixed probability; the final 16-bit probability averages mixer and both stages.

Defaults (orders 0-4+6+8, word contexts, match model, 2^26-byte table, lr 4, limit 255) were
chosen on the Canterbury English texts and bible.txt; total memory ≈ 100 MB.

Speed. The per-bit loops index the tables with unsigned indices (`_u`): numba otherwise adds a
negative-index fix-up to every access, and dropping it took a third off the CPU time with the
same bits. Measured (CPU s, min of 3, interleaved with ZPAQ-5 in one process, busy 2-core
machine): Canterbury total encode 3.19 s / decode 2.99 s vs ZPAQ-5 4.05 / 4.09 (before the
lean set and `_u`: 5.02 / 4.49 vs 4.23 / 4.23); every file faster than ZPAQ-5, kennedy.xls
1.15 s vs 1.38, ptt5 0.47 vs 0.60.

All arithmetic is integer (fixed point), so the same input and parameters give the same bits on
every run and machine. The whole model step, for encoder and decoder alike, is `mix_begin`,
`mix_predict` and `mix_update` on a `MixState` (the model's arrays, named) inside the one
compiled `_code(mode, ...)`; only the coding point differs (a mode
flag), so the two cannot drift. Bits are coded with the binary arithmetic coder of
`mdlbench.coding.binary` inside the compiled loop (see that module for why not constriction,
and tests/test_mix.py for its check against constriction); `bits_ideal` is Σ -log2 p of the
coded bits under the 16-bit probabilities. The ensemble (compressors/ensemble.py) runs the same
public kernels on a `MixModel`'s state, so its mix member predicts exactly what this coder codes.

Streams. `streams=B` codes the input as B contiguous streams in lockstep (coding/streams.py, the
layout a network needs to code B positions per step), byte by byte, stream after stream. The
learned state is ONE model shared by all streams (hash table, state maps, mixers, APMs); each
stream keeps its own history (last bytes, words, column, match position; contexts zero-padded
at its start). The match model has one table of true positions and finds matches in everything
coded so far, in any stream (a candidate counts only once its bytes are coded, which encoder
and decoder know alike). A byte's first-nibble slots are claimed when the byte starts (claimed
at the end of the previous byte, other streams could evict them in between; identical bits at
B = 1). Interleaving B text regions hurts recency-weighted statistics: measured on bible.txt,
shared tables alone cost +2.6 % at B = 2 and +6.8 % at B = 16 over B = 1 (1.3107 bpb). So for
B > 1 every context also has a per-stream twin (its hash salted with the stream: local recency
beside the shared knowledge) and the second-layer mixer is per stream: +0.4 % at B = 2
(1.3160), +2.0 % at B = 16 (1.3376), at about 0.6 of the single-stream speed
(twice the contexts; measured at B = 16 on 1 MB of bible.txt).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numba
import numpy as np

from ..coding.binary import NLOG2, Outputs, dec_bit, dec_init, decisions_bound, enc_bit, new_state
from ..coding.streams import layout, layout_array, segment_steps, segments, stream_of, stream_start
from ..errors import CorruptStreamError, UsageError
from ..params import Param
from .base import Given, register
from .model import ModelCoder, Payload

# --------------------------------------------------------------------------- constant tables


def _squash_tables() -> tuple[np.ndarray, np.ndarray]:
    """squash: stretch domain x in -2047..2047 (units of 1/256 nat) → 16-bit probability;
    stretch: 12-bit probability → x. Integer tables from a 33-point interpolation grid."""
    grid = [round(65536 / (1 + math.exp(-(i - 16) / 2))) for i in range(33)]
    grid = [min(max(v, 16), 65520) for v in grid]
    sq = np.zeros(4096, dtype=np.int64)
    for x in range(-2047, 2048):
        w = x & 127
        j = (x >> 7) + 16
        sq[x + 2048] = (grid[j] * (128 - w) + grid[min(j + 1, 32)] * w + 64) >> 7
    sq[0] = sq[1]
    st = np.zeros(4096, dtype=np.int64)
    pi = 0
    for x in range(-2047, 2048):
        v = int(sq[x + 2048]) >> 4
        for j in range(pi, v + 1):
            st[j] = x
        pi = max(pi, v + 1)
    st[pi:] = 2047
    return sq, st


_COUNT_LIMIT = (50, 30, 16, 10, 7, 6)


def _state_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bit-history states: bounded pairs (n0, n1); returns next-state (S, 2), initial 16-bit
    probability (S,), and priority n0 + n1 (S,). State 0 is 'never seen' (0, 0)."""
    def allowed(a: int, b: int) -> bool:
        lo, hi = min(a, b), max(a, b)
        return lo < len(_COUNT_LIMIT) and hi <= _COUNT_LIMIT[lo]

    def norm(a: int, b: int) -> tuple[int, int]:
        while not allowed(a, b):
            lo, hi = min(a, b), max(a, b)
            if lo >= len(_COUNT_LIMIT):
                nlo = len(_COUNT_LIMIT) - 1
                nhi = max(nlo, (hi * nlo + lo // 2) // lo)
            else:
                nlo, nhi = lo, _COUNT_LIMIT[lo]
            a, b = (nlo, nhi) if a <= b else (nhi, nlo)
        return a, b

    states = [(0, 0)]
    index = {(0, 0): 0}
    nxt: list[list[int]] = []
    i = 0
    while i < len(states):
        n0, n1 = states[i]
        row = []
        for y in (0, 1):
            a, b = (n0 + 1, n1) if y == 0 else (n0, n1 + 1)
            if y == 0 and b > 2:
                b = b // 2 + 1
            if y == 1 and a > 2:
                a = a // 2 + 1
            s = norm(a, b)
            if s not in index:
                index[s] = len(states)
                states.append(s)
            row.append(index[s])
        nxt.append(row)
        i += 1
    if len(states) > 256:
        raise AssertionError("too many bit-history states")
    nex = np.zeros((256, 2), dtype=np.int64)
    nex[: len(nxt)] = nxt
    p0 = np.full(256, 32768, dtype=np.int64)
    pri = np.zeros(256, dtype=np.int64)
    for k, (n0, n1) in enumerate(states):
        p0[k] = int((n1 + 0.4) / (n0 + n1 + 0.8) * 65536)
        pri[k] = n0 + n1
    conf = np.zeros(256, dtype=np.int64)
    for k, (n0, n1) in enumerate(states):
        if n0 == 0 and n1 > 0:
            conf[k] = min(2047, int(256 * math.log2(n1 + 1)))
        elif n1 == 0 and n0 > 0:
            conf[k] = -min(2047, int(256 * math.log2(n0 + 1)))
    return nex.reshape(-1), np.clip(p0, 64, 65472), pri, conf


SQUASH, STRETCH = _squash_tables()
NEX, STATE_P0, PRIORITY, CONF = _state_tables()
RECIP = np.array([65536 * 2 // (2 * n + 3) for n in range(1024)], dtype=np.int64)

# per-stream state S (int64)
(P_POS, P_C0, P_NIB, P_BP, P_C4, P_W0, P_W1, P_MPTR, P_MLEN, P_EXP, P_LINE, P_START, P_STREAM,
 P_SALT, P_RLEN, P_TOUCH) = range(16)
P_ROW = 78  # a raster's row width in bytes (0: none)
P_PIX = 79  # its pixel stride in bytes
P_H = 16       # context hashes
P_SLOT = 48    # slot offsets into T
S_LEN = 80
MAX_CTX = 30
# scratch X (int64)
X_ST = 64      # states of the contexts for this bit
X_MCTX = 96
X_SEL = 100    # mixer set bases (4)
X_DOT = 104    # layer-1 outputs (stretch domain) (4)
X_P1 = 108     # layer-1 probabilities (12-bit) (4)
X_SEL2 = 112
X_PM = 113     # mixer output (16-bit)
X_A1 = 114     # apm bin indices
X_A2 = 115
X_LEN = 120
NSETS = 4
MATCH_MIN = 12
LOCAL = 64  # ORD code o + 2*LOCAL: context o kept per stream (hash salted with the stream)
_P_MAX = 65512  # the largest P(bit) x 2^16 the model codes with (and 2^16 - 24 the smallest)
_BLOCK = 1 << 18  # bytes per compiled call (progress and output growth in between)
MIX_SKIP = 128  # layer-1 mixers skip training when |error| < 128/4096

# config K (int64)
K_NC, K_NIN, K_TMASK, K_MMASK, K_LR, K_LIMIT, K_MATCH, K_F1, K_F2, K_APMR = range(10)
# K_F1, K_F2: eighths of the final probability from the mixer and the order-2 APM (the
# order-1 APM gets the rest); K_APMR: APM rate shift


@numba.njit(cache=True, inline="always")
def _find(T, tmask, h, insert):
    """Offset of the 16-byte slot for hash h (3-way probe); on a miss, replace the least-used
    slot (insert) or return the permanently empty slot past the table (read-only)."""
    chk = ((h >> 40) & 255) | 1
    i = (h >> 8) & tmask
    best = -1
    bestpri = 1 << 30
    for k in range(3):
        j = ((i ^ k) & tmask) * 16
        if T[_u(j)] == chk:
            return j
        pri = PRIORITY[T[_u(j + 1)]] if T[_u(j)] != 0 else -1
        if pri < bestpri:
            bestpri = pri
            best = j
    if not insert:
        return (tmask + 1) * 16
    for k in range(16):
        T[best + k] = 0
    T[best] = chk
    return best


@numba.njit(cache=True, inline="always")
def _mixh(h):
    h = h * 0x2545F4914F6CDD1D
    return h ^ ((h >> 29) & 0x7FFFFFFFF)


@numba.njit(cache=True)
def _set_slots(S, T, K, nibble2, insert):
    """Each context's slot for the coming nibble. A first pass reads one byte of every
    context's bucket, loads without branches between them that the CPU overlaps (a
    prefetch: the table is far larger than the caches), so `_find` then hits the cache."""
    nc = K[K_NC]
    tmask = K[K_TMASK]
    touch = 0
    for i in range(nc):
        h = S[P_H + i]
        if nibble2:
            h = _mixh(h + S[P_C0] * 0x3C6EF372FE94F82B)
            S[P_SLOT + i] = h
        touch += T[((h >> 8) & tmask) * 16]
    S[P_TOUCH] = touch
    for i in range(nc):
        h = S[P_SLOT + i] if nibble2 else S[P_H + i]
        S[P_SLOT + i] = _find(T, tmask, h, insert)


class MixState(NamedTuple):
    """The arrays of one mix model, as the compiled kernels take them. `history` and `scratch`
    hold one row per lockstep stream; a kernel is handed that stream's rows (`s`, `x`)."""

    history: np.ndarray      # (B, S_LEN) int64: position, partial byte, words, hashes, slots
    scratch: np.ndarray      # (B, X_LEN) int64: the inputs and choices of the current bit
    slots: np.ndarray        # uint8 hash table of 16-byte slots of bit-history states
    state_p: np.ndarray      # int32 per context x state: adaptive P(1), 16 bits
    state_n: np.ndarray      # int32 per context x state: how often updated (sets the rate)
    match_p: np.ndarray      # int64 per match context: P(1), 16 bits
    match_n: np.ndarray      # int64 per match context: how often updated
    weights: np.ndarray      # int32 layer-1 mixer weights (NSETS selected sets)
    weights2: np.ndarray     # int32 layer-2 mixer weights (per partial byte and stream)
    apm1: np.ndarray         # uint16 APM over (order-2 hash, partial byte) x 33 bins
    apm2: np.ndarray         # uint16 APM over (previous byte, partial byte) x 33 bins
    config: np.ndarray       # int64 K_* settings
    orders: np.ndarray       # int64 per context: its order, or a text context code (< 0)
    match_table: np.ndarray  # int32 hash of the last MATCH_MIN bytes -> position after them
    coded: np.ndarray        # int64 per stream: where it is coded up to (known to the decoder)
    layout: np.ndarray       # int64 (B, q, r): the lockstep layout (coding/streams.py)


@numba.njit(cache=True, inline="always")
def _u(i):
    """An index the model knows is not negative, as unsigned: numba then indexes without its
    negative-index (wrap-around) fix-up, a shift, an and and an add per access."""
    return np.uint64(i)


@numba.njit(cache=True, inline="always")
def _clamp2047(dot):
    if dot > 2047:
        return 2047
    if dot < -2047:
        return -2047
    return dot


@numba.njit(cache=True, inline="always")
def _context_inputs(m, s, x, nc):
    """Each context's bit-history state for this bit (x[X_ST + i]) and its state-map input
    x[i]; returns how many contexts were seen before."""
    nib = s[P_NIB]
    nhit = 0
    for i in range(nc):
        st = m.slots[_u(s[P_SLOT + i] + nib)]
        x[X_ST + i] = st
        if st != 0:
            nhit += 1
        x[i] = STRETCH[_u(m.state_p[_u(i * 256 + st)] >> 4)]
    return nhit


@numba.njit(cache=True, inline="always")
def _match_context(s):
    """(match context, match-length input): the expected bit with a bucket of the match
    length, or (0, 0) without a match or once it failed within this byte."""
    ml = s[P_MLEN]
    if ml == 0:
        return 0, 0
    bp = s[P_BP]
    eb = s[P_EXP] | 256
    if (eb >> (8 - bp)) != s[P_C0]:
        return 0, 0
    ebit = (eb >> (7 - bp)) & 1
    if ml < 16:
        bucket = ml
    else:
        bucket = 12
        while (ml >> (bucket - 8)) > 1 and bucket < 31:  # 16..31 → 16, 32..63 → 17
            bucket += 1
        bucket += 4
    return bucket * 2 + ebit, (ebit * 2 - 1) * (ml if ml < 32 else 32) * 64


@numba.njit(cache=True, inline="always")
def _mix2(m, s, x, nin, nhit):
    """Both mixer layers: four layer-1 sets (selected by the partial byte, the match state,
    the previous byte, contexts seen x bit position), then the stream's layer-2 set. Returns
    the output in the stretch domain; fills x for `mix_update`."""
    c0 = s[P_C0]
    x[X_SEL] = c0 * nin
    x[X_SEL + 1] = (256 + x[X_MCTX]) * nin
    x[X_SEL + 2] = (320 + (s[P_C4] & 255)) * nin
    x[X_SEL + 3] = (576 + nhit * 8 + s[P_BP]) * nin
    for k in range(NSETS):
        base = x[X_SEL + k]
        dot = 0
        for i in range(nin):
            dot += x[i] * m.weights[_u(base + i)]
        dot = _clamp2047(dot >> 16)
        x[X_DOT + k] = dot
        x[X_P1 + k] = SQUASH[_u(dot + 2048)] >> 4
    base = (c0 + 256 * s[P_STREAM]) * NSETS
    x[X_SEL2] = base
    dot = 0
    for k in range(NSETS):
        dot += x[X_DOT + k] * m.weights2[_u(base + k)]
    return _clamp2047(dot >> 16)


@numba.njit(cache=True, inline="always")
def _apm(m, s, x, dot, pm):
    """The two APM stages (interpolating between 33 bins on the stretched probability) and
    the final probability, a fixed average of the mixer's pm and both stages."""
    c0 = s[P_C0]
    k = m.config
    st = dot + 2048
    lo = st >> 7
    w = st & 127
    h2 = ((s[P_C4] & 0xFFFF) * 0x9E3779B1 >> 16) & 0xFF00
    j1 = (h2 | c0) * 33 + lo
    a1 = (m.apm1[_u(j1)] * (128 - w) + m.apm1[_u(j1 + 1)] * w) >> 7
    x[X_A1] = j1 + (w >> 6)
    j2 = (((s[P_C4] & 255) << 8) | c0) * 33 + lo
    a2 = (m.apm2[_u(j2)] * (128 - w) + m.apm2[_u(j2 + 1)] * w) >> 7
    x[X_A2] = j2 + (w >> 6)
    p = (k[K_F1] * pm + k[K_F2] * a1 + (8 - k[K_F1] - k[K_F2]) * a2) >> 3
    if p < 24:
        p = 24
    if p > _P_MAX:
        p = _P_MAX
    return p


@numba.njit(cache=True, inline="always")
def mix_predict(m, s, x):
    """16-bit P(next bit = 1) for the stream whose rows of m.history and m.scratch are s and
    x; fills x for `mix_update`."""
    nc = m.config[K_NC]
    nhit = _context_inputs(m, s, x, nc)
    mctx, mstr = _match_context(s)
    x[X_MCTX] = mctx
    x[nc] = STRETCH[m.match_p[mctx] >> 4] if mctx else 0
    x[nc + 1] = 256
    for i in range(nc):
        x[nc + 2 + i] = CONF[_u(x[X_ST + i])]
    x[2 * nc + 2] = mstr
    dot = _mix2(m, s, x, m.config[K_NIN], nhit)
    pm = SQUASH[_u(dot + 2048)]
    x[X_PM] = pm
    return _apm(m, s, x, dot, pm)


@numba.njit(cache=True, inline="always")
def _learn_mixers(m, x, y):
    """One gradient step on coding cost: layer 2, then the layer-1 sets that erred enough."""
    nin = m.config[K_NIN]
    lr = m.config[K_LR] << 4
    err = ((y << 12) - (x[X_PM] >> 4)) * lr
    base = x[X_SEL2]
    for k in range(NSETS):
        m.weights2[_u(base + k)] += (x[X_DOT + k] * err) >> 18
    for k in range(NSETS):
        e0 = (y << 12) - x[X_P1 + k]
        if -MIX_SKIP < e0 < MIX_SKIP:  # confident and right: skip (faster, no loss)
            continue
        err = e0 * lr
        base = x[X_SEL + k]
        for i in range(nin):
            m.weights[_u(base + i)] += (x[i] * err) >> 18


@numba.njit(cache=True, inline="always")
def mix_update(m, s, x, buf, y):
    """Learn from bit y and advance the stream (slots at nibble/byte boundaries, contexts and
    match model at byte boundaries; buf receives the finished byte)."""
    nc = m.config[K_NC]
    nib = s[P_NIB]
    limit = m.config[K_LIMIT]
    ty = (y << 16) - y
    for i in range(nc):
        st = x[X_ST + i]
        m.slots[_u(s[P_SLOT + i] + nib)] = NEX[_u(st * 2 + y)]
        j = _u(i * 256 + st)
        n = m.state_n[j]
        m.state_p[j] += ((ty - m.state_p[j]) * RECIP[_u(n)]) >> 16
        if n < limit:
            m.state_n[j] = n + 1
    mctx = x[X_MCTX]
    if mctx:
        n = m.match_n[mctx]
        m.match_p[mctx] += ((ty - m.match_p[mctx]) * RECIP[n]) >> 16
        if n < 255:
            m.match_n[mctx] = n + 1
    _learn_mixers(m, x, y)
    j = _u(x[X_A1])
    m.apm1[j] += (ty - m.apm1[j]) >> m.config[K_APMR]
    j = _u(x[X_A2])
    m.apm2[j] += (ty - m.apm2[j]) >> m.config[K_APMR]
    # advance
    c0 = s[P_C0] * 2 + y
    s[P_C0] = c0
    s[P_NIB] = nib * 2 + y
    bp = s[P_BP] + 1
    s[P_BP] = bp
    if bp == 4:
        s[P_NIB] = 1
        _set_slots(s, m.slots, m.config, True, True)
    elif bp == 8:
        _end_byte(m, s, buf, c0 & 255)


@numba.njit(cache=True, inline="always")
def _coded(p, PROG, LAY):
    """Whether position p of the input is already coded (identically known to the decoder)."""
    if LAY[0] == 1:
        return 0 <= p < PROG[0]
    if p < 0 or p >= LAY[0] * LAY[1] + LAY[2]:
        return False
    return p < PROG[stream_of(LAY, p)]


@numba.njit(cache=True, inline="always")
def _back(s, buf, pos, k, fresh):
    """The byte k back from pos in stream row s (0 before the stream's start)."""
    if fresh or k <= 0 or pos - k < s[P_START]:
        return 0
    return np.int64(buf[pos - k])


@numba.njit(cache=True, inline="always")
def _binary_hash(s, o, buf, pos, fresh):
    """Sparse (skip) and record contexts (codes SPARSE_* and RECORD_*): bytes at fixed
    distances that skip the last ones, and the bytes one and two records above, their
    neighbours and the column, for r = s[P_RLEN] (the record length found in the data)."""
    if o <= -16:
        return _image_hash(s, o, buf, pos, fresh)
    r = s[P_RLEN]
    if o == -4:
        a, b, c = _back(s, buf, pos, 2, fresh), 0, 0
    elif o == -5:
        a, b, c = _back(s, buf, pos, 3, fresh), 0, 0
    elif o == -6:
        a, b, c = _back(s, buf, pos, 2, fresh), _back(s, buf, pos, 3, fresh), 0
    elif o == -7:
        a, b, c = _back(s, buf, pos, 1, fresh), _back(s, buf, pos, 3, fresh), 0
    elif o == -8:
        a, b, c = _back(s, buf, pos, 4, fresh), _back(s, buf, pos, 3, fresh), 0
    elif o == -9:
        a, b, c = _back(s, buf, pos, 1, fresh) & 0xF0, _back(s, buf, pos, 2, fresh) & 0xF0, \
            _back(s, buf, pos, 3, fresh) & 0xF0
    elif o == -10:
        a, b, c = _back(s, buf, pos, r, fresh), 0, 0
    elif o == -11:
        a, b, c = _back(s, buf, pos, r, fresh), _back(s, buf, pos, 1, fresh), 0
    elif o == -12:
        a, b, c = _back(s, buf, pos, r, fresh), _back(s, buf, pos, 2 * r, fresh), 0
    elif o == -13:
        a = _back(s, buf, pos, r, fresh)
        b = _back(s, buf, pos, r + 1, fresh)
        c = _back(s, buf, pos, r - 1, fresh)
    elif o == -14:
        a = _back(s, buf, pos, r, fresh)
        b = 0 if fresh else (pos - s[P_START]) % r if r > 0 else 0
        c = 1 << 20
    else:
        a = _back(s, buf, pos, r, fresh)
        b = _back(s, buf, pos, 1, fresh) | (_back(s, buf, pos, r - 1, fresh) << 8)
        c = _back(s, buf, pos, 2 * r, fresh) | (_back(s, buf, pos, r + 1, fresh) << 8)
    return ((a * 0x3779B1 + b) * 0x7FEB352D + c + (o + 64) * 0x1B873593) * 0x2F0F3D5B1


@numba.njit(cache=True, inline="always")
def _clip255(v):
    return 0 if v < 0 else 255 if v > 255 else v


@numba.njit(cache=True, inline="always")
def _image_hash(s, o, buf, pos, fresh):
    """Raster contexts (IMAGE codes) for a row of s[P_ROW] bytes and pixels of s[P_PIX]:
    the neighbours west, north, north-west, north-east of the same channel, quantised and
    as the numeric predictions of a lossless image coder (gradient W + N - NW, averages)."""
    row = s[P_ROW]
    p = s[P_PIX]
    w = _back(s, buf, pos, p, fresh)
    n = _back(s, buf, pos, row, fresh)
    nw = _back(s, buf, pos, row + p, fresh)
    ne = _back(s, buf, pos, row - p, fresh)
    ch = 0 if fresh else (pos - s[P_START]) % p
    if o == -16:
        a, b = w, n
    elif o == -17:
        a, b = _clip255(w + n - nw), 1 << 9
    elif o == -18:
        a, b = (w + ne) >> 1, 2 << 9
    elif o == -19:
        a, b = n, ne | (3 << 9)
    elif o == -20:
        a, b = (w >> 3) | ((n >> 3) << 5), (nw >> 3) | ((ne >> 3) << 5) | (4 << 10)
    else:
        c1 = _back(s, buf, pos, 1, fresh)
        a, b = _clip255(c1 + w - _back(s, buf, pos, p + 1, fresh)), c1 | (5 << 9)
    return ((a * 0x3779B1 + b) * 0x7FEB352D + ch + (o + 64) * 0x1B873593) * 0x2F0F3D5B1


@numba.njit(cache=True, inline="always")
def _context_hash(s, i, o, buf, pos, c, fresh):
    """Hash of context i (order or text-context code o) after the byte c at pos - 1 of
    stream row s; `fresh`: before the stream's first byte (an empty history)."""
    salt = 0
    if o >= LOCAL:
        o -= 2 * LOCAL
        salt = s[P_SALT]
    if o >= 0:
        h = (o + 1) * 0x5BD1E9955BD1E995
        if not fresh:
            start = s[P_START]
            for k in range(1, o + 1):
                b = buf[pos - k] if pos - k >= start else 0
                h = (h + b + 1) * 0x1000193 + k
        if o == 0:
            h = 0x7A3F
    elif o == -1:
        h = (s[P_W0] + 0x51ED27) * 0x9E3779B1 + c
    elif o == -3:
        if fresh:
            h = 0x1234567
        else:
            col = pos - s[P_LINE]
            h = ((col if col < 80 else 80) * 0x3A8F05C5 + c + 0x1234567) * 0x2F0F3D5B1
    elif o == -2:
        h = (s[P_W0] * 0x2E5BF271 + s[P_W1] + 0x7A5) * 0x6A09E667
    else:
        h = _binary_hash(s, o, buf, pos, fresh)
    return _mixh(h + i + salt)


@numba.njit(cache=True, inline="always")
def _end_history(s, buf, c):
    """Byte c ends: store it, reset the partial byte, move the word and line state on.
    Returns the new position."""
    pos = s[P_POS]
    buf[pos] = c
    pos += 1
    s[P_POS] = pos
    s[P_C0] = 1
    s[P_NIB] = 1
    s[P_BP] = 0
    s[P_C4] = ((s[P_C4] << 8) | c) & 0xFFFFFFFF
    lc = c + 32 if 65 <= c <= 90 else c
    if 97 <= lc <= 122 or c >= 128:
        s[P_W0] = ((s[P_W0] + lc + 1) * 0x2F0F3D5B1) & 0xFFFFFFFFFFFF
    elif s[P_W0] != 0:
        s[P_W1] = s[P_W0]
        s[P_W0] = 0
    if c == 10:
        s[P_LINE] = pos
    return pos


@numba.njit(cache=True, inline="always")
def _end_match(m, s, buf, c, pos):
    """The match model after byte c: extend or drop the current match, else look one up (one
    table of true positions for all streams; a match may point anywhere already coded, checked
    with _coded: the encoder holds the whole input, the decoder not)."""
    start = s[P_START]
    mlen = s[P_MLEN]
    if mlen > 0:
        if buf[s[P_MPTR]] == c:
            if mlen < 65535:
                mlen += 1
            s[P_MPTR] += 1
        else:
            mlen = 0
    if m.config[K_MATCH] and pos - start >= MATCH_MIN:
        h = 0
        for k in range(1, MATCH_MIN + 1):
            h = (h + buf[pos - k] + 1) * 0x2F0F3D5B1
        h = (h >> 20) & m.config[K_MMASK]
        if mlen == 0:
            cand = m.match_table[h]
            if cand > 0 and _coded(cand, m.coded, m.layout):
                lo = stream_start(m.layout, stream_of(m.layout, cand - 1))  # coded lo..cand
                n = 0
                while n < 400 and n < pos - start and cand - 1 - n >= lo \
                        and buf[cand - 1 - n] == buf[pos - 1 - n]:
                    n += 1
                if n >= MATCH_MIN:
                    mlen = n
                    s[P_MPTR] = cand
        m.match_table[h] = pos
    if mlen > 0 and not _coded(s[P_MPTR], m.coded, m.layout):
        mlen = 0
    s[P_MLEN] = mlen
    if mlen > 0:
        s[P_EXP] = buf[s[P_MPTR]]


@numba.njit(cache=True, inline="always")
def _end_byte(m, s, buf, c):
    pos = _end_history(s, buf, c)
    m.coded[s[P_STREAM]] = pos
    for i in range(m.config[K_NC]):
        s[P_H + i] = _context_hash(s, i, m.orders[i], buf, pos, c, False)
    _end_match(m, s, buf, c, pos)


@numba.njit(cache=True, inline="always")
def mix_begin(m, s):
    """Stream row s starts a byte: find (or claim) its first-nibble slots now, not at the end
    of its previous byte, where other streams could take them in between."""
    _set_slots(s, m.slots, m.config, False, True)


@numba.njit(cache=True, inline="always")
def _byte(mode, c, stream, cs, m, s, x, buf):
    """One byte of one stream: encode c (mode 0, returns Σ -log2 p of its bits) or decode it
    into buf (mode 1, returns 0.0)."""
    mix_begin(m, s)
    bits = 0.0
    for bp in range(8):
        p = mix_predict(m, s, x)
        if mode == 0:
            y = (c >> (7 - bp)) & 1
            enc_bit(cs, stream, y, p)
            bits += NLOG2[p] if y else NLOG2[65536 - p]
        else:
            y = dec_bit(cs, stream, p)
        mix_update(m, s, x, buf, y)
    return bits


# The coding loops run without numba's reference counting (`_nrt=False`): they allocate
# nothing, and counting the references to every array taken from the MixState (calls with
# atomic increments and decrements, dozens per bit) took half their time (measured: encoding
# 1 MB of bible.txt, 3.9 s -> 1.9 s CPU; the same bits).
@numba.njit(cache=True, _nrt=False)
def _code_one(mode, buf, t0, t1, stream, cs, seg, seg_steps, m, s, x):
    """`_code` for a single stream, s and x its rows (views made once: measured ~10 % faster
    than a view per byte)."""
    ideal = 0.0
    for t in range(t0, t1):
        bits = _byte(mode, buf[t], stream, cs, m, s, x, buf)
        if mode == 0:
            ideal += bits
            seg[t // seg_steps] += bits
    return ideal


@numba.njit(cache=True, _nrt=False)
def _code(mode, buf, t0, t1, stream, cs, seg, seg_steps, m):
    """Steps t0..t1-1 of the lockstep layout: encode (mode 0) the bytes of every stream in buf,
    or decode (mode 1) them into buf, with the one model step. Returns Σ -log2 p of the coded
    bits and adds each step's share to seg[t // seg_steps] (encode only; 0.0 when decoding)."""
    lay = m.layout
    nb, q, r = lay[0], lay[1], lay[2]
    if nb == 1:
        return _code_one(mode, buf, t0, t1, stream, cs, seg, seg_steps, m, m.history[0],
                         m.scratch[0])
    ideal = 0.0
    for t in range(t0, t1):
        bits = 0.0
        for b in range(nb):
            if t < q + (1 if b < r else 0):  # else: the ragged last step
                c = buf[stream_start(lay, b) + t]
                bits += _byte(mode, c, stream, cs, m, m.history[b], m.scratch[b], buf)
        if mode == 0:
            ideal += bits
            seg[t // seg_steps] += bits
    return ideal


SPARSE = (-4, -5, -6, -7, -8, -9)
RECORD = (-10, -11, -12, -13, -14, -15)
IMAGE = (-16, -17, -18, -19, -20, -21)
# The lean set (Shape.lean, every binary stream written since): measured leave-one-out on
# kennedy.xls, ptt5, sum and ten outside binaries (scripts/outside_binaries.py), the image
# contexts W+N (-16) and the last channel's gradient (-21) saved at most 0.03 % anywhere, and
# order 3 between orders 2 and 4 at most 0.1 % (ls.elf); each left out costs ~1/19 of the
# time. Dropping the three: -0.19 % kennedy.xls, -0.13 % ptt5, -0.01 % sum, -0.2 to +0.1 %
# elsewhere, about a fifth less time on the two big binaries.
IMAGE_LEAN = (-17, -18, -19, -20)


def context_codes(orders: list[int], word: bool, shape: Shape) -> list[int]:
    """The contexts (orders and context codes) a model with these settings uses on data of
    this shape: the orders, the text contexts on text, and the binary contexts the shape
    switches on; with `shape.lean`, the lean binary set (order 3 left out where orders 2
    and 4 are both there, and the image contexts of IMAGE_LEAN)."""
    ords = list(orders)
    if shape.lean and {2, 3, 4} <= set(ords):
        ords.remove(3)
    ords += [-1, -2, -3] if word and not shape.sparse else []
    ords += list(SPARSE) if shape.sparse else []
    ords += list(RECORD) if shape.record > 1 else []
    ords += list(IMAGE_LEAN if shape.lean else IMAGE) if shape.row > 0 else []
    return ords


class Shape(NamedTuple):
    """What the encoder found in the data and the stream's meta tells the decoder: whether
    the data is binary (the sparse contexts replace the text contexts: on kennedy.xls and ptt5
    the text contexts cost bytes and time), the record length (0: none) of the record
    contexts, and a raster's row width in bytes (0: none) and pixel stride for the image
    contexts; `lean`: the lean binary context set (`context_codes`), meta flag 8, which every
    binary stream has had since; a stream without it (written before) keeps the full set;
    `x86`: x86 machine code, modelled after the E8/E9 call-address transform (`e8e9`),
    meta flag 16."""

    sparse: bool = False
    record: int = 0
    row: int = 0
    pixel: int = 1
    lean: bool = False
    x86: bool = False

    def meta(self) -> bytes:
        """b'' for plain data (the stream of a text is what it always was), else a flags
        byte, the record length in 3 bytes and, with a raster, its row width (2 bytes) and
        pixel stride (1 byte). Flags: 1 sparse, 2 record, 4 raster, 8 lean set, 16 x86."""
        if not self.sparse and self.record == 0 and self.row == 0:
            return b""
        flags = (1 if self.sparse else 0) | (2 if self.record else 0) | (4 if self.row else 0) \
            | (8 if self.lean else 0) | (16 if self.x86 else 0)
        out = bytes([flags]) + self.record.to_bytes(3, "little")
        if self.row:
            out += self.row.to_bytes(2, "little") + bytes([self.pixel])
        return out

    @classmethod
    def read(cls, meta: bytes, n: int) -> Shape:
        if not meta:
            return cls()
        flags = meta[0]
        if flags > 31 or flags & 7 == 0 or len(meta) != (7 if flags & 4 else 4) \
                or (flags & 24 and not flags & 1):
            raise CorruptStreamError("mix: corrupt stream (bad meta bytes)")
        r = int.from_bytes(meta[1:4], "little")
        if (r != 0) != bool(flags & 2) or r == 1 or r > n:
            raise CorruptStreamError("mix: corrupt stream (bad record length in meta)")
        row, pixel = 0, 1
        if flags & 4:
            row, pixel = int.from_bytes(meta[4:6], "little"), meta[6]
            if not 1 <= pixel <= 4 or row <= pixel or row > n:
                raise CorruptStreamError("mix: corrupt stream (bad raster shape in meta)")
        return cls(bool(flags & 1), r, row, pixel, bool(flags & 8), bool(flags & 16))


@numba.njit(cache=True)
def e8e9(buf: np.ndarray, forward: bool) -> None:
    """The E8/E9 transform of x86 code, in place: after a call (E8) or jump (E9) opcode whose
    4-byte relative address is near (top byte 0x00 or 0xFF), the low 3 bytes become absolute
    (+ the opcode's position, mod 2^24; `forward=False` subtracts), so calls to one function
    from many places repeat the same bytes. The opcode and the top byte, which decide, stay.
    Forward runs from the end, backward from the start: each then sees, at every position,
    the bytes the other saw there, so the two are exact inverses on any input."""
    n = buf.shape[0]
    for step in range(n - 4):
        i = n - 5 - step if forward else step
        if buf[i] & 0xFE == 0xE8 and (buf[i + 4] == 0 or buf[i + 4] == 0xFF):
            a = np.int64(buf[i + 1]) | np.int64(buf[i + 2]) << 8 | np.int64(buf[i + 3]) << 16
            a = (a + i if forward else a - i) & 0xFFFFFF
            buf[i + 1], buf[i + 2], buf[i + 3] = a & 0xFF, (a >> 8) & 0xFF, a >> 16


def x86_calls(buf: np.ndarray) -> bool:
    """Whether buf looks like x86 machine code: at least 32 E8 (call) opcodes whose relative
    address lands inside the data, half of those landing on a target another call has too
    (functions are called from several places). Measured: ls and bash 0.78-0.82 repeated,
    a shared library 0.79; kennedy.xls 0.00 (its E8 bytes are table values), sum (SPARC) 3
    calls in range, no other shipped or outside file has any."""
    n = buf.shape[0]
    pos = np.flatnonzero(buf[:-4] == 0xE8)
    if n < 64 or len(pos) < 32:
        return False
    rel = buf[pos + 1].astype(np.int64) | buf[pos + 2].astype(np.int64) << 8 \
        | buf[pos + 3].astype(np.int64) << 16 | buf[pos + 4].astype(np.int64) << 24
    target = pos + 5 + (rel ^ 0x80000000) - 0x80000000  # the int32 offset, signed
    inside = target[(target >= 0) & (target < n)]
    return len(inside) >= 32 and len(np.unique(inside)) <= 0.5 * len(inside)


def record_length(buf: np.ndarray) -> tuple[int, int]:
    """(r, count): the distance r > 1 that most often separates a byte from its previous
    occurrence when that occurrence was itself r after the one before and so on (4 equal
    steps, as paq8's record model), and how often it did."""
    if buf.shape[0] < 64:
        return 0, 0
    order = np.argsort(buf, kind="stable")
    d = np.diff(order)
    d = np.where(buf[order[1:]] == buf[order[:-1]], d, 0)
    ok = (d[2:] == d[1:-1]) & (d[1:-1] == d[:-2]) & (d[2:] > 1) & (d[2:] < 1 << 24)
    dd = d[2:][ok]
    if dd.size == 0:
        return 0, 0
    cnt = np.bincount(dd)
    r = int(cnt.argmax())
    return r, int(cnt[r])


@numba.njit(cache=True)
def mean_abs_diffs(x: np.ndarray, top: int) -> np.ndarray:
    """mean |x[i + r] - x[i]| for r in 1..top. The sums are whole numbers, exact in int64 (and
    in numpy's float64 mean, which this replaces: the same figures, 4096 numpy calls fewer per
    sample)."""
    n = x.shape[0]
    y = x.astype(np.int32)
    out = np.empty(top, dtype=np.float64)
    for r in range(1, top + 1):
        total = 0
        for i in range(n - r):
            total += abs(y[i + r] - y[i])
        out[r - 1] = total / (n - r)
    return out


def row_width(buf: np.ndarray) -> tuple[int, float]:
    """(R, ratio): the distance R in 8..4096 at which bytes differ least (mean absolute
    difference over up to four 8 kB samples spread over the data), and that difference
    over the median one: a raster's rows repeat, so its ratio is small (measured 0.04-0.2 on
    8-bit, 24-bit and 1-bit images, 0.9 and more on texts)."""
    n = buf.shape[0]
    top = min(4096, n // 8)
    if top < 16:
        return 0, 1.0
    size = min(n, 8192 + top)
    starts = sorted({int(k * (n - size) // 3) for k in range(4)})
    mad = np.zeros(top, dtype=np.float64)
    for a in starts:
        mad += mean_abs_diffs(buf[a:a + size], top)
    med = float(np.median(mad[7:]))
    if med == 0.0:
        return 0, 1.0
    best = int(np.argmin(mad[7:])) + 8
    return best, float(mad[best - 1] / med)


def detect_shape(buf: np.ndarray) -> Shape:
    """The Shape of the data: sparse contexts where under 90 % of the bytes are text
    (printable ASCII and whitespace); the record contexts where one record length accounts
    for at least 0.2 % of the bytes (texts measured at most 0.13 %, kennedy.xls 23 %, a fax
    image 0.27 %; on text, where cp.html and fields.c reach 0.4 %, 2 %); the image contexts on binary data whose rows repeat (`row_width` ratio
    under 0.3), with the record length as the pixel stride when it is 2-4 bytes, unless the
    rows are whole records, which the record contexts already see (measured on kennedy.xls:
    the image contexts gain 1 byte there at twice the time)."""
    n = buf.shape[0]
    if n < 64:
        return Shape()
    text = np.zeros(256, dtype=bool)
    text[32:127] = True
    text[[9, 10, 13]] = True
    sparse = bool(np.count_nonzero(text[buf]) < 0.9 * n)
    r, count = record_length(buf)
    record = r if count >= 32 and count >= (0.002 if sparse else 0.02) * n else 0
    row, pixel = 0, 1
    if sparse:
        width, ratio = row_width(buf)
        pixel = record if 2 <= record <= 4 else 1
        if ratio < 0.3 and width > pixel and (pixel > 1 or record == 0 or width % record):
            row = width
    return Shape(sparse, record, row, pixel, lean=sparse, x86=sparse and x86_calls(buf))


def parse_orders(text: str) -> list[int]:
    """'0-6' → [0..6]; '1+2+3+4+6' → those; ranges and lists combine ('0-4+6+8'). (',' is
    also accepted, for Python callers; in a spec string it would split parameters.)"""
    out: list[int] = []
    try:
        for part in text.replace(" ", "").replace(",", "+").split("+"):
            if "-" in part:
                a, b = part.split("-", 1)
                lo, hi = int(a), int(b)
                if lo > hi:
                    raise ValueError
                out.extend(range(lo, hi + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise UsageError(f"mix: parameter orders: {text!r} is not like '0-6' or '1+2+3+4+6'") from None
    if not out or min(out) < 0 or max(out) > 24 or len(set(out)) != len(out):
        raise UsageError(f"mix: parameter orders: {text!r} must name distinct orders in 0..24")
    return sorted(out)


class MixModel:
    """The arrays of one mix model over the B lockstep streams of an input of n bytes: the
    shared tables (hash table, state maps, mixers, APMs, match table) and each stream's state
    (history, contexts, match position). `state` is what the compiled kernels take."""

    def __init__(self, orders: list[int], word: bool, mem: int, mmem: int, lr: int,
                 limit: int, match: bool, n: int, streams: int = 1,
                 shape: Shape | None = None) -> None:
        shape = shape or Shape()
        ords = context_codes(orders, word, shape)
        self.LAY = layout_array(n, streams)
        b = int(self.LAY[0])
        if b > 1:  # each context also kept per stream (see "Streams" in the module docstring)
            if 2 * len(ords) > MAX_CTX:
                raise UsageError(f"mix: at most {MAX_CTX // 2} contexts with streams > 1 "
                                 f"(each one has a per-stream twin)")
            ords += [o + 2 * LOCAL for o in ords]
        if len(ords) > MAX_CTX:
            raise UsageError(f"mix: at most {MAX_CTX} contexts")
        nc = len(ords)
        nin = 2 * nc + 3  # per context a state map and a confidence; match map, bias, match length
        self.ORD = np.array(ords, dtype=np.int64)
        nslots = 1 << (mem - 4)
        self.K = np.array([nc, nin, nslots - 1, (1 << mmem) - 1, lr, limit, int(match),
                           2, 3, 6], dtype=np.int64)
        self.T = _aligned_zeros((nslots + 1) * 16)
        self.SM = np.tile(STATE_P0, nc).astype(np.int32)
        self.SMN = np.zeros(nc * 256, dtype=np.int32)
        self.MSM = np.full(64, 32768, dtype=np.int64)
        for m in range(2, 64):
            self.MSM[m] = 65536 - 4096 if m & 1 else 4096
        self.MSMN = np.zeros(64, dtype=np.int64)
        self.W = np.zeros((256 + 64 + 256 + 256) * nin, dtype=np.int32)
        w = self.W.reshape(-1, nin)
        w[:, :nc] = (1 << 16) * 3 // 10
        w[:, nc] = 1 << 16
        w[:, nc + 2:] = 0
        self.W2 = np.full(256 * NSETS * b, (1 << 16) // NSETS, dtype=np.int32)
        grid = np.array([SQUASH[min(max((j - 16) * 128, -2047), 2047) + 2048]
                         for j in range(33)], dtype=np.uint16)
        self.A1 = np.tile(grid, 65536)
        self.A2 = np.tile(grid, 65536)
        self.MT = np.zeros(1 << mmem, dtype=np.int32)
        self.streams = b
        self.PROG = np.zeros(b, dtype=np.int64)
        self.S = np.zeros((b, S_LEN), dtype=np.int64)
        self.X = np.zeros((b, X_LEN), dtype=np.int64)
        for i in range(b):
            start = stream_start(self.LAY, i)
            self.S[i, P_C0] = 1
            self.S[i, P_NIB] = 1
            self.S[i, P_POS] = self.S[i, P_START] = self.S[i, P_LINE] = self.PROG[i] = start
            self.S[i, P_STREAM] = i
            self.S[i, P_SALT] = (i + 1) * 0x9E3779B97F4A7C15 % (1 << 62)
            self.S[i, P_RLEN] = shape.record
            self.S[i, P_ROW] = shape.row
            self.S[i, P_PIX] = shape.pixel
            _init_hashes(self.S[i], self.ORD)

        self.state = MixState(self.S, self.X, self.T, self.SM, self.SMN, self.MSM, self.MSMN,
                              self.W, self.W2, self.A1, self.A2, self.K, self.ORD, self.MT,
                              self.PROG, self.LAY)


def _aligned_zeros(n: int, align: int = 64) -> np.ndarray:
    """n zero bytes starting on a cache line: `_find` probes slots i, i^1, i^2 of one aligned
    group of four 16-byte slots, which then lie in one line, not two (a miss each)."""
    raw = np.zeros(n + align, dtype=np.uint8)
    skip = -raw.ctypes.data % align
    return raw[skip:skip + n]


@numba.njit(cache=True)
def _init_hashes(s, orders):
    """Context hashes before the stream's first byte (an empty history)."""
    for i in range(orders.shape[0]):
        s[P_H + i] = _context_hash(s, i, orders[i], s, 0, 0, True)


@register
class MixCoder(ModelCoder):
    name = "mix"
    family = "statistical"
    summary = ("bit-level context mixing (lpaq-like, numba): hashed orders + text contexts, "
               "bit histories, match model, 2-layer mixer, 2 APM stages; own binary coder")
    library = "numba"
    params = (
        Param("orders", str, "0-4+6+8", "context orders, e.g. 0-6 or 1-4+6"),
        Param("word", bool, True, "text contexts: word+last byte, word pair, column+last byte"),
        Param("match", bool, True, "match model for long repeats"),
        Param("mem", int, 26, "log2 bytes of the context hash table", min=12, max=29),
        Param("lr", int, 4, "mixer learning rate", min=1, max=64),
        Param("limit", int, 255, "state-map count limit (higher: slower, steadier)",
              min=2, max=1023),
        Param("binary", bool, True, "sparse and record contexts where the data shows them"),
        Param("streams", int, 1, "lockstep streams sharing one model (B)", min=1, max=65536),
    )

    def memory_bytes(self, n: int) -> int:
        """The hash table (2^mem B), the match table, the two APMs, each stream's mixer
        weights and state, and the input, the stream and the decoded copy."""
        c = self.config
        b = layout(max(n, 1), c["streams"])[0]
        mmem = min(20, c["mem"] - 4) if c["match"] else 2
        apms = 2 * 33 * 65536 * 2
        per_stream = 4 * 256 * NSETS + 8 * (S_LEN + X_LEN)
        return 3 * n + (1 << c["mem"]) + 4 * (1 << mmem) + apms + b * per_stream + (1 << 20)

    def length_bound(self, stream_bytes: int, meta: bytes = b"") -> int:
        """Each byte is 8 decisions whose probability the model keeps within [24, 65512]/2^16
        (`mix_predict`), so a stream holds at most `decisions_bound(s, 65512)` / 8 bytes."""
        return min(self.max_input, decisions_bound(stream_bytes, _P_MAX) // 8)

    def validate(self) -> None:
        c = self.config
        contexts = len(parse_orders(c["orders"])) + (3 if c["word"] else 0)
        if c["streams"] > 1 and 2 * contexts > MAX_CTX:
            raise UsageError(f"mix: at most {MAX_CTX // 2} contexts with streams > 1 (each "
                             f"one has a per-stream twin); {contexts} asked for")

    def shape_of(self, buf: np.ndarray) -> Shape:
        """The binary contexts this spec uses on buf (none with binary=false)."""
        if not self.config["binary"]:
            return Shape()
        shape = detect_shape(buf)
        n_ctx = len(context_codes(self.orders, self.config["word"], shape))
        b = layout(max(buf.shape[0], 1), self.config["streams"])[0]
        if n_ctx * (2 if b > 1 else 1) > MAX_CTX:
            return Shape()
        return shape

    @property
    def orders(self) -> list[int]:
        return parse_orders(self.config["orders"])

    def model(self, n: int, streams: int, shape: Shape | None = None) -> MixModel:
        """A fresh model of this spec for an input of n bytes coded as `streams` lockstep
        streams (for this coder's loop and the ensemble's), with the binary contexts `shape`
        asks for (none by default)."""
        c = self.config
        mmem = min(20, c["mem"] - 4) if c["match"] else 2
        return MixModel(self.orders, c["word"], c["mem"], mmem, c["lr"], c["limit"], c["match"],
                        n, streams, shape)

    def _run(self, mode: int, buf: np.ndarray, out: Outputs | None, stream: np.ndarray | None,
             cs: np.ndarray | None, given: Given, shape: Shape) -> tuple[float, list]:
        n = buf.shape[0]
        m = self.model(n, self.config["streams"], shape)
        b, q, r = (int(v) for v in m.LAY)
        steps = q + (r > 0)
        seg_steps = segment_steps(n, b)
        seg = np.zeros(-(-steps // seg_steps), dtype=np.float64)
        ideal = 0.0
        block = max(1, _BLOCK // b)
        for t0 in range(0, steps, block):
            t1 = min(steps, t0 + block)
            if out is not None:
                out.reserve(8 * b * (t1 - t0))
                stream, cs = out.out[0], out.cs[0]
            ideal += _code(mode, buf, t0, t1, stream, cs, seg, seg_steps, m.state)
            bits = () if out is None else (8.0 * out.size(),)  # real bits so far
            given.tell(min(t1, q) * b + (r if t1 > q else 0), n, *bits)
        return ideal, segments(seg, n, b, seg_steps)

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        buf = np.frombuffer(data, dtype=np.uint8).copy()
        out = Outputs(1, len(data) // 2 + 64)
        shape = self.shape_of(buf)
        if shape.x86:
            e8e9(buf, True)
        ideal, segs = self._run(0, buf, out, None, None, given, shape)
        extras = {"streams": layout(len(data), self.config["streams"])[0], "segments": segs}
        return Payload(out.finish(), ideal, shape.meta(), extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        shape = Shape.read(meta, length)
        if shape != Shape() and not self.config["binary"]:
            raise CorruptStreamError("mix: binary-context meta in a binary=false stream")
        inp = np.frombuffer(payload, dtype=np.uint8).copy()
        buf = np.zeros(length, dtype=np.uint8)
        cs = new_state()
        dec_init(cs, inp)
        self._run(1, buf, None, inp, cs, given, shape)
        if cs[3] > len(inp) + 4:
            raise CorruptStreamError("mix: truncated stream (decoder ran past its end)")
        if shape.x86:
            e8e9(buf, False)
        return buf.tobytes()
