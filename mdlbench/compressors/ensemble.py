"""`ensemble`: mix other coders' predictions bit by bit; never longer than its best member.

Members. `ensemble:of=mix+lstm` builds each member from its spec (`of=lstm[hidden=64;layers=2]+kt[order=2]`:
parameters separated by `;`). Every member runs as the standalone coder of its spec with the
ensemble's `streams` (B), `seed`, `device` and `threads` (a member spec may not set `streams`:
the ensemble's B is the member's), so "the member" always means a coder a user can run alone.
The default, `mix+lstm[hidden=80;train_every=256;windows=8;kernel=numba]`, is chosen for speed
on a CPU: the LSTM steps in one compiled call (not ~10 torch ops) and trains its 256-byte
segments as 8 windows side by side, so the ensemble encodes at about `-c lstm`'s speed
(whole Bible, same run: 37.3 against 37.5 KB/s; see the README) and is shorter than the earlier
default `mix+lstm[train_every=32]`
(about 5x slower) on the Bible and plrabn12, about 0.1 % longer on the other three English
Canterbury texts. Streams of the earlier default (written before the selector byte's top
bit, V2, was set) decode with its members.

Layout and order. The input is cut into B contiguous lockstep streams (coding/streams.py), and
every byte of every stream, step after step and stream after stream, is coded as 8 binary
decisions, most significant first, by the binary arithmetic coder of coding/binary.py inside ONE
compiled loop, `_code(mode, ...)`, shared by encoder and decoder. A decision whose right subtree
holds no symbol of the alphabet (K = max byte + 1) is not coded. Each member gives P(bit):
- `mix` and `kt` natively: the compiled loop runs their own kernels on their own models
  (`MixModel`, `KTModel`), bit for bit what their coder codes (kt's tree covers its D low bits);
- every other member (the neural coders, any `step_model`) through its byte distribution: one
  (B, K) prediction per step, and P(bit) = the mass of the node's right subtree over the node's.
On CPU B defaults to 1 (`streams=0`): `mix` then runs in its natural single-stream order, which
is what lets the mixture beat it (mix loses 0.4-2 % as 2-16 interleaved streams, see mix.py); a
network on CUDA gets B = 16. `streams=16` on CPU is the NNCP layout, where one batched network
step serves 16 bytes, but on the whole Bible the mixture of mix:streams=16 and
lstm:streams=16 is 1.9 % longer than mix alone; one stream of a torch network is why the
default LSTM member is a compiled one-stream step. The encoder runs the network
members a training segment at a time (`encode_segment`: the rows of the whole segment, then the
compiled loop over it); the decoder a step at a time. B is stored in the stream.

Mixers (`mixer=`):
- `logistic` (default): PAQ-style mixing in the stretch domain, st(p) = ln(p / (1 - p)), of the
  inputs st(P_m(bit)) of every member and a bias. Three weight sets are chosen per decision (by
  the partial byte; by the bit position and how far the first two members disagree; by the
  previous byte of the stream), their outputs averaged in the stretch domain; one online gradient
  step on coding cost per decision and set (`lr`). The mixture starts as the first member (its
  weight 1, the others 0). Integer arithmetic (mix.py's tables): the same bits on every machine
  for count members. Measured offline on alice29 (mix 1.9135 bpb with a B = 1 LSTM of 2.699):
  1.9033 (-0.53 %); the lead's prototype (one set by partial byte) gave -0.36 %; an APM stage, a
  second mixer layer, mix's pre-APM output as an extra input and a set chosen by mix's match
  state were tried and did not help.
- `bayes`: the Bayes mixture P(bit) = Σ_m w_m P_m(bit), w_m ∝ prior x P_m(bits so far), with
  ONE set of weights shared by all streams. By the chain rule this is the byte-level (indeed
  the whole-sequence) Bayes mixture, so its ideal length is at most min_m L_m + log2 M for
  `switch=0` (the default) before the 16-bit rounding of P(bit) (measured: a few bits per 10^5
  decisions). `switch=a > 0` adds Herbster & Warmuth's fixed share after every byte,
  w ← (1 - a) w + a / M: then the bound is against the best member *sequence* with s switches,
  + (s + 1) log2(M / a) + n log2(1 / (1 - a)) bits for n bytes: a = 1e-3 costs up to 1,443
  bits per 10^6 bytes, which is why it is not the default. Weights are floored at 1e-300 so
  none underflows for good (a cost below 10^-290 bits per decision).

The guarantee. The encoder also produces every member's standalone stream in the same pass: a
native member's own decisions go to a second binary coder (its coder's very stream), a step
member's (B, K) rows go to constriction as its coder would send them (`encode_streams`: the
neural coders' payload, bit for bit, tested). It emits the shortest of the mixture and those
streams behind a selector byte in the meta. So, on every input,

    bits(ensemble) <= min_m bits(member m alone) + 8 (|spec| + |meta| of the ensemble
                      - those of member m)     (the selector byte is in the ensemble's meta)

where the ensemble's meta is 3 bytes for B < 128 (selector, B, alphabet), or 9 with a torch
member (the 7-byte device/threads/fingerprint meta the member has too). The allowance is the
difference of the container headers: for the default spec `ensemble` against `mix`, 5 bytes of
spec and 9 of meta (14 bytes); for `ensemble:of=mix+lstm` against `mix` 26 bytes; against the
lstm member it is negative. The decoder reads the selector: 0 runs the mixture, j runs member
j's own decoder on its stream.

Extras: `members` (each member's ideal bits, as its coder reports them), `member_bits` (the
real payload bits of each member's stream), `mixture_bits_ideal`, `mixture_bits`, `selected`
(which stream was emitted), `weights` (bayes: final posterior; logistic: the mean weight of
each member's input), `streams`, `segments` (the mixture's learning curve, as the neural coders
report it), and for bayes with switch=0 `bayes_bound_bits`.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
from typing import Any, NamedTuple

import numba
import numpy as np

from ..coding import varint
from ..coding.binary import NLOG2, Outputs, dec_bit, dec_init, decisions_bound, enc_bit, new_state
from ..coding.core import Encoder
from ..coding.loop import SegmentModel
from ..coding.streams import (
    decode_streams,
    layout,
    layout_array,
    segment_steps,
    segments,
    stream_start,
)
from ..errors import CorruptStreamError, UsageError
from ..models import runtime
from ..params import Param
from .base import NOTHING_GIVEN, Given, library_version, register
from .kt import KT, kt_begin, kt_bit, kt_commit, kt_depth, kt_end, kt_p
from .lookup import REGISTRY, create
from .mix import SQUASH, STRETCH, MixCoder, mix_begin, mix_predict, mix_update
from .model import ModelCoder, Payload, alphabet_meta, alphabet_of, one_symbol, read_alphabet

_MEMBER = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)(?:\[([^\[\]]*)\])?$")
_GPU_STREAMS = 16
OF = "mix+lstm[hidden=80;train_every=256;windows=8;kernel=numba]"
"""The default members: mix and a one-stream LSTM that steps in one compiled call and trains
on its 256-byte segments as 8 windows side by side, so the ensemble codes at about the speed
of `-c lstm` (16 streams) on a CPU."""
OF_V1 = "mix+lstm[train_every=32]"
"""The default members of streams written before the selector byte's V2 flag: the default
spec decodes them with these."""
V2 = 0x80
_FLOOR = 1e-300
# member kinds in the compiled loop
NATIVE_MIX, NATIVE_KT, ROWS = 0, 1, 2
# logistic mixer weight sets: partial byte (256), bit position x 16 disagreement buckets (128),
# then the previous byte (256)
_SETS_A, _SETS_B = 256, 128


def member_specs(of: str) -> list[str]:
    """'lstm[hidden=64;layers=2]+kt' -> ['lstm:hidden=64,layers=2', 'kt']."""
    out = []
    for part in of.split("+"):
        m = _MEMBER.match(part.strip())
        if not m:
            raise UsageError(f"ensemble: bad member {part!r} in of={of!r} "
                             "(expected name or name[key=value;...], joined by +)")
        name, args = m.group(1), m.group(2)
        out.append(name + (":" + args.replace(";", ",") if args else ""))
    return out


# --------------------------------------------------------------------------- compiled loop


@numba.njit(cache=True, inline="always")
def _clamp16(p: float) -> int:
    q = int(p * 65536.0 + 0.5)
    return 1 if q < 1 else (65535 if q > 65535 else q)


@numba.njit(cache=True, inline="always")
def _dot(w, base, x, nin):
    dot = 0
    for i in range(nin):
        dot += x[i] * w[base + i]
    dot >>= 16
    return -2047 if dot < -2047 else (2047 if dot > 2047 else dot)


@numba.njit(cache=True, inline="always")
def _logistic_p(c0, bp, c1, MW, x, nm, sc):
    """The logistic mixer's 16-bit P(bit = 1) from the inputs x (stretch domain): the mean of
    three weight sets' outputs, chosen by the partial byte, by the bit position and how far the
    first two members disagree, and by the previous byte. Fills sc for `_logistic_update`."""
    nin = x.shape[0]
    d = x[0] - x[1] if nm > 1 else 0
    bucket = 0
    while bucket < 7 and (d if d >= 0 else -d) >= (32 << bucket):
        bucket += 1
    sc[0] = c0 * nin
    sc[1] = (_SETS_A + bp * 16 + (bucket if d >= 0 else 8 + bucket)) * nin
    sc[2] = (_SETS_A + _SETS_B + c1) * nin
    tot = 0
    for k in range(3):
        sc[3 + k] = _dot(MW, sc[k], x, nin)
        tot += sc[3 + k]
    return SQUASH[tot // 3 + 2048]


@numba.njit(cache=True, inline="always")
def _logistic_update(MW, x, sc, y, lr):
    """One gradient step on coding cost for each of the three weight sets."""
    nin = x.shape[0]
    for k in range(3):
        err = ((y << 12) - (SQUASH[sc[3 + k] + 2048] >> 4)) * lr
        for i in range(nin):
            MW[sc[k] + i] += (x[i] * err) >> 14


@numba.njit(cache=True, inline="always")
def _row_p(cum, lo, mid, hi):
    """P(bit = 1) at a node covering symbols lo..hi-1 (right half mid..hi-1) of a row."""
    m1 = cum[hi] - cum[mid]
    m = cum[hi] - cum[lo]
    return m1 / m if m > 0.0 else 0.5


class Members(NamedTuple):
    """The members of one compiled run: kinds[j] = (kind, index into mixes, kts or the rows)."""

    kinds: np.ndarray  # (M, 2) int64
    mixes: tuple       # MixState per native mix member (a tiny stand-in when there is none)
    kts: tuple         # KTState per native kt member (a tiny stand-in when there is none)
    rows: np.ndarray   # (S, B, R, 256) float64: the step members' predictions, S steps
    cum: np.ndarray    # (B, R, 257) float64: their cumulative sums
    p: np.ndarray      # (M,) float64: each member's P(bit = 1)
    p16: np.ndarray    # (M,) int64: the same as coded, 16 bits (0: the bit is forced)
    bits: np.ndarray   # (M,) float64: Σ -log2 p of each native member's own stream


class Mixer(NamedTuple):
    """The mixer's state: its settings, the Bayes weights and the logistic weight sets."""

    config: np.ndarray   # int64 [logistic (1) or bayes (0), lr]
    switch: float        # bayes: fixed-share rate per byte
    bayes_w: np.ndarray  # (M,) float64 posterior weights
    weights: np.ndarray  # int32 logistic weight sets, (M + 1) inputs each
    x: np.ndarray        # (M + 1,) int64 logistic inputs (stretch domain) and the bias
    sc: np.ndarray       # (6,) int64 the chosen sets' offsets and outputs


@numba.njit(cache=True, inline="always")
def _members_begin(kinds, mixes, kts, rows, cum, b, buf, pos, start):
    """Every member starts the byte at pos of stream b (a step member: its cumulative row)."""
    for j in range(kinds.shape[0]):
        i = kinds[j, 1]
        if kinds[j, 0] == NATIVE_MIX:
            m = mixes[i]
            mix_begin(m, m.history[b])
        elif kinds[j, 0] == NATIVE_KT:
            kt_begin(kts[i], b, buf, pos, start)
        else:
            c = cum[b, i]
            c[0] = 0.0
            for s in range(256):
                c[s + 1] = c[s] + rows[b, i, s]


@numba.njit(cache=True, inline="always")
def _members_end(kinds, kts, b):
    """The byte of stream b is complete: the kt members note their symbol."""
    for j in range(kinds.shape[0]):
        if kinds[j, 0] == NATIVE_KT:
            kt_end(kts[kinds[j, 1]], b)


@numba.njit(cache=True, inline="always")
def _kt_commit_step(kinds, kts, lay, t):
    """kt counts a step's symbols after the step, every stream's at once."""
    nb, q, r = lay[0], lay[1], lay[2]
    for j in range(kinds.shape[0]):
        if kinds[j, 0] == NATIVE_KT:
            for b in range(nb):
                if t < q + (1 if b < r else 0):
                    kt_commit(kts[kinds[j, 1]], b)


@numba.njit(cache=True, inline="always")
def _member_ps(kinds, mixes, kts, cum, pf, p16, b, bp, lo, mid):
    """Every member's P(bit = 1) at the node lo..mid-1 | mid..lo+2^(8-bp)-1 of stream b: pf as
    a float, p16 as coded in 16 bits (0: a kt member does not code this bit)."""
    for j in range(kinds.shape[0]):
        i = kinds[j, 1]
        if kinds[j, 0] == NATIVE_MIX:
            m = mixes[i]
            p = mix_predict(m, m.history[b], m.scratch[b])
            p16[j] = p
            pf[j] = p / 65536.0
        elif kinds[j, 0] == NATIVE_KT:
            m2 = kts[i]
            p = kt_p(m2, b) if bp >= 8 - kt_depth(m2) else 0
            p16[j] = p
            pf[j] = p / 65536.0
        else:
            pf[j] = _row_p(cum[b, i], lo, mid, lo + (1 << (8 - bp)))
            p16[j] = _clamp16(pf[j])


@numba.njit(cache=True, inline="always")
def _mixture_p(logistic, c0, bp, prev, mx, pf, p16):
    """The mixture's 16-bit P(bit = 1): logistic over the members' stretched p16 and a bias,
    or the Bayes weights' mean of pf. `prev`: the stream's previous byte."""
    nm = pf.shape[0]
    if logistic:
        for j in range(nm):
            mx.x[j] = STRETCH[p16[j] >> 4]
        mx.x[nm] = 256
        return _logistic_p(c0, bp, prev, mx.weights, mx.x, nm, mx.sc)
    acc = 0.0
    for j in range(nm):
        acc += mx.bayes_w[j] * pf[j]
    return _clamp16(acc)


@numba.njit(cache=True, inline="always")
def _mixer_learn(logistic, mx, pf, y):
    """The mixer learns bit y: a gradient step per logistic weight set, or Bayes' rule."""
    if logistic:
        _logistic_update(mx.weights, mx.x, mx.sc, y, mx.config[1])
        return
    wb = mx.bayes_w
    tot = 0.0
    for j in range(wb.shape[0]):
        wb[j] *= pf[j] if y else 1.0 - pf[j]
        tot += wb[j]
    for j in range(wb.shape[0]):
        wb[j] = max(wb[j] / tot, _FLOOR)


@numba.njit(cache=True, inline="always")
def _members_encode(kinds, p16, mbits, out, cs, y):
    """Each native member's own stream (out[1 + i]) codes bit y as its coder would."""
    o = 1
    for j in range(kinds.shape[0]):
        if kinds[j, 0] != ROWS:
            if p16[j]:
                enc_bit(cs[o], out[o], y, p16[j])
                mbits[j] += NLOG2[p16[j]] if y else NLOG2[65536 - p16[j]]
            o += 1


@numba.njit(cache=True, inline="always")
def _members_learn(kinds, mixes, kts, b, bp, buf, y):
    """The native members of stream b learn bit y (a step member learns a step at a time)."""
    for j in range(kinds.shape[0]):
        i = kinds[j, 1]
        if kinds[j, 0] == NATIVE_MIX:
            m = mixes[i]
            mix_update(m, m.history[b], m.scratch[b], buf, y)
        elif kinds[j, 0] == NATIVE_KT:
            m2 = kts[i]
            if bp >= 8 - kt_depth(m2):
                kt_bit(m2, b, y)


# The loop runs without numba's reference counting (`_nrt=False`, as mix.py's loops): it
# allocates nothing, and counting the references to every array taken from the members' and
# the mixer's state cost calls with atomic updates at every bit. With the bit's steps as the
# inlined helpers above, measured on alice29 (CPU time, warm): of=mix+kt[order=2] encodes in
# 0.39 s instead of 0.67 s, mixer=bayes with kt+mix in 0.27 s instead of 0.65 s; the same bits.
@numba.njit(cache=True, _nrt=False)
def _code(mode, buf, lay, t0, t1, k_ens, mb, mx, out, cs, seg, seg_steps):
    """Steps t0..t1-1: encode (mode 0) the bytes of every stream in buf into out[0] (the
    mixture) and each native member's own stream (out[1 + i]), or decode (mode 1) the mixture
    from the stream in out[0] into buf. `rows[t - t0]` (B, R, 256) are the step members'
    predictions for step t (t1 - t0 <= S, the rows' first dimension). Returns Σ -log2 p of
    the mixture's decisions (encode)."""
    kinds, mixes, kts, rows, cum, pf, p16, mbits = mb
    nb, q, r = lay[0], lay[1], lay[2]
    nm = kinds.shape[0]
    logistic = mx.config[0] == 1
    alpha = mx.switch
    ideal = 0.0
    for t in range(t0, t1):
        bits = 0.0
        for b in range(nb):
            if t >= q + (1 if b < r else 0):
                continue  # the ragged last step
            start = stream_start(lay, b)
            pos = start + t
            sym = np.int64(buf[pos]) if mode == 0 else np.int64(0)
            prev = buf[pos - 1] if pos > start else 0
            _members_begin(kinds, mixes, kts, rows[t - t0], cum, b, buf, pos, start)
            c0 = 1
            for bp in range(8):
                lo = (c0 << (8 - bp)) - 256
                mid = lo + (1 << (7 - bp))
                forced = mid >= k_ens  # no symbol of the alphabet right of the node
                _member_ps(kinds, mixes, kts, cum, pf, p16, b, bp, lo, mid)
                pmix = 0 if forced else _mixture_p(logistic, c0, bp, prev, mx, pf, p16)
                if mode == 0:
                    y = (sym >> (7 - bp)) & 1
                    if not forced:
                        enc_bit(cs[0], out[0], y, pmix)
                        bits += NLOG2[pmix] if y else NLOG2[65536 - pmix]
                    _members_encode(kinds, p16, mbits, out, cs, y)
                else:
                    y = dec_bit(cs[0], out[0], pmix) if not forced else 0
                if not forced:
                    _mixer_learn(logistic, mx, pf, y)
                _members_learn(kinds, mixes, kts, b, bp, buf, y)
                c0 = 2 * c0 + y
            if mode == 1:
                buf[pos] = c0 - 256
            _members_end(kinds, kts, b)
            if alpha > 0.0 and not logistic:  # fixed share after every byte
                for j in range(nm):
                    mx.bayes_w[j] = (1.0 - alpha) * mx.bayes_w[j] + alpha / nm
        _kt_commit_step(kinds, kts, lay, t)
        if mode == 0:
            ideal += bits
            seg[t // seg_steps] += bits
    return ideal


@functools.cache
def _dummies() -> tuple[tuple, tuple]:
    """Tiny mix and kt tables that stand in for a kind with no member."""
    return MixCoder(mem=12).model(1, 1).state, KT(order=0).model(2, 1).state


# --------------------------------------------------------------------------- one run


class _Run:
    """The members and mixer state of one encode or decode of n bytes in B streams."""

    def __init__(self, comps: list[Any], k: int, n: int, b: int, mixer: str, switch: float,
                 lr: int) -> None:
        self.comps, self.k, self.n, self.b = comps, k, n, b
        self.lay = layout_array(n, b)
        self.mixes, self.kts = [], []
        self.steps_models: list[Any] = []
        kinds = []
        for comp in comps:
            if isinstance(comp, MixCoder):
                kinds.append((NATIVE_MIX, len(self.mixes)))
                self.mixes.append(comp.model(n, b).state)
            elif isinstance(comp, KT):
                kinds.append((NATIVE_KT, len(self.kts)))
                self.kts.append(comp.model(comp.alphabet_for(k), b).state)
            else:
                kinds.append((ROWS, len(self.steps_models)))
                self.steps_models.append(comp.step_model(k, b))
        self.kinds = np.array(kinds, dtype=np.int64).reshape(-1, 2)
        self.natives = len(self.mixes) + len(self.kts)
        # homogeneous tuples (indexable at run time, no calls in the loop); a tiny unused model
        # stands in for a kind with no member, so that the loop always types
        mix_dummy, kt_dummy = _dummies()
        m = len(comps)
        # the encoder runs a segment of `chunk` steps of every step member at once (the
        # members' training segments end on its multiples); the decoder one step at a time
        self.chunk = _chunk(self.steps_models)
        self.rows = np.zeros((self.chunk, b, len(self.steps_models), 256), dtype=np.float64)
        self.members = Members(self.kinds, tuple(self.mixes) or (mix_dummy,),
                               tuple(self.kts) or (kt_dummy,), self.rows,
                               np.zeros((b, len(self.steps_models), 257), dtype=np.float64),
                               np.zeros(m), np.zeros(m, dtype=np.int64), np.zeros(m))
        nin = m + 1  # st(P_m(bit)) of every member and a bias
        weights = np.zeros((_SETS_A + _SETS_B + 256) * nin, dtype=np.int32)
        weights.reshape(-1, nin)[:, 0] = 1 << 16  # the mixture starts as the first member
        self.mixer = Mixer(np.array([int(mixer == "logistic"), lr], dtype=np.int64),
                           float(switch), np.full(m, 1.0 / m), weights,
                           np.zeros(nin, dtype=np.int64), np.zeros(6, dtype=np.int64))
        steps = int(self.lay[1]) + (int(self.lay[2]) > 0)
        self.seg_steps = segment_steps(n, b)
        self.seg = np.zeros(-(-steps // self.seg_steps))
        self.steps = steps

    def predict_rows(self) -> None:
        for i, sm in enumerate(self.steps_models):
            p = np.asarray(sm.predict(), dtype=np.float64)
            self.rows[0, :, i, : p.shape[1]] = p

    def code(self, mode: int, buf: np.ndarray, t0: int, t1: int, out: np.ndarray,
             cs: np.ndarray) -> float:
        return _code(mode, buf, self.lay, t0, t1, self.k, self.members, self.mixer, out, cs,
                     self.seg, self.seg_steps)

    def encode_rows(self, sym: np.ndarray, encoders: list[Encoder]) -> None:
        """The encoder's path: every step member predicts and learns the (S, B) symbols `sym`
        of full steps (a SegmentModel in one `encode_segment` call), its rows go to `rows[:S]`
        and, as its coder would send them, to its own stream's encoder."""
        s = len(sym)
        for i, sm in enumerate(self.steps_models):
            if isinstance(sm, SegmentModel):
                p, bits = sm.encode_segment(sym)
                self.rows[:s, :, i, : p.shape[1]] = p.reshape(s, self.b, -1)
                encoders[i].encode(sym, p, bits)
            else:  # one step (chunk 1): predict, then learn (the coding never feeds back)
                p = np.asarray(sm.predict(), dtype=np.float64)
                self.rows[0, :, i, : p.shape[1]] = p
                encoders[i].encode(sym[0], p)
                sm.update(sym[0])

    def step_symbols(self, buf: np.ndarray, t: int, steps: int = 1) -> np.ndarray:
        """The bytes of steps t..t+steps-1, (steps, B) (the last step: only the streams that
        still have one, (1, r))."""
        b, q, r = (int(v) for v in self.lay)
        nb = b if t < q else r
        starts = np.arange(nb) * self.lay[1] + np.minimum(np.arange(nb), self.lay[2])
        return buf[starts[None, :] + np.arange(t, t + steps)[:, None]].astype(np.int64)


# --------------------------------------------------------------------------- the coder


@register
class EnsembleCoder(ModelCoder):
    name = "ensemble"
    family = "ensemble"
    summary = ("bit-level mixture (logistic or Bayes) of other coders; never longer than its "
               "best member + a stated allowance")
    library = "numba"
    stochastic = True
    params = (
        Param("of", str, OF, "members joined by + (name or name[k=v;k=v])"),
        Param("mixer", str, "logistic", "how members are mixed", choices=("logistic", "bayes")),
        Param("switch", float, 0.0, "bayes: fixed-share rate per byte (0: the Bayes mixture)",
              min=0.0, max=1.0),
        Param("lr", int, 4, "logistic: learning rate", min=1, max=64),
        Param("streams", int, 0, "lockstep streams B (0: 1 on CPU, 16 for a network on CUDA)",
              min=0, max=65536),
        Param("seed", int, 0, "seed handed to members that take one", min=0, max=2**31 - 1),
        Param("device", str, "cpu", "device for neural members", choices=("cpu", "cuda", "auto")),
        Param("threads", int, 1, "torch CPU threads for neural members", min=1, max=256),
    )

    def validate(self) -> None:
        runtime.pin_device(self.config)
        self.members(1)

    def memory_bytes(self, n: int) -> int:
        """Every member's own memory (each runs its model; the encoder also writes each
        member's stream in the same pass), plus the mixed stream."""
        return n + sum(m.memory_bytes(n) for m in self.members(1))

    def length_bound(self, stream_bytes: int, meta: bytes = b"") -> int:
        """The mixed stream codes every symbol of a K >= 2 alphabet with at least one decision
        of probability at most 65535/2^16 (`decisions_bound`); a stream the selector hands to
        a member holds at most what that member's own bound allows. The largest of these."""
        k = meta[-1] + 1 if meta else 256
        if k == 1:
            return self.max_input
        alpha = alphabet_meta(0, k)
        bounds = [decisions_bound(stream_bytes)]
        bounds += [m.length_bound(stream_bytes, alpha) for m in self.members(1)]
        return min(self.max_input, max(bounds))

    def members(self, streams: int, of: str | None = None) -> list[Any]:
        """The member coders (of `of`, by default the spec's), each with the ensemble's
        streams, seed, device and threads."""
        c = self.config
        comps = []
        for spec in member_specs(of or c["of"]):
            name, _, args = spec.partition(":")
            if name not in REGISTRY:
                known = ", ".join(n for n in sorted(REGISTRY) if _mixable(REGISTRY[n]))
                raise UsageError(f"ensemble: unknown member {name!r} (coders that can be "
                                 f"mixed: {known})")
            if not _mixable(REGISTRY[name]):
                raise UsageError(f"ensemble: {name!r} has no step model, so it cannot be mixed")
            if any(kv.partition("=")[0].strip() == "streams" for kv in args.split(",")):
                raise UsageError("ensemble: set streams on the ensemble, not on a member (every "
                                 "member runs with the ensemble's streams)")
            comps.append(create(spec, seed=c["seed"], device=c["device"], threads=c["threads"],
                                streams=streams))
        return comps

    def version(self) -> str:
        libs = {"numba"} | {m.library for m in self.members(1) if m.library}
        return "; ".join(f"{lib} {library_version(lib)}" for lib in sorted(libs))

    def _uses_torch(self, comps: list[Any]) -> bool:
        return any(getattr(m, "uses_torch", False) for m in comps)

    def _streams(self, n: int) -> int:
        b = self.config["streams"]
        if not b:
            b = 1
            if self._uses_torch(self.members(1)) and \
                    runtime.resolve_device(self.config["device"]) == "cuda":
                b = _GPU_STREAMS
        return layout(n, b)[0]

    def _settings(self, comps: list[Any]) -> contextlib.AbstractContextManager[None]:
        if self._uses_torch(comps):
            return runtime.deterministic(self.config["threads"])
        return contextlib.nullcontext()

    def _meta(self, selector: int, b: int, k: int, comps: list[Any]) -> bytes:
        if self._uses_torch(comps):
            device = runtime.resolve_device(self.config["device"])
            tail = runtime.write_meta(device, self.config["threads"], k)
        else:
            tail = alphabet_meta(0, k)
        return bytes([V2 | selector]) + varint.encode(b) + tail

    def _run(self, comps: list[Any], k: int, n: int, b: int) -> _Run:
        c = self.config
        return _Run(comps, k, n, b, c["mixer"], c["switch"], c["lr"])

    # -- encoding ------------------------------------------------------------------------------

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        n, k = len(data), alphabet_of(data)
        b = self._streams(n)
        comps = self.members(b)
        names = _names(comps)
        if k == 1:  # one symbol: the length says it all
            return Payload(b"", 0.0, self._meta(0, b, k, comps),
                           {"members": dict.fromkeys(names, 0.0), "streams": b})
        with self._settings(comps):
            run = self._run(comps, k, n, b)
            buf = np.frombuffer(data, dtype=np.uint8).copy()
            out = Outputs(1 + run.natives, n // 4 + 64)
            encoders = [Encoder(_coder_of(comps, run, i)) for i in range(len(run.steps_models))]
            ideal = _encode(run, buf, out, encoders, given)
            streams = [out.finish(i) for i in range(1 + run.natives)]
            streams += [e.finish() for e in encoders]
        # stream i: 0 the mixture, then the members in the order of `of`
        order = [0] + [1 + _stream_index(run, j) for j in range(len(comps))]
        sizes = [len(streams[i]) for i in order]
        selector = int(np.argmin(sizes))
        payload = streams[order[selector]]
        member_ideal = _member_ideal(run, encoders)
        extras: dict[str, Any] = {
            "members": dict(zip(names, member_ideal, strict=True)),
            "member_bits": dict(zip(names, [8 * s for s in sizes[1:]], strict=True)),
            "mixture_bits_ideal": ideal,
            "mixture_bits": 8 * sizes[0],
            "selected": "mixture" if selector == 0 else names[selector - 1],
            "weights": dict(zip(names, _weights(run, self.config["mixer"]), strict=True)),
            "streams": b,
            "segments": segments(run.seg, n, b, run.seg_steps),
        }
        if self.config["mixer"] == "bayes" and self.config["switch"] == 0:
            extras["bayes_bound_bits"] = min(member_ideal) + math.log2(len(comps))
        bits_ideal = ideal if selector == 0 else member_ideal[selector - 1]
        return Payload(payload, bits_ideal, self._meta(selector, b, k, comps), extras)

    # -- decoding ------------------------------------------------------------------------------

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        selector, b, k, comps = self._read_meta(meta, length)
        if k == 1:
            return one_symbol(payload, length)
        with self._settings(comps):
            if selector:
                return self._decode_member(comps[selector - 1], payload, length, k, b, given)
            run = self._run(comps, k, length, b)
            inp = np.frombuffer(payload, dtype=np.uint8).copy()
            cs = np.tile(new_state(), (1, 1))
            dec_init(cs[0], inp)
            buf = np.zeros(length, dtype=np.uint8)
            _decode(run, buf, inp[None, :], cs, given)
            if cs[0, 3] > len(inp) + 4:
                raise CorruptStreamError("ensemble: truncated stream (decoder ran past its end)")
            return buf.tobytes()

    def _decode_member(self, comp: Any, payload: bytes, n: int, k: int, b: int,
                       given: Given) -> bytes:
        """Member `comp`'s own stream: its own decoder (native) or its step model's rows."""
        if isinstance(comp, MixCoder):
            return comp.decode_payload(payload, n, b"", given)
        if isinstance(comp, KT):
            kt_meta = alphabet_meta(comp.config["alphabet"], k)
            return comp.decode_payload(payload, n, kt_meta, given)
        coder = comp.config.get("coder", "range")
        return decode_streams(comp.step_model(k, b), payload, n, coder=coder,
                              progress=given.progress)

    def _read_meta(self, meta: bytes, n: int) -> tuple[int, int, int, list[Any]]:
        if len(meta) < 3:
            raise CorruptStreamError("corrupt stream (ensemble meta too short)")
        selector = meta[0] & ~V2
        b, pos = varint.decode(meta, 1)
        want = self.config["streams"]
        if not 1 <= b <= max(n, 1) or (want and b != layout(n, want)[0]):
            raise CorruptStreamError(f"corrupt stream (ensemble meta says {b} streams)")
        old = not meta[0] & V2 and self.config["of"] == OF  # the default of its day
        comps = self.members(b, OF_V1 if old else None)
        if selector > len(comps):
            raise CorruptStreamError(f"corrupt stream (selector {selector} for {len(comps)} "
                                     f"members)")
        tail = meta[pos:]
        if self._uses_torch(comps):
            device = runtime.resolve_device(self.config["device"])
            k = runtime.read_meta(tail, device, self.config["threads"])
        else:
            k = read_alphabet(self.name, 0, tail)
        return selector, b, k, comps


# --------------------------------------------------------------------------- loops


def _encode(run: _Run, buf: np.ndarray, out: Outputs, encoders: list[Encoder],
            given: Given) -> float:
    """Encode all steps: the mixture into out[0], native members into out[1:], step members
    into `encoders`. Returns the mixture's Σ -log2 p. With step members the full steps go in
    chunks of `run.chunk` (their rows for the chunk first, then the compiled loop over it),
    the ragged last step by itself."""
    b, q, r = (int(v) for v in run.lay)
    ideal = 0.0
    block = run.chunk if run.steps_models else max(1, (1 << 16) // b)
    every = max(1, 4096 // b)
    t0 = 0
    while t0 < run.steps:
        t1 = min(run.steps, t0 + block, q) if t0 < q else run.steps
        out.reserve(8 * b * (t1 - t0))
        if run.steps_models:
            sym = run.step_symbols(buf, t0, t1 - t0)
            if t0 < q:
                run.encode_rows(sym, encoders)
            else:  # the ragged last step: rows, no learning
                run.predict_rows()
                for i in range(len(run.steps_models)):
                    encoders[i].encode(sym[0], run.rows[0, : sym.shape[1], i, : run.k])
        ideal += run.code(0, buf, t0, t1, out.out, out.cs)
        if t1 // every != t0 // every or t1 == run.steps:
            given.tell(min(t1, q) * b + (r if t1 > q else 0), len(buf), 8.0 * out.size(0))
        t0 = t1
    return ideal


def _decode(run: _Run, buf: np.ndarray, inp: np.ndarray, cs: np.ndarray,
            given: Given) -> None:
    """Decode the mixture's stream into buf (the step members predict and learn as coded)."""
    b, q, r = (int(v) for v in run.lay)
    block = 1 if run.steps_models else max(1, (1 << 16) // b)
    every = max(1, 4096 // b)
    for t0 in range(0, run.steps, block):
        t1 = min(run.steps, t0 + block)
        if run.steps_models:
            run.predict_rows()
        run.code(1, buf, t0, t1, inp, cs)
        if run.steps_models and t0 < q:
            sym = run.step_symbols(buf, t0)[0]
            for sm in run.steps_models:
                sm.update(sym)
        if block > 1 or t1 % every == 0 or t1 == run.steps:
            given.tell(min(t1, q) * b + (r if t1 > q else 0), len(buf))


def mixture_code_length(comps: list[Any], data: bytes, *, mixer: str = "bayes",
                        switch: float = 0.0, lr: int = 4, streams: int = 1
                        ) -> tuple[float, list[float]]:
    """Σ -log2 p of the mixture's decisions and each member's ideal bits, for member coders
    (or any objects with a `step_model`) on `data`: the encoder's loop, for analysis and tests."""
    n, k = len(data), alphabet_of(data)
    b = layout(n, streams)[0]
    run = _Run(comps, k, n, b, mixer, switch, lr)
    encoders = [Encoder() for _ in run.steps_models]
    ideal = _encode(run, np.frombuffer(data, dtype=np.uint8).copy(),
                    Outputs(1 + run.natives, n // 4 + 64), encoders, NOTHING_GIVEN)
    return ideal, _member_ideal(run, encoders)


def _member_ideal(run: _Run, encoders: list[Encoder]) -> list[float]:
    """Each member's ideal bits as its own coder reports them."""
    return [float(run.members.bits[j]) if kind != ROWS else encoders[i].bits_ideal
            for j, (kind, i) in enumerate(run.kinds)]


# --------------------------------------------------------------------------- helpers


def _chunk(models: list[Any]) -> int:
    """Steps the encoder runs its step members for at once: where all their training segments
    end together (1 when one of them has no `encode_segment`, or there are none)."""
    if not models or not all(isinstance(m, SegmentModel) for m in models):
        return 1
    return functools.reduce(math.gcd, (m.train_every for m in models))


def _mixable(cls: type) -> bool:
    return issubclass(cls, (MixCoder, KT)) or hasattr(cls, "step_model")


def _names(comps: list[Any]) -> list[str]:
    specs = [m.spec for m in comps]
    return [f"{i}:{s}" if specs.count(s) > 1 else s for i, s in enumerate(specs)]


def _stream_index(run: _Run, j: int) -> int:
    """Where member j's own stream is among [native outputs (member order)..., step
    encoders...]."""
    kind, i = run.kinds[j]
    if kind != ROWS:
        return int(np.sum(run.kinds[:j, 0] != ROWS))
    return run.natives + int(i)


def _coder_of(comps: list[Any], run: _Run, i: int) -> str:
    j = int(np.flatnonzero((run.kinds[:, 0] == ROWS) & (run.kinds[:, 1] == i))[0])
    return comps[j].config.get("coder", "range")


def _weights(run: _Run, mixer: str) -> list[float]:
    m = len(run.comps)
    if mixer == "bayes":
        return run.mixer.bayes_w.tolist()
    nin = m + 1
    w = run.mixer.weights.reshape(-1, nin)[:, :m].astype(np.float64).mean(axis=0) / 65536.0
    return w.tolist()
