"""Variational MDL codes of a Bayesian network with an adaptive Gaussian-mixture prior.

`variational:…` trains a mean-field Gaussian posterior q(w) and a prior p(w) (a Gaussian
mixture with learned π, μ, σ, one component pinned at 0, or a single zero-mean Gaussian) on
KL(q‖p) + E_q[NLL] (mdlbench.models.bayes) and writes a real **bits-back** stream (Hinton & van
Camp 1993; BB-ANS) on constriction's ANS stack:

    stack ← seeded initial words                       (the "initial bits", returned later)
    w     ← pop from the stack under discretised q      (takes ≈ -log2 Q(w) bits off)
    push the data under p(x_t | window, w)             (NLL bits)
    push w under the discretised prior p                (≈ -log2 P(w) bits)
    send the stack, less its bottom words that still equal the seed's (the decoder makes them)

Weights live on the grid δ = 2^-wbits over [-wmax, wmax]; q is a `QuantizedGaussian(μ/δ, σ/δ)`
per weight truncated to ±8σ (see `_q`: a tight range keeps constriction's 2^-24 probability
floor from drawing absurd weights), and the prior a `Categorical` over all grid bins (mixture
CDF differences). `wbits=0` (default) draws w at every grid 2^-1 … 2^-10, computes each
stream's exact ideal length (initial words + NLL + -log2 P - -log2 Q of that draw; the real
stream is within ~96 bits of it) and finishes the shortest (the grid goes in the meta byte;
`wbits_tried` lists the estimates): a coarse grid needs fewer initial bits, a fine one follows
q more closely. Every predictive distribution of the
data carries a 2^-20 floor (models.bayes.FLOOR) so that the coder codes exactly the
distribution whose bits are reported. The
prior's own parameters (3k-1 numbers; gaussian: 1) are sent in the container's meta at float16:
`prior_param_bits` = 16 × that count, and the decoder builds the same table from those bits.

The decoder pops w with the prior, decodes the data with p(·|w) (one window per step, the
same `code_steps` loop and numpy float64 step as the encoder), then **reruns the same seeded,
single-threaded, deterministic training on the decoded data** to rebuild q bit for bit, pushes
w back under q, and checks that what is left is exactly the seeded initial words (so a
non-reproducible q is caught, not silently mis-decoded). Decoding costs one more training run.

Initial bits. Popping w needs words on the stack before anything is pushed: the seeded
"initial bits". A single bits-back message pays for them: the decoder gets them back exactly,
but only a chain of messages (each carrying the next one's initial bits) turns them into
savings. Only the initial words that the draw touched are sent: the stack's bottom words that
still equal the seed's are cut off (their count is in the meta) and the decoder regenerates
them, so `initial_bits` is what popping w consumed, rounded up to whole words, plus the 64-bit
coder head.

Accounting, all in bits. The stream holds initial + (KL + NLL of the drawn w) bits, so:
- `bits` (container) = header + meta (prior params, alphabet, grid, cut words) +
  `initial_bits` + net;
- `bitsback_net_bits` = stream − initial bits: what the code costs once the initial bits are
  returned. It equals `bitsback_ideal_bits` = NLL(x|w) + (−log2 P(w)) − (−log2 Q(w)) for the
  drawn w up to ANS overhead (≤ 64 bits of coder state + whole 32-bit words).
- `bits_ideal` = `initial_bits` + `bitsback_ideal_bits`: Σ −log2 p of what this stream codes
  (the initial words at 32 bits each, the data and w, less the bits the draw of w took off),
  for the draw that was actually made; `bits` − `bits_ideal` is the container, the meta and
  the ANS overhead.
- That one draw scatters (`disc_sample_sd_bits`) around its expectation `kl_disc_bits` +
  `nll_disc_bits`: KL(Q‖P) and E_Q[NLL] of the discretised posterior and prior on the stream's
  grid (Monte Carlo, with standard errors); `disc_total_bits` adds the prior parameters. Binning
  both sides can only lower the KL (data processing), and for δ ≪ σ the discretised figures
  equal the continuous ones:
- `kl_bits` (continuous KL(q‖p), Monte Carlo, `kl_se_bits` its standard error, method in
  `kl_method`; closed form for the gaussian prior), `nll_bits` (E_q NLL, Monte Carlo),
  `prior_param_bits`, and `objective_bits` = their sum: the variational objective itself
  (`objective_se_bits` its standard error), a Monte-Carlo figure, not a stream.

Two-part figures for the same posterior (`twopart_*`): μ quantised to the grid 2^-g (the g in
1..wbits, or 1..10, with the smallest total), coded with ANS under the discretised mixture prior at that
grid, then the data under the quantised model; `twopart_bits` = real weight + data stream bits +
prior parameters + the grid byte. `adjusted_bits` is the LMIC-style figure: data bits under the
quantised model + 16 bits per parameter. `vtwopart:…` writes that two-part code as its stream;
its `bits_ideal` is Σ −log2 p of the weights and the data it codes.

`init=handset` starts q's means at the hand-set network of the task the data comes from
(models.handset: parity as an mlp or a transformer, counting as an mlp; the task and its
parameters are read off the data), the decoder does the same on the decoded data. The seed
paper's question (hand-set vs random start) is an experiment on top of these coders:
mdlbench/experiments/seed_question.py; the n-sweep is suites/sweep.toml.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ..coding import varint
from ..coding.core import AnsStack
from ..coding.loop import code_steps
from ..errors import CorruptStreamError, UsageError
from ..params import Param
from .base import NOTHING_GIVEN, Encoded, Given, register
from .model import ModelCoder, Payload, alphabet_of

MAX_INPUT = 1 << 20
AUTO_WBITS = 10
_INIT_TAG = 0xB175BAC
_SPARE_WORDS = 8
"""Initial words beyond the estimate of what popping w needs; those left untouched are cut."""


class Fit(NamedTuple):
    """A posterior fitted to the data: what both the bits-back and the two-part code use."""

    x: np.ndarray
    """The data as symbols."""
    net: Any
    """The network (models.bayes.Net) whose weights the posterior is over."""
    post: Any
    """The posterior and the prior (models.bayes.Posterior)."""


class _Window:
    """StepModel over one stream: the net's next-symbol distribution given the last C symbols."""

    streams = 1

    def __init__(self, net, weights: np.ndarray) -> None:
        self.net, self.alphabet = net, net.cfg.alphabet
        self.p = net.numpy_params(weights)
        self.ctx = np.full(net.cfg.context, net.cfg.alphabet, dtype=np.int64)

    def predict(self) -> np.ndarray:
        return self.net.step_probs(self.p, self.ctx)[None, :]

    def update(self, symbols: np.ndarray) -> None:
        self.ctx[:-1] = self.ctx[1:]
        self.ctx[-1] = symbols[0]


class _Collect:
    """`code_steps` encoder side: keep the distributions, the caller pushes them on its stack."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def encode(self, symbols: np.ndarray, probs: np.ndarray) -> None:
        self.rows.append(probs[0])


_PARAMS = (
    Param("model", str, "mlp", "network: mlp or transformer (over a window of symbols)",
          choices=("mlp", "transformer")),
    Param("prior", str, "mixture", "weight prior: adaptive Gaussian mixture or one Gaussian",
          choices=("mixture", "gaussian")),
    Param("components", int, 4, "mixture components (component 0 pinned at 0)", min=2, max=16),
    Param("context", int, 8, "window of previous symbols the model sees", min=1, max=64),
    Param("hidden", int, 16, "hidden units (mlp layer / transformer MLP)", min=1, max=512),
    Param("embed", int, 0, "mlp: 0 = one-hot inputs, else embedding dim; transformer: width "
          "(0 = 16)", min=0, max=128),
    Param("heads", int, 1, "transformer attention heads", min=1, max=8),
    Param("steps", int, 1000, "training steps (Adam, full batch)", min=0, max=1_000_000),
    Param("lr", float, 0.01, "Adam learning rate", min=1e-6, max=1.0),
    Param("sigma0", float, 0.01, "initial posterior standard deviation", min=1e-5, max=1.0),
    Param("mc", int, 1, "weight samples per training step", min=1, max=64),
    Param("samples", int, 16, "Monte-Carlo samples for the reported KL and NLL", min=2,
          max=4096),
    Param("wbits", int, 0, "weight grid δ = 2^-wbits (0: try 1..10, keep the shortest)",
          min=0, max=14),
    Param("wmax", float, 64.0, "weights are coded on [-wmax, wmax]", min=1.0, max=4096.0),
    Param("init", str, "random", "posterior means start random or at the hand-set network of "
          "the task (parity: mlp or transformer; counting: mlp)", choices=("random", "handset")),
    Param("seed", int, 0, "training seed (init, noise, initial bits)", min=0, max=2**31 - 1),
    Param("coder", str, "ans", "entropy coder (bits-back needs a stack: ANS)", choices=("ans",)),
)


class _VariationalBase(ModelCoder):
    family = "variational"
    library = "torch"
    stochastic = True
    params = _PARAMS

    def validate(self) -> None:
        c = self.config
        if c["model"] == "transformer" and (c["embed"] or 16) % c["heads"]:
            raise UsageError(f"{self.name}: transformer width {c['embed'] or 16} is not a "
                             f"multiple of heads={c['heads']}")
        if 2 * round(c["wmax"] * 2 ** max(c["wbits"], AUTO_WBITS)) + 1 > 1 << 20:
            raise UsageError(f"{self.name}: wmax·2^wbits is too large (grid over 2^20 bins)")
        if c["init"] == "handset" and c["model"] == "mlp" and c["embed"]:
            raise UsageError(f"{self.name}: init=handset with model=mlp needs embed=0")

    # -- training: the same deterministic run in the encoder and (on decoded data) the decoder
    def fit(self, data: bytes) -> Fit:
        """The posterior fitted to non-empty `data`, as the encoder trains it."""
        if len(data) > MAX_INPUT:
            raise UsageError(f"{self.name}: input of {len(data)} bytes is too long to train on "
                             f"(max {MAX_INPUT}); use --chunk-size")
        x = np.frombuffer(data, dtype=np.uint8)
        net = self._net(max(alphabet_of(data), 2))  # a categorical needs >= 2 symbols
        return Fit(x, net, self._posterior(net, x))

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        return self._code_fit(self.fit(data), given)

    def encode_fit(self, data: bytes, fit: Fit, given: Given = NOTHING_GIVEN) -> Encoded:
        """`encode(data)` with the posterior `fit(data)` already trained: for experiments that
        also inspect the posterior, without training twice."""
        return self.wrap(data, self._code_fit(fit, given))

    def _code_fit(self, fit: Fit, given: Given) -> Payload:
        raise NotImplementedError

    @property
    def k(self) -> int:
        return 1 if self.config["prior"] == "gaussian" else self.config["components"]

    def _net(self, alphabet: int):
        from ..models.bayes import Net, NetConfig

        c = self.config
        return Net(NetConfig(c["model"], alphabet, c["context"], c["hidden"], c["embed"],
                             c["heads"]))

    def _posterior(self, net, x: np.ndarray):
        from ..models import handset as handsets
        from ..models.bayes import train

        c = self.config
        handset = None
        if c["init"] == "handset":
            try:
                handset = handsets.for_data(x, net.cfg)
            except ValueError as e:
                raise UsageError(f"{self.name}: init=handset: {e}") from None
        return train(net, x, components=self.k, steps=c["steps"], lr=c["lr"], seed=c["seed"],
                     init=c["init"], handset=handset, sigma0=c["sigma0"], mc=c["mc"])

    # -- the grid, the prior and the meta
    def _grid(self, bits: int) -> tuple[float, int]:
        delta = 2.0 ** -bits
        return delta, int(round(self.config["wmax"] / delta))

    def _prior_table(self, exported: np.ndarray, bits: int) -> np.ndarray:
        """The discretised prior over the grid's 2R+1 bins, from the parameters sent."""
        from ..models.bayes import prior_from_export, prior_table

        delta, radius = self._grid(bits)
        return prior_table(*prior_from_export(exported, self.k), delta, radius)

    def _meta(self, alphabet: int, exported: np.ndarray, extra: bytes = b"") -> bytes:
        return bytes([alphabet - 1]) + exported.astype("<f2").tobytes() + extra

    def _parse_meta(self, meta: bytes) -> tuple[int, np.ndarray, bytes]:
        """(alphabet, prior parameters, the coder's further meta bytes, at least one)."""
        from ..models.bayes import MixturePrior

        n = MixturePrior.n_exported(self.k)
        if len(meta) < 2 + 2 * n:
            raise CorruptStreamError(f"corrupt stream ({self.name} meta has {len(meta)} bytes)")
        if meta[0] == 0:
            raise CorruptStreamError(f"corrupt stream ({self.name} alphabet of one symbol)")
        exported = np.frombuffer(meta[1:1 + 2 * n], dtype="<f2").astype(np.float16)
        if not np.all(np.isfinite(exported)):
            raise CorruptStreamError(f"corrupt stream ({self.name} prior parameters)")
        return meta[0] + 1, exported, meta[1 + 2 * n:]

    def _check_grid(self, grid: int, payload: bytes, exact: bool) -> None:
        """The grid byte is one the encoder can write (the fixed wbits, or 1..10), and the
        payload holds whole words."""
        fixed = self.config["wbits"]
        ok = grid == fixed if fixed and exact else 1 <= grid <= (fixed or AUTO_WBITS)
        if not ok or len(payload) % 4 or not payload:
            raise CorruptStreamError(f"corrupt stream ({self.name} header)")

    # -- coding the data and the weights
    def _code_data(self, net, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The (N, K) distributions the data is coded with: one window per step."""
        col = _Collect()
        code_steps(_Window(net, weights), len(x), encoder=col,
                   symbols=np.asarray(x, np.int64)[:, None])
        return np.ascontiguousarray(np.stack(col.rows))

    def _pop_weights_then_data(self, stack: AnsStack, alphabet: int, exported: np.ndarray,
                               grid: int, length: int):
        """Shared by both decoders: weights off the ANS stack under the discretised prior, then
        the data under the net with those weights. Returns (net, weight symbols, data)."""
        net = self._net(alphabet)
        delta, radius = self._grid(grid)
        sym = stack.pop_table(self._prior_table(exported, grid), net.size) - radius
        x = code_steps(_Window(net, sym * delta), length, decoder=stack)[:, 0]
        return net, sym, x

    def _twopart(self, net, post, x: np.ndarray, exported: np.ndarray) -> dict[str, Any]:
        """Quantise μ at the best grid, code weights under the discretised prior, then data."""
        from ..models.bayes import nll_bits

        mu = post.mu.double().numpy()
        best = None
        for g in range(1, (self.config["wbits"] or AUTO_WBITS) + 1):
            delta, radius = self._grid(g)
            sym = np.clip(np.round(mu / delta), -radius, radius).astype(np.int64)
            table = self._prior_table(exported, g)
            p = np.maximum(table / table.sum(), 2.0**-24)
            wbits = float(-np.log2(p[sym + radius]).sum())
            dbits = nll_bits(net, sym * delta, x)
            if best is None or wbits + dbits < best[0]:
                best = (wbits + dbits, g, sym, wbits, dbits)
        _, g, sym, wideal, dideal = best
        delta, radius = self._grid(g)
        stack = AnsStack()
        stack.push(x, self._code_data(net, sym * delta, x))
        data_bits = stack.num_bits()
        stack.push_table(sym + radius, self._prior_table(exported, g))
        stream = stack.to_bytes()
        return {"grid_bits": g, "symbols": sym, "stream": stream, "data_bits": data_bits,
                "weight_bits": 8 * len(stream) - data_bits, "weight_bits_ideal": wideal,
                "data_bits_ideal": dideal}

    def _report(self, net, post, x: np.ndarray, exported: np.ndarray) -> dict[str, Any]:
        from ..models.bayes import evaluate, prior_from_export

        c = self.config
        ev = evaluate(net, post, x, c["samples"], c["seed"])
        ppb = 16 * len(exported)
        pi, mu, sigma = prior_from_export(exported, self.k)
        return {
            "kl_bits": ev.kl_bits, "kl_se_bits": ev.kl_se_bits, "kl_method": ev.kl_method,
            "nll_bits": ev.nll_bits, "nll_se_bits": ev.nll_se_bits, "prior_param_bits": ppb,
            "prior_param_precision": "float16 (16 bits per number)",
            "objective_bits": ev.kl_bits + ev.nll_bits + ppb,
            "objective_se_bits": math.hypot(ev.kl_se_bits, ev.nll_se_bits),
            "sample_sd_bits": ev.sample_sd_bits, "params": net.size,
            "prior_pi": pi.tolist(), "prior_mu": mu.tolist(), "prior_sigma": sigma.tolist(),
        }


@register
class Variational(_VariationalBase):
    name = "variational"
    summary = ("bits-back (ANS) code of a Bayesian mlp/transformer, adaptive Gaussian-mixture "
               "prior; reports KL, E[NLL], prior and two-part figures in bits")

    def _initial_words(self, n: int) -> np.ndarray:
        rng = np.random.default_rng([self.config["seed"], _INIT_TAG])
        return rng.integers(1, 2**32, size=n, dtype=np.uint64).astype(np.uint32)

    def _q(self, post, wb: int) -> list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]]:
        """Discretised q, in buckets: (indices, B, means, stds, centres). Weight j is coded as
        centre_j + r with r ~ QuantizedGaussian(-B, B) of mean μ_j/δ - centre_j, std σ_j/δ,
        B = the power of two ≥ 8σ_j/δ + 2. A range this tight matters: constriction gives every
        symbol of a model's range at least 2^-24, so over the whole weight grid (2^15 bins) a
        draw would land somewhere absurd with probability ~0.2 % per weight."""
        delta, radius = self._grid(wb)
        mean = post.mu.double().numpy() / delta
        std = np.maximum(post.log_sigma.double().exp().numpy() / delta, 1e-3)
        half = np.minimum(2 ** np.ceil(np.log2(8 * std + 2)), radius).astype(np.int64)
        centre = np.clip(np.round(mean), -radius + half, radius - half).astype(np.int64)
        out = []
        for b in np.unique(half):
            idx = np.flatnonzero(half == b)
            out.append((idx, int(b), np.ascontiguousarray(mean[idx] - centre[idx]),
                        np.ascontiguousarray(std[idx]), centre[idx]))
        return out

    def _draw(self, net, post, x: np.ndarray, exported: np.ndarray, wb: int) -> dict:
        """Bits-back at grid 2^-wb, first half: pop w ~ Q off the initial words; the ideal
        length of the finished stream for that w (batched, cheap) picks the grid."""
        from ..models.bayes import nll_bits, quantised_gaussian_bits

        delta, radius = self._grid(wb)
        table = self._prior_table(exported, wb)
        parts = self._q(post, wb)
        need = sum(float(np.maximum(np.log2(sd * math.sqrt(2 * math.pi * math.e)), 0).sum())
                   for _, _, _, sd, _ in parts)
        words = int(need / 32) + _SPARE_WORDS  # the untouched ones are cut off the stream
        sym = np.zeros(net.size, dtype=np.int64)
        while True:  # pop w ~ Q from the initial words; make sure they were not exhausted
            stack = AnsStack(self._initial_words(words))
            for idx, b, m, sd, centre in parts:
                sym[idx] = centre + stack.pop_gaussian(b, m, sd)
            if stack.num_bits() > 64:
                break
            words += max(words // 4, 1)
        touched = 32 * (words - _same_prefix(stack.words(), self._initial_words(words)))
        p = np.maximum(table / table.sum(), 2.0**-24)
        nll_w = nll_bits(net, sym * delta, x)
        neg_log_p = float(-np.log2(p[sym + radius]).sum())
        neg_log_q = sum(quantised_gaussian_bits(sym[idx] - c, m, sd, b)
                        for idx, b, m, sd, c in parts)
        ideal = nll_w + neg_log_p - neg_log_q
        return {"stack": stack, "sym": sym, "prior_table": table, "words": words,
                "bitsback_nll_bits": nll_w, "weight_prior_bits": neg_log_p,
                "weight_posterior_bits": neg_log_q, "bitsback_ideal_bits": ideal,
                "expected_stream_bits": touched + ideal}

    def _finish(self, net, x: np.ndarray, draw: dict, wb: int) -> tuple[bytes, int]:
        """Second half: push the data under p(·|w) (the step path), then w under the prior.
        Returns the stream without its bottom words that equal the seed's, and their count."""
        delta, radius = self._grid(wb)
        stack, sym = draw["stack"], draw["sym"]
        stack.push(x, self._code_data(net, sym * delta, x))
        stack.push_table(sym + radius, draw["prior_table"])
        words = stack.words()
        cut = _same_prefix(words, self._initial_words(draw["words"]))
        return words[cut:].tobytes(), cut

    def _code_fit(self, fit: Fit, given: Given) -> Payload:
        from ..models.bayes import evaluate_discrete

        x, net, post = fit
        given.tell(len(x) // 2, len(x))
        exported = post.prior.export()
        grids = [self.config["wbits"]] if self.config["wbits"] else list(range(1, AUTO_WBITS + 1))
        tries = {wb: self._draw(net, post, x, exported, wb) for wb in grids}
        wb = min(tries, key=lambda g: (tries[g]["expected_stream_bits"], g))
        bb = tries[wb]
        stream, cut = self._finish(net, x, bb, wb)
        initial = 32 * (bb["words"] - cut)
        ex = self._report(net, post, x, exported)
        ev = evaluate_discrete(net, post, x, self.config["samples"], self.config["seed"],
                               self._grid(wb)[0], bb["prior_table"])
        tp = self._twopart(net, post, x, exported)
        ex.update({k: v for k, v in bb.items()
                   if k not in ("stack", "sym", "prior_table", "words")})
        ex.update({
            "initial_bits": initial, "initial_words_cut": cut,
            "bitsback_stream_bits": 8 * len(stream),
            "bitsback_net_bits": 8 * len(stream) - initial, "wbits": wb,
            "kl_disc_bits": ev.kl_bits, "kl_disc_se_bits": ev.kl_se_bits,
            "nll_disc_bits": ev.nll_bits, "nll_disc_se_bits": ev.nll_se_bits,
            "disc_total_bits": ev.kl_bits + ev.nll_bits + ex["prior_param_bits"],
            "disc_sample_sd_bits": ev.sample_sd_bits,
            "wbits_tried": {str(g): t["expected_stream_bits"] for g, t in tries.items()},
            "twopart_grid_bits": tp["grid_bits"], "twopart_weight_bits": tp["weight_bits"],
            "twopart_data_bits": tp["data_bits"],
            "twopart_bits": tp["weight_bits"] + tp["data_bits"] + ex["prior_param_bits"] + 8,
            "adjusted_bits": tp["data_bits"] + 16 * net.size,
        })
        given.tell(len(x), len(x))
        meta = self._meta(net.cfg.alphabet, exported, bytes([wb]) + varint.encode(cut))
        return Payload(stream, initial + bb["bitsback_ideal_bits"], meta, ex)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        alphabet, exported, extra = self._parse_meta(meta)
        wb = extra[0]
        self._check_grid(wb, payload, exact=True)
        cut, end = varint.decode(extra, 1)
        # popping one weight takes < 1 word (σ/δ < 2^19): a larger count is a damaged one
        if end != len(extra) or cut > 2 * self._net(alphabet).size + 64:
            raise CorruptStreamError(f"corrupt stream ({self.name} header)")
        words = np.frombuffer(payload, dtype=np.uint32)
        stack = AnsStack(np.concatenate([self._initial_words(cut), words]))
        net, sym, x = self._pop_weights_then_data(stack, alphabet, exported, wb, length)
        given.tell(length // 2, length)
        try:  # the same deterministic training on the decoded data: the same q
            post = self._posterior(net, x)
        except UsageError as e:  # data the encoder could not have trained on
            raise CorruptStreamError(f"corrupt stream (decoded data: {e})") from None
        if not np.array_equal(post.prior.export().view(np.uint16), exported.view(np.uint16)):
            raise CorruptStreamError("bits-back check failed: retraining gave another prior "
                                     "(stream damaged, or training not reproducible here)")
        for idx, b, m, sd, centre in reversed(self._q(post, wb)):
            r = sym[idx] - centre
            if np.abs(r).max() > b:
                raise CorruptStreamError("bits-back check failed: a weight lies outside the "
                                         "retrained posterior's range")
            stack.push_gaussian(r, b, m, sd)
        rest = stack.words()
        if not np.array_equal(rest, self._initial_words(len(rest))):
            raise CorruptStreamError("bits-back check failed: the initial bits did not come "
                                     "back (stream damaged, or training not reproducible here)")
        given.tell(length, length)
        return x.astype(np.uint8).tobytes()


def _same_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """How many leading words a and b share."""
    n = min(len(a), len(b))
    differ = np.flatnonzero(a[:n] != b[:n])
    return int(differ[0]) if len(differ) else n


@register
class VTwoPart(_VariationalBase):
    name = "vtwopart"
    summary = ("two-part code of the variational model: posterior means quantised and coded "
               "under the discretised mixture prior, then the data under the quantised net")

    def _code_fit(self, fit: Fit, given: Given) -> Payload:
        x, net, post = fit
        exported = post.prior.export()
        tp = self._twopart(net, post, x, exported)
        ex = self._report(net, post, x, exported)
        ex.update({"twopart_grid_bits": tp["grid_bits"], "twopart_weight_bits": tp["weight_bits"],
                   "twopart_data_bits": tp["data_bits"],
                   "twopart_weight_bits_ideal": tp["weight_bits_ideal"],
                   "twopart_data_bits_ideal": tp["data_bits_ideal"],
                   "adjusted_bits": tp["data_bits"] + 16 * net.size})
        ideal = tp["weight_bits_ideal"] + tp["data_bits_ideal"]
        given.tell(len(x), len(x))
        meta = self._meta(net.cfg.alphabet, exported, bytes([tp["grid_bits"]]))
        return Payload(tp["stream"], ideal, meta, ex)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        alphabet, exported, extra = self._parse_meta(meta)
        if len(extra) != 1:
            raise CorruptStreamError(f"corrupt stream ({self.name} header)")
        self._check_grid(extra[0], payload, exact=False)
        _, _, x = self._pop_weights_then_data(AnsStack.from_bytes(payload), alphabet, exported,
                                              extra[0], length)
        given.tell(length, length)
        return x.astype(np.uint8).tobytes()
