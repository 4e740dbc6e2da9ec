"""One cell's result, typed: what was coded, how many bits, whether they decoded back, how fast.

Records live on disk as JSON (`to_dict` / `from_dict`); every reader goes through `Record`, so a
field has one name and one meaning. `from_dict` also reads schema-1 records (a `verified`
flag, one timing per cell), so older result folders still load; `to_dict` writes schema 2.
Every record read is checked against the schema (`validate`): a damaged one, or one whose
figures cannot be true (NaN, negative, beyond MAX_BITS, bits that are not whole bytes or not the
sum of their files'), is refused by name and field, never shown or gated on; one of a newer
schema says so. The derived figures (bpb, ratio, speeds...) are results.metrics'.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import limits
from .. import spec as specmod
from . import metrics

SCHEMA = 2

VERIFIED, UNVERIFIED, FAILED, ERROR = "verified", "unverified", "failed", "error"
STATUSES = (VERIFIED, UNVERIFIED, FAILED, ERROR)
"""verified: decoded back to the input; unverified: not decoded (--no-verify); failed: a stream
was written but did not decode back (wrong output, corrupt stream, or a repetition gave other
bits); error: the cell could not run at all (no stream, so no bits)."""

# The `extras` keys that tables and plots read, and their shapes. Coders may add other keys
# (KL, member weights...); those are kept in the record and shown as plain numbers.
SEGMENTS = "segments"
"""[{"bytes": int, "bits": float}, ...]: ideal bits of each training segment in coding order
(prequential neural coders); the `learning` plot."""
BLOCKS = "blocks"
"""[{"start": int, "end": int, "bits": float, "bits_ideal": float}, ...]: bits per block of
labels (block-wise prequential codes); the `blocks` plot."""
OBJECTIVE = "objective_bits"
"""float: a variational coder's objective, KL(q‖p) + E_q[NLL] + the prior's parameters (Monte
Carlo, not a stream); the `sweep` plot draws it beside the real stream."""


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    label: str
    sha256: str
    size: int
    files: int = 1
    kind: str = "file"
    alphabet: int = 256
    per_file: bool = False
    chunk_size: int | None = None
    limit_bits: float | None = None
    entropy_bits: float | None = None
    model_class: str | None = None
    """The class regret is measured against, where the dataset states one."""
    ml_bits: float | None = None
    """-log2 max_θ p_θ(sample) over `model_class` (the best model in hindsight)."""
    formulas: dict[str, float] = field(default_factory=dict)
    """Code lengths given by formulas, not streams (row name -> bits): NML, Laplace, ..."""

    @property
    def uniform_bits(self) -> float | None:
        """n · log2 K: every symbol under the uniform code over the dataset's alphabet."""
        return self.size * math.log2(self.alphabet) if self.alphabet >= 2 else None


@dataclass(frozen=True)
class CompressorInfo:
    name: str
    spec: str
    family: str = ""
    summary: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    library: str = "mdlbench"
    version: str = ""
    plugin: dict[str, str] | None = None
    """Where a compressor from outside mdlbench comes from (mdlbench.plugins.origin)."""
    model: dict[str, Any] | None = None
    """A pretrained model the decoder must hold besides the stream: {"parameters", "bits", ...}."""


@dataclass(frozen=True)
class Speed:
    """Repeated timings of one direction (encode or decode) of a whole cell, in seconds."""

    min_s: float
    median_s: float
    cpu_s: float | None
    repeats: int

    @classmethod
    def of(cls, walls: Sequence[float], cpus: Sequence[float]) -> Speed:
        return cls(min(walls), statistics.median(walls), min(cpus), len(walls))


@dataclass(frozen=True)
class Timing:
    encode: Speed | None
    decode: Speed | None
    cells_at_once: int | None = 1
    """Cells that ran on the machine at the same time (1: a clean measurement; None: unknown,
    in schema-1 records)."""
    warm_up: bool = True
    """False in schema-1 records: one cold run, imports and compilation included."""

    @property
    def contended(self) -> bool:
        return (self.cells_at_once or 1) > 1


@dataclass(frozen=True)
class Part:
    """One independently coded unit of a --per-file run."""

    name: str
    size: int
    bits: int | None
    bits_ideal: float | None = None
    error: str | None = None


def _metric(name: str) -> Any:
    """A record's figure, as results.metrics computes it."""
    return property(lambda self: metrics.value(name, self), doc=f"See results.metrics: {name}.")


@dataclass
class Record:
    key: str
    dataset: DatasetInfo
    compressor: CompressorInfo
    seed: int | None
    status: str
    bits: int | None
    bits_ideal: float | None = None
    error: str | None = None
    timing: Timing | None = None
    peak_rss_mb: float | None = None
    parts: list[Part] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    container_bits: int | None = None
    """Bits of `bits` that are the mdlbench container's header (magic, version, spec, length,
    CRC-32, meta, header check), summed over the units; 0 for a codec's own frame (zstd, xz:
    no mdlbench container in `bits`); None in records written before it was measured."""
    decoder: dict[str, Any] | None = None
    """The decoder's share (mdlbench.decoder_share.share): what a decoder needs beyond the stream
    and the reference machine, file by file, and its xz -9e size; None in older records."""
    code: str | None = None
    """Fingerprint of the code that made the bits (part of `key`; see harness.env)."""
    reproducibility: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    path: str | None = None
    """Where the record was loaded from (not stored)."""

    @property
    def cell(self) -> tuple[str, str, int | None]:
        """What one cell of a grid is: later records of a cell replace earlier ones."""
        return self.dataset.label, self.compressor.spec, self.seed

    @property
    def row(self) -> str:
        """The compressor as a table row: without its seed, so the runs of one stochastic coder
        over seeds share a row."""
        if self.seed is None:
            return self.compressor.spec
        s = specmod.parse(self.compressor.spec)
        return str(specmod.Spec(s.name, tuple((k, v) for k, v in s.params if k != "seed")))

    @property
    def name(self) -> str:
        """The cell as one string, "DATASET | SPEC[ | seed=N]" (the gate's baseline names)."""
        return f"{self.dataset.label} | {self.row}" + (
            "" if self.seed is None else f" | seed={self.seed}")

    @property
    def verified(self) -> bool:
        return self.status == VERIFIED

    @property
    def has_bits(self) -> bool:
        """Bits that may be shown: verified, or unverified and marked so."""
        return self.status in (VERIFIED, UNVERIFIED)

    def _plus_model(self, key: str, per: int = 1) -> int | None:
        """`bits` plus `per` × the pretrained model's figure `key`: `bits` alone for coders whose
        spec determines their model, None where there is no stream or the model lacks `key`."""
        model = self.compressor.model
        if self.bits is None or (model and key not in model):
            return None
        return self.bits + (per * int(model[key]) if model else 0)

    @property
    def bits_with_model(self) -> int | None:
        """`bits` plus a pretrained model's weights at their stored precision (float32: 32 bits
        a parameter), without its config and tokenizer. `bits_with_model_files` counts every
        file the decoder reads, `bits_lmic` LMIC's 16 bits a parameter."""
        return self._plus_model("bits")

    @property
    def bits_with_model_files(self) -> int | None:
        """`bits` plus every file of a pretrained model's folder, raw (weights, config,
        tokenizer: all that the decoder reads); None where the record does not list them."""
        return self._plus_model("files_bits")

    @property
    def bits_lmic(self) -> int | None:
        """`bits` plus a pretrained model's parameters at 16 bits each: the convention LMIC's
        published adjusted rates imply (Delétang et al. 2024), whatever the stored precision."""
        return self._plus_model("parameters", per=16)

    @property
    def payload_bits(self) -> int | None:
        """`bits` less the container's header: the coder's own stream (None where unknown)."""
        if self.bits is None or self.container_bits is None:
            return None
        return self.bits - self.container_bits

    @property
    def decoder_bits(self) -> int | None:
        """The decoder's share alone, NOT including the stream: 8 × the xz -9e size of what a
        decoder needs beyond the stream and the reference machine (mdlbench.decoder_share)."""
        return None if self.decoder is None else int(self.decoder["bits"])

    @property
    def whole_bits(self) -> int | None:
        """The whole description: the stream's `bits` + `decoder_bits`."""
        share = self.decoder_bits
        return None if self.bits is None or share is None else self.bits + share

    bpb = _metric("bpb")
    ratio = _metric("ratio")
    excess_bits = _metric("excess")
    excess_over_entropy = _metric("excess_over_entropy")
    regret_bits = _metric("regret")
    payload_regret_bits = _metric("payload_regret")
    """The payload's regret: `regret_bits` less the container's header bits, the figure that
    stands beside a formula row such as (NML), which has no container."""
    compression = _metric("compression")
    encode_MBps = _metric("encode_MBps")
    decode_MBps = _metric("decode_MBps")

    @property
    def contended(self) -> bool:
        return self.timing is not None and self.timing.contended

    def to_dict(self) -> dict[str, Any]:
        """JSON form: the fields, plus every metric (results.metrics) a reader of the file wants
        to see (bpb, ratio, speeds...); `from_dict` recomputes those rather than trusting them."""
        d = dataclasses.asdict(self)
        d.pop("path")
        t = self.timing
        return {
            "schema": SCHEMA, **d,
            "verified": self.verified, "bits_with_model": self.bits_with_model,
            "bits_with_model_files": self.bits_with_model_files, "bits_lmic": self.bits_lmic,
            "payload_bits": self.payload_bits, "payload_regret_bits": self.payload_regret_bits,
            "decoder_bits": self.decoder_bits, "whole_bits": self.whole_bits,
            "encode_s": t.encode.min_s if t and t.encode else None,
            "decode_s": t.decode.min_s if t and t.decode else None,
            **{m.field: m.value(self) for m in metrics.TABLE.values() if m.field not in d},
        }

    @classmethod
    def from_dict(cls, d: Any, path: str | None = None) -> Record:
        """Read a stored record (schema 1 or 2), checked against the schema below first;
        raises RecordError (naming the field) when `d` is not a whole record."""
        validate(d)
        if d.get("schema", 1) == 1:
            status, bits, timing = _schema1(d)
        else:
            status, bits = d["status"], d["bits"]
            timing = _timing(d["timing"]) if d.get("timing") else None
        return cls(
            key=d["key"], dataset=_pick(DatasetInfo, d["dataset"]),
            compressor=_pick(CompressorInfo, d["compressor"]), seed=d.get("seed"),
            status=status, bits=bits, bits_ideal=d.get("bits_ideal"), error=d.get("error"),
            timing=timing, peak_rss_mb=d.get("peak_rss_mb"),
            parts=[_pick(Part, p) for p in d.get("parts") or []],
            extras=d.get("extras") or {}, container_bits=d.get("container_bits"),
            decoder=d.get("decoder"), code=d.get("code"),
            reproducibility=d.get("reproducibility") or {}, created=d.get("created", ""),
            path=path,
        )


class RecordError(ValueError):
    """A JSON document that is not a whole record: which field, and what is wrong with it."""


class NewerRecordError(RecordError):
    """A record of a schema above SCHEMA: written by a newer mdlbench, not damaged."""


MAX_BITS = 8 * limits.MAX_INPUT_BYTES
"""No stream or code length of a cell exceeds 8 × the largest input or stream mdlbench reads:
a bigger figure (1e30 bits) was typed, not measured."""


# The schema, as checks per field: a record that parses but lies about its type (bits "lots",
# no dataset, a negative size) is refused when read, not found later by a table or the gate.
# Fields not named here are kept or ignored as before, so a newer writer may add fields.
Check = Callable[[Any], bool]


def _int(lo: int | None = None, hi: int | None = None) -> Check:
    return lambda v: type(v) is int and (lo is None or v >= lo) and (hi is None or v <= hi)


def _num(v: Any) -> bool:
    """A finite JSON number (NaN and Infinity parse, but are no figure)."""
    return type(v) in (int, float) and math.isfinite(v)


def _bits(v: Any) -> bool:
    """A code length in bits: a finite number from 0 to MAX_BITS."""
    return _num(v) and 0 <= v <= MAX_BITS


def _secs(v: Any) -> bool:
    return _num(v) and v >= 0


def _formulas(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and _bits(b) for k, b in v.items())


def _is(*types: type) -> Check:
    return lambda v: isinstance(v, types)


def _opt(check: Check) -> Check:
    return lambda v: v is None or check(v)


_SIZE = _int(0, limits.MAX_INPUT_BYTES)
_STREAM = _int(0, MAX_BITS)
_str, _bool, _dict, _list = _is(str), _is(bool), _is(dict), _is(list)


def _model(v: Any) -> bool:
    """A pretrained model's figures: its bits, and (where given) its files' bits and its
    parameter count, whole numbers a table adds to the stream's."""
    return (isinstance(v, dict) and _STREAM(v.get("bits"))
            and all(_STREAM(v[k]) for k in ("files_bits", "parameters") if k in v))


def _rows(keys: dict[str, Check]) -> Check:
    """A list of objects, each with these fields (the `extras` the plots read)."""
    return lambda v: isinstance(v, list) and all(
        isinstance(row, dict) and all(k in row and check(row[k]) for k, check in keys.items())
        for row in v)


def _strings(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str)
                                       for k, x in v.items())


_DATASET = {"name": (_str, True), "label": (_str, True), "sha256": (_str, True),
            "size": (_SIZE, True), "files": (_int(0), False), "kind": (_str, False),
            "alphabet": (_int(1), False), "per_file": (_bool, False),
            "chunk_size": (_opt(_int(1)), False), "limit_bits": (_opt(_bits), False),
            "entropy_bits": (_opt(_bits), False), "model_class": (_opt(_str), False),
            "ml_bits": (_opt(_bits), False), "formulas": (_opt(_formulas), False)}
_COMPRESSOR = {"name": (_str, True), "spec": (_str, True), "family": (_str, False),
               "summary": (_str, False), "params": (_dict, False), "library": (_str, False),
               "version": (_str, False), "plugin": (_opt(_dict), False),
               "model": (_opt(_model), False)}
_SPEED = {"min_s": (_secs, True), "median_s": (_secs, True), "cpu_s": (_opt(_secs), False),
          "repeats": (_int(1), True)}
_TIMING = {"encode": (_opt(_dict), False), "decode": (_opt(_dict), False),
           "cells_at_once": (_opt(_int(1)), False), "warm_up": (_bool, False)}
_DECODER = {"bits": (_STREAM, True), "xz_bytes": (_SIZE, True), "bytes": (_SIZE, False),
            "files": (_list, True)}
_EXTRAS = {SEGMENTS: (_rows({"bytes": _SIZE, "bits": _bits}), False),
           BLOCKS: (_rows({"start": _SIZE, "end": _SIZE, "bits": _bits}), False),
           OBJECTIVE: (_num, False)}
_MACHINE = {"packages": (_opt(_strings), False), **{k: (_opt(_str), False) for k in (
    "cpu", "gpu", "platform", "python", "mdlbench", "git_commit")}}
_PART = {"name": (_str, True), "size": (_SIZE, True), "bits": (_opt(_STREAM), False),
         "bits_ideal": (_opt(_bits), False), "error": (_opt(_str), False)}
_RECORD = {"key": (_str, True), "dataset": (_dict, True), "compressor": (_dict, True),
           "seed": (_opt(_int()), False), "bits": (_opt(_STREAM), True),
           "bits_ideal": (_opt(_bits), False), "error": (_opt(_str), False),
           "timing": (_opt(_dict), False), "peak_rss_mb": (_opt(_secs), False),
           "parts": (_opt(_list), False), "extras": (_opt(_dict), False),
           "container_bits": (_opt(_STREAM), False), "decoder": (_opt(_dict), False),
           "code": (_opt(_str), False), "reproducibility": (_opt(_dict), False),
           "created": (_str, False)}


def _fields(d: Any, schema: dict[str, tuple[Check, bool]], where: str) -> None:
    if not isinstance(d, dict):
        what = f"field '{where.rstrip('.')}'" if where else "the record"
        raise RecordError(f"{what} is {type(d).__name__}, not an object")
    for name, (check, required) in schema.items():
        if name not in d:
            if required:
                raise RecordError(f"no field '{where}{name}'")
        elif not check(d[name]):
            raise RecordError(f"field '{where}{name}' has a wrong value: {d[name]!r:.60}")


def validate(d: Any) -> None:
    """Raise RecordError unless `d` has every field a record needs, each of its type, and
    figures that can be true (NewerRecordError for a record of a newer schema)."""
    schema = d.get("schema", 1) if isinstance(d, dict) else 1
    if type(schema) is int and schema > SCHEMA:
        raise NewerRecordError(f"written by a newer mdlbench (schema {schema} > {SCHEMA}); "
                               f"upgrade mdlbench to read it")
    _fields(d, _RECORD, "")
    if schema not in (1, SCHEMA) or type(schema) is not int:
        raise RecordError(f"unknown record schema {schema!r}")
    _fields(d["dataset"], _DATASET, "dataset.")
    _fields(d["compressor"], _COMPRESSOR, "compressor.")
    for i, part in enumerate(d.get("parts") or []):
        _fields(part, _PART, f"parts[{i}].")
    if d.get("decoder"):
        _fields(d["decoder"], _DECODER, "decoder.")
    if d.get("extras"):
        _fields(d["extras"], _EXTRAS, "extras.")
    if d.get("reproducibility"):
        _fields(d["reproducibility"], _MACHINE, "reproducibility.")
    _whole_bytes(d, schema)
    if schema == 1:
        if "verified" not in d or d["verified"] not in (True, False, None):
            raise RecordError("field 'verified' must be true, false or null (schema 1)")
        return
    if d.get("status") not in STATUSES:
        raise RecordError(f"field 'status' must be one of {', '.join(STATUSES)}, "
                          f"not {d.get('status')!r}")
    if (d["bits"] is None) != (d["status"] == ERROR):
        raise RecordError(f"field 'bits' is {d['bits']!r} in a {d['status']} record (only "
                          f"an error record has no bits)")
    if d.get("timing"):
        _fields(d["timing"], _TIMING, "timing.")
        for side in ("encode", "decode"):
            if d["timing"].get(side):
                _fields(d["timing"][side], _SPEED, f"timing.{side}.")


def _whole_bytes(d: dict[str, Any], schema: int) -> None:
    """A stream is whole bytes, and a per-file run's bits are the sum of its files' streams
    (schema 2: schema 1 kept bits 0 for a run that coded nothing)."""
    streams = [("bits", d["bits"])] + [(f"parts[{i}].bits", p.get("bits"))
                                       for i, p in enumerate(d.get("parts") or [])]
    for name, bits in streams:
        if bits is not None and bits % 8:
            raise RecordError(f"field '{name}' is {bits}, not 8 × a stream's bytes")
    parts = [p["bits"] for p in d.get("parts") or [] if p.get("bits") is not None]
    if schema == SCHEMA and d["bits"] is not None and parts and sum(parts) != d["bits"]:
        raise RecordError(f"field 'bits' is {d['bits']}, not the sum of its parts' bits "
                          f"({sum(parts)})")


def _pick(cls: Any, d: dict[str, Any]) -> Any:
    """Build a dataclass from the keys it knows (a newer writer may have added others)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in d.items() if k in names})


def _timing(d: dict[str, Any]) -> Timing:
    enc, dec = d.get("encode"), d.get("decode")
    return Timing(_pick(Speed, enc) if enc else None, _pick(Speed, dec) if dec else None,
                  d.get("cells_at_once", 1), d.get("warm_up", True))


def _schema1(d: dict[str, Any]) -> tuple[str, int | None, Timing]:
    """Schema 1: `verified` True/None/False, and one cold timing per direction."""
    v, bits = d["verified"], d["bits"]
    if v is True:
        status = VERIFIED
    elif v is None:
        status = UNVERIFIED
    elif bits:
        status = FAILED
    else:  # nothing was coded at all (e.g. --device cuda without a GPU): no bits to show
        status, bits = ERROR, None
    enc, dec = d.get("encode_s"), d.get("decode_s")
    timing = Timing(Speed(enc, enc, None, 1) if enc else None,
                    Speed(dec, dec, None, 1) if dec else None, cells_at_once=None, warm_up=False)
    return status, bits, timing


def latest(records: Iterable[Record]) -> list[Record]:
    """The newest record of each cell (records of older code or earlier runs are history)."""
    keep: dict[tuple[str, str, int | None], Record] = {}
    for r in sorted(records, key=lambda r: r.created):
        keep[r.cell] = r
    return list(keep.values())
