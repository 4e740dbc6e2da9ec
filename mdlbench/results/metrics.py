"""Every figure mdlbench reports per cell, in one table: its name, unit, direction, how it is
computed from a record, what it means, and how it is printed.

Records (the derived figures in their JSON), every table (leaderboard, per-dataset, cells; md,
csv, json, terminal, HTML), the plots and `compare --metric` / `plot --metric` read this table
and nothing else: no formula or unit is written anywhere else, so a figure reads the same
wherever it is shown. Adding a metric is one `Metric(...)` entry in `TABLE` (or `add` from a
plugin or a test); it then is a `compare --metric` and `plot --metric` choice, a field of every
record's JSON and a column of `mdlbench.results_frame`, and, with `detail=True`, a column of
each dataset's table in the HTML report.

Bits per symbol count per input byte, per label for labelled data (the labels are what is
coded), per symbol of a synthetic source: `symbol` says which, and a unit written with
`{symbol}` is filled in for the data shown.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import UsageError


class DatasetLike(Protocol):
    """What a metric reads of a record's dataset (results.record.DatasetInfo has it): the
    metrics depend on these fields, not on the record module, which reads this table."""

    label: str
    kind: str
    size: int
    limit_bits: float | None
    entropy_bits: float | None
    ml_bits: float | None
    model_class: str | None
    uniform_bits: float | None


class RecordLike(Protocol):
    """What a metric reads of a cell's record (results.record.Record has it); `timing` is a
    results.record.Timing or None: `encode` / `decode` speeds with `min_s` and `cpu_s`."""

    dataset: DatasetLike
    bits: int | None
    bits_ideal: float | None
    bits_with_model: int | None
    bits_with_model_files: int | None
    bits_lmic: int | None
    whole_bits: int | None
    decoder_bits: int | None
    container_bits: int | None
    timing: Any


LOWER, HIGHER = "lower", "higher"
"""Which figure is the better one (a metric's `better`)."""


def fixed(decimals: int, grouped: bool = False) -> Callable[[float], str]:
    """A fixed-point format: `fixed(4)` 1.3107, `fixed(0, grouped=True)` 1,234,567."""
    spec = f"{',' if grouped else ''}.{decimals}f"
    return lambda v: format(v, spec)


def sig3(v: float) -> str:
    """Three significant digits and never an exponent: 1,234 / 12.3 / 0.26 / 0.0000123 (speeds
    and seconds span six orders of magnitude)."""
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    shown = f"{v:.3g}"
    if "e" in shown and v:
        return f"{v:.{2 - math.floor(math.log10(abs(v)))}f}"
    return shown


@dataclass(frozen=True)
class Metric:
    """One figure of a cell.

    name: what `--metric` takes, and the column of tables and frames. unit: "bits", "MB/s",
    "bits per {symbol}", "" for a pure number. better: LOWER or HIGHER. value: the figure of a
    record, None where the record does not define it (no bits, no source limit, not timed:
    tables leave it blank, plots leave the point out). caption: what it is, one phrase ("{unit}"
    is filled in). fmt: a number as printed. header: its column in a dataset's table ("{name}",
    "{unit}"). key: its field in a record's JSON (default: name). detail: a column of each
    dataset's table (the HTML report). about: more caption from the datasets shown (regret's
    model classes). beside: metrics a board shows in a column next to each dataset's (regret's
    payload regret and container bits: the split of a stream row's figure).
    """

    name: str
    unit: str
    better: str
    value: Callable[[RecordLike], float | None]
    caption: str
    fmt: Callable[[float], str]
    header: str = "{name}"
    key: str = ""
    detail: bool = False
    about: Callable[[Iterable[DatasetLike]], str] | None = None
    beside: tuple[str, ...] = ()

    @property
    def field(self) -> str:
        return self.key or self.name


SYMBOLS = {"labelled": "label", "synthetic": "symbol", "algorithmic": "symbol"}
"""What one input symbol is, by dataset kind: a label for labelled data (the labels are what is
coded), a symbol of a synthetic source (one byte each); a byte for everything else."""


def symbol(kind: str) -> str:
    return SYMBOLS.get(kind, "byte")


def _per_size(bits: Callable[[RecordLike], float | None]
              ) -> Callable[[RecordLike], float | None]:
    def per(r: RecordLike) -> float | None:
        b = bits(r)
        return None if b is None else b / max(r.dataset.size, 1)
    return per


def _minus(ref: Callable[[DatasetLike], float | None]) -> Callable[[RecordLike], float | None]:
    def above(r: RecordLike) -> float | None:
        x = ref(r.dataset)
        return None if r.bits is None or x is None else r.bits - x
    return above


def _payload_regret(r: RecordLike) -> float | None:
    """The regret less the container's header bits (a formula row's container is 0)."""
    regret = _minus(lambda d: d.ml_bits)(r)
    return None if regret is None or r.container_bits is None else regret - r.container_bits


def _speed(direction: str, cpu: bool = False) -> Callable[[RecordLike], float | None]:
    """Input MB per second of the fastest repetition, as lzbench and TurboBench report it (per
    second of CPU time with `cpu`)."""
    def mbps(r: RecordLike) -> float | None:
        s = getattr(r.timing, direction, None) if r.timing else None
        t = None if s is None else s.cpu_s if cpu else s.min_s
        return None if not t or t <= 0 else r.dataset.size / t / 1e6
    return mbps


def _speed_ratio(r: RecordLike) -> float | None:
    enc, dec = _speed("encode")(r), _speed("decode")(r)
    return dec / enc if enc and dec else None


def _classes(datasets: Iterable[DatasetLike]) -> str:
    seen = {d.label: d.model_class for d in datasets if d.model_class is not None}
    return "classes: " + ("; ".join(f"{d}: {c}" for d, c in seen.items()) or "none stated")


TABLE: dict[str, Metric] = {m.name: m for m in (
    Metric("ratio", "", HIGHER, lambda r: 8 * r.dataset.size / r.bits if r.bits else None,
           "original bits / coded bits", fixed(3), detail=True),
    Metric("bits", "bits", LOWER, lambda r: r.bits,
           "{unit} of the real stream, headers included", fixed(0, grouped=True), detail=True),
    Metric("bpb", "bits per {symbol}", LOWER, _per_size(lambda r: r.bits), "{unit}", fixed(4),
           header="{unit}", detail=True),
    Metric("bits_ideal", "bits", LOWER, lambda r: r.bits_ideal,
           "Σ -log2 p in {unit} under the coder's model (no stream overhead; model-based coders "
           "only)", fixed(1, grouped=True), header="Σ -log2 p", detail=True),
    Metric("encode_MBps", "MB/s", HIGHER, _speed("encode"),
           "encode speed in {unit} of input (10^6 bytes per second), fastest repetition", sig3,
           header="encode {unit}", detail=True),
    Metric("decode_MBps", "MB/s", HIGHER, _speed("decode"),
           "decode speed in {unit} of input (10^6 bytes per second), fastest repetition", sig3,
           header="decode {unit}", detail=True),
    Metric("excess", "bits", LOWER, _minus(lambda d: d.limit_bits),
           "{unit} above the source limit (-log2 P(sample) under the true source)",
           fixed(0, grouped=True), key="excess_bits"),
    Metric("excess_over_entropy", "bits", LOWER, _minus(lambda d: d.entropy_bits),
           "{unit} above the source's entropy (E[-log2 P] of a sample of this size)",
           fixed(1, grouped=True)),
    Metric("regret", "bits", LOWER, _minus(lambda d: d.ml_bits),
           "{unit} of the stream, container included, above the best model of the dataset's "
           "class in hindsight (-log2 of the maximised likelihood)", fixed(1, grouped=True),
           key="regret_bits", about=_classes, beside=("payload_regret", "container")),
    Metric("compression", "", HIGHER,
           lambda r: (r.dataset.uniform_bits / r.bits
                      if r.dataset.uniform_bits is not None and r.bits else None),
           "uniform code length n·log2 K / code length (K: the dataset's alphabet or classes)",
           fixed(2)),
    Metric("adjusted", "bits per {symbol}", LOWER, _per_size(lambda r: r.bits_with_model),
           "{unit} with a pretrained model's weights counted at their stored precision "
           "(float32: 32 bits a parameter; its config and tokenizer not counted); bpb for "
           "coders that send no model", fixed(4)),
    Metric("lmic", "bits per {symbol}", LOWER, _per_size(lambda r: r.bits_lmic),
           "{unit} with a pretrained model's parameters counted at 16 bits each, whatever "
           "their stored precision: LMIC's adjusted rate, as its published figures count it "
           "(Delétang et al. 2024); bpb for coders that send no model", fixed(4)),
    Metric("with_model_files", "bits per {symbol}", LOWER,
           _per_size(lambda r: r.bits_with_model_files),
           "{unit} with every file of a pretrained model's folder counted raw (weights, "
           "config, tokenizer: all the decoder reads); bpb for coders that send no model",
           fixed(4)),
    Metric("whole", "bits per {symbol}", LOWER, _per_size(lambda r: r.whole_bits),
           "{unit} of the whole description: the stream plus the decoder's share (8 × the "
           "xz -9e size of what a decoder needs beyond the stream and the reference machine: "
           "mdlbench source, a plugin's file, a model folder)", fixed(4), detail=True),
    Metric("whole_bits", "bits", LOWER, lambda r: r.whole_bits,
           "{unit} of the whole description: the stream, headers included, plus the "
           "decoder's share", fixed(0, grouped=True)),
    Metric("decoder_bits", "bits", LOWER, lambda r: r.decoder_bits,
           "{unit} of the decoder's share alone, not the stream: 8 × the xz -9e size of what "
           "a decoder needs beyond the stream and the reference machine", fixed(0, grouped=True),
           header="decoder {unit}", detail=True),
    Metric("container", "bits", LOWER, lambda r: r.container_bits,
           "{unit} of mdlbench's container header in the stream (magic, version, spec, "
           "length, CRC-32, meta, check; 0 for a codec's own frame; a formula has none)",
           fixed(0, grouped=True), key="container_bits"),
    Metric("payload_regret", "bits", LOWER, _payload_regret,
           "regret in {unit} less the container's header: the payload's own, the figure that "
           "stands beside a formula row (which has no container)", fixed(1, grouped=True),
           key="payload_regret_bits", about=_classes),
    Metric("overhead", "bits", LOWER,
           lambda r: None if r.bits is None or r.bits_ideal is None else r.bits - r.bits_ideal,
           "{unit} of the stream above Σ -log2 p (headers, arithmetic coding's rounding)",
           fixed(0, grouped=True)),
    Metric("decode_per_encode", "", HIGHER, _speed_ratio,
           "decode speed / encode speed (fastest repetitions): how much cheaper reading is "
           "than writing", fixed(3), header="decode/encode", detail=True),
    Metric("encode_cpu_MBps", "MB/s", HIGHER, _speed("encode", cpu=True),
           "encode speed in {unit} of input per second of CPU time", sig3),
)}
"""The metrics, in the order tables show them."""


def get(name: str) -> Metric:
    """The metric called `name`; a usage error naming the known ones otherwise."""
    try:
        return TABLE[name]
    except KeyError:
        raise UsageError(f"unknown metric {name!r} (known: {', '.join(TABLE)})") from None


def value(name: str, record: RecordLike) -> float | None:
    return get(name).value(record)


def higher_is_better(name: str) -> bool:
    return get(name).better == HIGHER


def unit(name: str, kinds: Iterable[str] = ("file",)) -> str:
    """The metric's unit for data of these kinds: per label for labelled data, per symbol of a
    synthetic source, per byte for the rest, and all of them named when the data mixes them."""
    u = get(name).unit
    syms = sorted({symbol(k) for k in kinds}) or ["byte"]
    if "{symbol}" not in u or len(syms) == 1:
        return u.format(symbol=syms[0])
    return (u.format(symbol="byte") + " of data: " + ", ".join(f"per {s}" for s in syms)
            + " (one byte each)")


def caption(name: str, datasets: Iterable[DatasetLike] = (), about: bool = True) -> str:
    """"name: what it is, in its unit" for the datasets shown (a table's caption); `about`:
    with what the datasets add (regret's model classes)."""
    m = get(name)
    datasets = list(datasets)
    text = m.caption.format(unit=unit(name, (d.kind for d in datasets)))
    return f"{name}: {text}" + (f"; {m.about(datasets)}" if m.about and about else "")


def header(name: str, kinds: Iterable[str] = ("file",)) -> str:
    """The metric's column header in a dataset's table, in the unit of that data."""
    m = get(name)
    return m.header.format(name=name, unit=unit(name, kinds))


def axis(name: str, kinds: Iterable[str] = ("file",)) -> str:
    """A plot axis label: "bpb (bits per byte)", "ratio"."""
    u = unit(name, kinds)
    return f"{name} ({u})" if u else name


def show(name: str, record: RecordLike) -> str:
    """The metric of `record` with its unit, "1,234 bits", "1.3107 bits per byte" ("" if
    none)."""
    v = value(name, record)
    return "" if v is None else f"{get(name).fmt(v)} {unit(name, [record.dataset.kind])}".strip()


def describe() -> str:
    """One line per metric (`compare --metric`'s help)."""
    return "; ".join(caption(name, about=False) for name in TABLE)


def add(metric: Metric) -> None:
    """Register a metric (a plugin's figure, a test's): the same entry again changes nothing,
    another entry under a taken name is a usage error."""
    if TABLE.get(metric.name, metric) != metric:
        raise UsageError(f"a metric named {metric.name!r} is already defined")
    TABLE[metric.name] = metric


def remove(name: str) -> None:
    TABLE.pop(name, None)
