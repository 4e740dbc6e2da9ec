"""Code lengths of labels given inputs: uniform, prequential (block-wise) and two-part codes.

The MDL measure of a model class on a supervised dataset (Blier & Ollivier 2018, "The Description
Length of Deep Learning Models"; Voita & Titov 2020, "Information-Theoretic Probing with MDL").
Labels y_1..y_n in 0..K-1 are coded given inputs x_1..x_n, which both sides hold (the runner hands
them over as `Given.side`; the stream holds only the labels, K and the feature count):

- ``uniform``: every label under the uniform distribution over K: n·log2 K bits (ideal).
Both trained coders take any probe of the registry in models/probes.py (`model=logreg`, `mlp`,
or one a plugin module registered).

- ``preq``: blocks t_0 < t_1 < … < t_S = n. The first t_0 labels go with the uniform code; for
  each s, a model trained from scratch on the first t_s examples (early stopping on a held-out
  split of them) codes labels t_s+1 … t_{s+1}. The decoder retrains the same models on the
  labels it has decoded so far: same data, same seeds, deterministic torch, so the same floats.
  ``blocks=pow2``: t_0 = first, then doubling (Blier & Ollivier: 8, 16, …); ``blocks=voita``:
  0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.25, 12.5, 25, 50, 100 % of n (Voita & Titov).
- ``twopart``: one model trained on all data, its weights quantised to a step 2^-q and coded under
  a discretised Laplace prior per tensor (scale sent as float16), then the labels under the
  quantised model. With q=0 the step is chosen (q = 1..16) for the smallest total; the chosen q
  is in the stream. Decoding needs no training.

Every figure is a real range-coded stream through `mdlbench.coding.core`; `bits_ideal` is
Σ -log2 p of the same distributions. Model probabilities are mixed with the uniform distribution
at weight `eps` (a label never costs more than log2(K/eps) bits); that mixture *is* the model.
`extras` holds the uniform bits, the compression ratio (n·log2 K / total bits, container
included) and per-block rows for `mdlbench plot`.

``preq`` and ``twopart`` need the inputs: on a dataset without them (plain bytes) they refuse
with a usage error, and a stream of theirs decodes only with its labelled dataset bound.
``uniform`` needs none (without a labelled dataset, K is the largest byte + 1).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ..coding import core, varint
from ..errors import CorruptStreamError, UsageError
from ..models import runtime
from ..params import Param
from .base import NOTHING_GIVEN, Given, register
from .model import ModelCoder, Payload, alphabet_of

VOITA_FRACTIONS = (0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.0625, 0.125, 0.25, 0.5, 1.0)
ROWS = 1 << 16
"""Rows of probabilities handed to the coder at once (bounds memory for large n)."""

_TRAIN_PARAMS = (
    Param("model", str, "logreg", "probe: logreg, mlp, or one a plugin registered "
          "(mdlbench.models.probes)"),
    Param("hidden", int, 128, "MLP hidden width", min=1, max=65536),
    Param("layers", int, 1, "MLP hidden layers", min=1, max=16),
    Param("epochs", int, 100, "maximum training epochs per model", min=1, max=100_000),
    Param("lr", float, 0.01, "Adam learning rate", min=1e-8, max=10.0),
    Param("wd", float, 3e-3, "Adam weight decay (L2)", min=0.0, max=10.0),
    Param("batch", int, 32, "minibatch size", min=1, max=1 << 24),
    Param("patience", int, 10, "early stopping: epochs without held-out improvement", min=1),
    Param("val", float, 0.1, "held-out fraction of the seen data for early stopping (0: none)",
          min=0.0, max=0.9),
    Param("eps", float, 1e-4, "weight of the uniform distribution mixed into each prediction",
          min=1e-12, max=1.0),
    Param("seed", int, 0, "seed of initialisation, shuffling and validation splits", min=0),
)


def _trained_params(*own: Param) -> tuple[Param, ...]:
    """A trained coder's parameters: the model first, then the coder's own, then training."""
    return (_TRAIN_PARAMS[0], *own, *_TRAIN_PARAMS[1:])


def _uniform_probs(m: int, k: int) -> np.ndarray:
    return np.full((m, k), 1.0 / k)


def _write_meta(k: int, d: int) -> bytes:
    return varint.encode(k) + varint.encode(d)


def _read_meta(meta: bytes) -> tuple[int, int, int]:
    """(K, feature count, position after them) from the meta `_write_meta` wrote."""
    k, pos = varint.decode(meta, 0)
    d, pos = varint.decode(meta, pos)
    if not 1 <= k <= 256:
        raise CorruptStreamError(f"corrupt stream (alphabet {k})")
    return k, d, pos


def _meta_end(meta: bytes, pos: int) -> None:
    if pos != len(meta):
        raise CorruptStreamError(f"corrupt stream ({len(meta) - pos} stray meta bytes)")


def pow2_boundaries(n: int, first: int) -> list[int]:
    """[0, t_0, 2 t_0, 4 t_0, …, n]: the first block is t_0 = min(first, n) labels."""
    out = [0, min(first, n)]
    while out[-1] < n:
        out.append(min(2 * out[-1], n))
    return out


def voita_boundaries(n: int) -> list[int]:
    """[0, t_0, …, n] at 0.1 %, 0.2 %, … 100 % of n (rounded half up, at least 1, distinct)."""
    out = [0]
    for f in VOITA_FRACTIONS:
        t = min(n, max(1, int(math.floor(f * n + 0.5))))
        if t > out[-1]:
            out.append(t)
    if out[-1] != n:
        out.append(n)
    return out


class _LabelCoder(ModelCoder):
    """Shared by the label coders: the inputs bound by the runner, K and the meta bytes."""

    family = "prequential"
    library = "torch"
    needs_inputs: ClassVar[bool] = True

    def check_side(self, side: Any) -> None:
        if side is None and self.needs_inputs:
            raise UsageError(
                f"{self.name} codes labels given inputs, and this dataset has none: use a "
                f"labelled dataset (digits, logistic:n=...,d=...,k=..., or a CSV/NPZ with "
                f"--labels COLUMN)")

    def _inputs_for(self, data: bytes, side: Any) -> tuple[int, np.ndarray | None]:
        """(K, X) for encoding `data`; X is None for `uniform` without a labelled dataset."""
        self.check_side(side)
        if side is None:
            return alphabet_of(data), None
        y = np.frombuffer(data, dtype=np.uint8)
        if len(y) != side.n or not np.array_equal(y, side.y):
            raise UsageError(f"{self.name} codes a labelled dataset's labels as a whole: "
                             f"--chunk-size/--per-file do not apply")
        return side.k, side.X

    def _inputs_for_decode(self, length: int, k: int, d: int, side: Any) -> np.ndarray:
        if side is None:
            raise UsageError(f"this {self.name} stream codes labels given {d} input features: "
                             f"decode it with its labelled dataset's inputs as side information")
        if side.n != length or side.d != d or side.k != k:
            raise CorruptStreamError(f"stream codes {length} labels in {k} classes given {d} "
                                     f"features; the inputs given have {side.n} labels, "
                                     f"{side.k} classes, {side.d} features")
        return side.X

    def warm_up(self, sample: bytes, given: Given = NOTHING_GIVEN) -> None:
        """A prefix of the labels does not match the whole dataset's inputs: warm up on the
        prefix alone (the uniform code needs no inputs)."""
        if not self.needs_inputs:
            super().warm_up(sample)



def _encode_rows(enc: core.Encoder, symbols: np.ndarray, probs: np.ndarray) -> None:
    """Code symbols in slices of ROWS; a one-symbol alphabet carries no information (0 bits)."""
    if probs.shape[1] == 1:
        return
    for i in range(0, len(symbols), ROWS):
        enc.encode(symbols[i:i + ROWS], probs[i:i + ROWS])


def _decode_rows(dec: core.Decoder, probs: np.ndarray) -> np.ndarray:
    if probs.shape[1] == 1 or not len(probs):
        return np.zeros(len(probs), dtype=np.int64)
    return np.concatenate([dec.decode(probs[i:i + ROWS]) for i in range(0, len(probs), ROWS)])


def _stream_bits(enc: core.Encoder) -> int | None:
    """Bits the range coder's stream would have if sealed now (for per-block real bits)."""
    return enc.num_bits() if enc.coder == "range" else None


@register
class Uniform(_LabelCoder):
    name = "uniform"
    summary = "each label with the uniform code over its K classes (n·log2 K bits): the baseline"
    library = "constriction"
    needs_inputs = False

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        k, _ = self._inputs_for(data, given.side)
        y = np.frombuffer(data, dtype=np.uint8)
        enc = core.Encoder("range")
        for i in range(0, len(y), ROWS):
            part = y[i:i + ROWS]
            _encode_rows(enc, part, _uniform_probs(len(part), k))
            given.tell(i + len(part), len(y))
        payload = enc.finish()
        meta = _write_meta(k, 0)
        total = self.container_bits(data, payload, meta)
        uniform = len(y) * math.log2(k)
        extras = {"uniform_bits": uniform, "compression": uniform / total, "classes": k,
                  "payload_bits": 8 * len(payload),
                  "payload_overhead_bits": 8 * len(payload) - enc.bits_ideal}
        return Payload(payload, enc.bits_ideal, meta, extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        k, d, pos = _read_meta(meta)
        _meta_end(meta, pos)
        if d:
            raise CorruptStreamError("corrupt stream (a uniform code takes no features)")
        dec = core.Decoder(payload, "range")
        out = np.empty(length, dtype=np.uint8)
        for i in range(0, length, ROWS):
            m = min(ROWS, length - i)
            out[i:i + m] = _decode_rows(dec, _uniform_probs(m, k))
            given.tell(i + m, length)
        return out.tobytes()


class _Trained(_LabelCoder):
    """Coders whose models are trained by models/classifiers.py (torch, imported lazily)."""

    stochastic = True

    def warm_up(self, sample: bytes, given: Given = NOTHING_GIVEN) -> None:
        """One-off torch imports and kernel set-up; a training run on the real labels would
        cost as much as the cell itself."""
        runtime.warm_up()

    def validate(self) -> None:
        from ..models.probes import SHAPE_PARAMS, get

        probe = get(self.config["model"])
        defaults = {p.name: p.default for p in self.params}
        for name in SHAPE_PARAMS:
            if name not in probe.uses and self.config[name] != defaults[name]:
                raise UsageError(f"{self.name}: {name} does not apply to model={probe.name}")

    def train_config(self) -> Any:
        from ..models.classifiers import TrainConfig

        c = self.config
        return TrainConfig(model=c["model"], hidden=c["hidden"], layers=c["layers"],
                           epochs=c["epochs"], lr=c["lr"], wd=c["wd"], batch=c["batch"],
                           patience=c["patience"], val=c["val"], seed=c["seed"])

    @staticmethod
    def _features(X: np.ndarray) -> Any:
        from ..models.classifiers import standardise

        return standardise(X)


@register
class Prequential(_Trained):
    name = "preq"
    summary = ("prequential (block-wise online) code of labels given inputs: each block coded by "
               "a model trained on all earlier ones (Blier & Ollivier 2018; Voita & Titov 2020)")
    params = _trained_params(
        Param("blocks", str, "pow2", "block boundaries: doubling from `first`, or Voita & "
              "Titov's 0.1 %..100 % of n", choices=("pow2", "voita")),
        Param("first", int, 8, "size of the first (uniform) block, for blocks=pow2", min=1))

    def validate(self) -> None:
        super().validate()
        if self.config["blocks"] == "voita" and self.config["first"] != 8:
            raise UsageError("preq: first applies to blocks=pow2 (voita starts at 0.1 % of n)")

    def boundaries(self, n: int) -> list[int]:
        if self.config["blocks"] == "voita":
            return voita_boundaries(n)
        return pow2_boundaries(n, self.config["first"])

    def _code(self, n: int, k: int, X: np.ndarray, *, y: np.ndarray | None = None,
              enc: core.Encoder | None = None, dec: core.Decoder | None = None,
              given: Given = NOTHING_GIVEN) -> tuple[np.ndarray, list[dict[str, Any]]]:
        """THE block loop of encoder and decoder: for each block, train on the prefix (labels
        known to the encoder, just decoded by the decoder), predict the block, code it."""
        from ..models.classifiers import probabilities, train

        cfg = self.train_config()
        Xt = self._features(X)
        out = np.empty(n, dtype=np.uint8) if dec is not None else y
        assert out is not None
        bounds = self.boundaries(n)
        rows: list[dict[str, Any]] = []
        for s, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            row: dict[str, Any] = {"block": s, "start": a, "end": b, "train_size": a}
            if a == 0:
                probs = _uniform_probs(b - a, k)
                row["model"] = "uniform"
            else:
                model, rep = train(cfg, Xt, out[:a], k, key=s)
                probs = probabilities(model, Xt[a:b], self.config["eps"])
                row.update({"model": cfg.model, "fit_size": rep.train_size,
                            "val_size": rep.val_size, "epochs_run": rep.epochs_run,
                            "best_epoch": rep.best_epoch, "val_bits": rep.val_bits})
            if enc is not None:
                before = _stream_bits(enc)
                _encode_rows(enc, out[a:b], probs)
                after = _stream_bits(enc)
                row["bits"] = None if before is None or after is None else after - before
            else:
                out[a:b] = _decode_rows(dec, probs)
            row["bits_ideal"] = core.ideal_bits(out[a:b], probs)
            row["uniform_bits"] = (b - a) * math.log2(k)
            rows.append(row)
            given.tell(b, n)
        return out, rows

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        k, X = self._inputs_for(data, given.side)
        y = np.frombuffer(data, dtype=np.uint8)
        enc = core.Encoder("range")
        _, rows = self._code(len(y), k, X, y=y, enc=enc, given=given)
        payload = enc.finish()
        if rows and rows[-1].get("bits") is not None:  # the final flush belongs to the last block
            rows[-1]["bits"] += 8 * len(payload) - sum(r["bits"] for r in rows)
        meta = _write_meta(k, X.shape[1])
        total = self.container_bits(data, payload, meta)
        uniform = len(y) * math.log2(k)
        extras = {"uniform_bits": uniform, "preq_bits": total, "preq_bits_ideal": enc.bits_ideal,
                  "compression": uniform / total, "classes": k,
                  "inputs": int(X.shape[1]), "header_bits": total - 8 * len(payload),
                  "blocks": rows}
        return Payload(payload, enc.bits_ideal, meta, extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        k, d, pos = _read_meta(meta)
        _meta_end(meta, pos)
        X = self._inputs_for_decode(length, k, d, given.side)
        out, _ = self._code(length, k, X, dec=core.Decoder(payload, "range"), given=given)
        return out.tobytes()


# ----------------------------------------------------------------------------- two-part code

Q_MAX = 16
MAX_SUPPORT = 1 << 16
"""Largest quantised magnitude M per tensor: a step whose weights need more is not considered."""


def laplace_probs(beta: float, m: int) -> np.ndarray:
    """Discretised Laplace prior over the integers -m..m: p(j) ∝ exp(-|j| / beta)."""
    j = np.abs(np.arange(-m, m + 1, dtype=np.float64))
    w = np.exp(-j / max(beta, 1e-3))
    return w / w.sum()


def _scale16(q: np.ndarray) -> np.float16:
    """The Laplace scale sent in the stream: mean |q| (its MLE), as a float16, at least 0.5."""
    return np.float16(max(float(np.abs(q).mean()) if q.size else 0.0, 0.5))


@register
class TwoPart(_Trained):
    name = "twopart"
    summary = ("two-part code: a model trained on all data, weights quantised and coded under a "
               "discretised Laplace prior, then the labels under the quantised model")
    params = _trained_params(Param("q", int, 0, "quantisation step 2^-q of the weights (0: "
                                   "choose 1..16 for the smallest total)", min=0, max=Q_MAX))

    @staticmethod
    def _quantised(tensors: list[np.ndarray], q: int) -> list[np.ndarray]:
        return [np.round(t * 2.0**q) for t in tensors]

    def _weights_code(self, qt: list[np.ndarray]) -> tuple[list[tuple[int, np.float16]], float]:
        """Per tensor (M, scale) and the ideal bits of all quantised weights under the prior."""
        heads, bits = [], 0.0
        for t in qt:
            flat = t.reshape(-1).astype(np.int64)
            m = int(np.abs(flat).max()) if flat.size else 0
            beta = _scale16(flat)
            p = laplace_probs(float(beta), m)
            bits += float(-np.log2(p[flat + m]).sum())
            heads.append((m, beta))
        return heads, bits

    def _label_probs(self, model: Any, qt: list[np.ndarray], q: int, Xt: Any) -> np.ndarray:
        from ..models.classifiers import load_parameters, probabilities

        load_parameters(model, [t * 2.0**-q for t in qt])
        return probabilities(model, Xt, self.config["eps"])

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        from ..models.classifiers import flat_parameters, train

        k, X = self._inputs_for(data, given.side)
        y = np.frombuffer(data, dtype=np.uint8)
        n = len(y)
        Xt = self._features(X)
        model, rep = train(self.train_config(), Xt, y, k, key=0)
        tensors = [t for _, t in flat_parameters(model)]
        qs = [self.config["q"]] if self.config["q"] else list(range(1, Q_MAX + 1))
        best: tuple[float, int, list[np.ndarray], list[tuple[int, np.float16]], float] | None = None
        tried = []
        for q in qs:
            qt = self._quantised(tensors, q)
            if any(np.abs(t).max(initial=0) > MAX_SUPPORT for t in qt):
                continue
            heads, wbits = self._weights_code(qt)
            probs = self._label_probs(model, qt, q, Xt)
            dbits = core.ideal_bits(y, probs)
            tried.append({"q": q, "weight_bits_ideal": wbits, "label_bits_ideal": dbits})
            if best is None or wbits + dbits < best[0]:
                best = (wbits + dbits, q, qt, heads, wbits)
        if best is None:
            raise UsageError(f"twopart: weights too large to quantise at step 2^-{qs[0]}")
        _, q, qt, heads, wbits = best
        enc = core.Encoder("range")
        for t, (m, beta) in zip(qt, heads, strict=True):
            flat = t.reshape(-1).astype(np.int64)
            p = laplace_probs(float(beta), m)
            step = max(1, (1 << 22) // len(p))
            for i in range(0, len(flat), step):
                part = flat[i:i + step]
                _encode_rows(enc, part + m, np.broadcast_to(p, (len(part), len(p))))
        weight_stream_bits = _stream_bits(enc)
        probs = self._label_probs(model, qt, q, Xt)
        _encode_rows(enc, y, probs)
        payload = enc.finish()
        meta = _write_meta(k, X.shape[1]) + bytes([q]) + b"".join(
            varint.encode(m) + beta.tobytes() for m, beta in heads)
        total = self.container_bits(data, payload, meta)
        uniform = n * math.log2(k)
        nparams = int(sum(t.size for t in qt))
        extras = {"uniform_bits": uniform, "twopart_bits": total, "compression": uniform / total,
                  "classes": k, "inputs": int(X.shape[1]), "q": q,
                  "step": 2.0**-q, "params": nparams, "weight_bits_ideal": wbits,
                  "weight_bits": weight_stream_bits, "label_bits_ideal": enc.bits_ideal - wbits,
                  "label_bits": None if weight_stream_bits is None
                  else 8 * len(payload) - weight_stream_bits,
                  "header_bits": total - 8 * len(payload), "fit_size": rep.train_size,
                  "val_size": rep.val_size, "epochs_run": rep.epochs_run,
                  "best_epoch": rep.best_epoch, "steps_tried": tried}
        given.tell(n, n)
        return Payload(payload, enc.bits_ideal, meta, extras)

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        from ..models.classifiers import blank, flat_parameters

        k, d, pos = _read_meta(meta)
        X = self._inputs_for_decode(length, k, d, given.side)
        if pos >= len(meta):
            raise CorruptStreamError("corrupt stream (two-part header cut off)")
        q = meta[pos]
        pos += 1
        if not 1 <= q <= Q_MAX or (self.config["q"] and q != self.config["q"]):
            raise CorruptStreamError(f"corrupt stream (two-part step 2^-{q})")
        Xt = self._features(X)
        model = blank(self.train_config(), Xt.shape[1], k)
        shapes = [t.shape for _, t in flat_parameters(model)]
        dec = core.Decoder(payload, "range")
        qt = []
        for shape in shapes:
            m, pos = varint.decode(meta, pos)
            if pos + 2 > len(meta) or m > MAX_SUPPORT:
                raise CorruptStreamError("corrupt stream (two-part header)")
            beta = np.frombuffer(meta[pos:pos + 2], dtype=np.float16)[0]
            pos += 2
            if not np.isfinite(beta) or beta < 0.5:  # _scale16 sends at least 0.5
                raise CorruptStreamError("corrupt stream (two-part prior scale)")
            p = laplace_probs(float(beta), m)
            size = int(np.prod(shape))
            step = max(1, (1 << 22) // len(p))
            vals = [_decode_rows(dec, np.broadcast_to(p, (min(step, size - i), len(p))))
                    for i in range(0, size, step)]
            flat = (np.concatenate(vals) if vals else np.empty(0, np.int64)) - m
            qt.append(flat.astype(np.float64).reshape(shape))
        _meta_end(meta, pos)
        probs = self._label_probs(model, qt, q, Xt)
        out = _decode_rows(dec, probs).astype(np.uint8)
        given.tell(length, length)
        return out.tobytes()
