"""Run one cell: a compressor on a dataset (whole, per file, or in chunks), timed as
harness.measure describes, with every stream decoded back and compared, into one Record."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .. import decoder_share
from ..coding import container, varint
from ..compressors.base import Compressor, Encoded, Given, ProgressFn
from ..compressors.provenance import describe as describe_coder
from ..datasets import Dataset
from ..errors import MdlbenchError
from ..interrupt import stops
from ..plugins import origin
from ..results.record import (
    ERROR,
    FAILED,
    UNVERIFIED,
    VERIFIED,
    CompressorInfo,
    DatasetInfo,
    Part,
    Record,
    Speed,
    Timing,
)
from ..results.store import cell_key
from ..stdio import to_stderr
from . import measure
from .env import code_fingerprint, reproducibility
from .measure import TimingPolicy
from .progress import Reporter

SHARED_PART = "(shared)"
"""The part of a cell that every unit shares (Compressor.shared: zstd's trained dictionary):
stored and counted once."""


@dataclass(frozen=True)
class Layout:
    """How a dataset is cut into independently coded units."""

    per_file: bool = False
    chunk_size: int | None = None

    def label(self, dataset: Dataset) -> str:
        label = dataset.name
        if self.per_file:
            label += "/per-file"
        if self.chunk_size:
            label += f"/chunk={self.chunk_size}"
        return label

    def units(self, dataset: Dataset) -> list[tuple[str, bytes]]:
        units = list(dataset.parts) if self.per_file else [(dataset.name, dataset.data)]
        if self.chunk_size:
            cs = self.chunk_size
            units = [(f"{name}@{i}", b[i:i + cs]) for name, b in units
                     for i in range(0, max(len(b), 1), cs)]
        return units


@dataclass(frozen=True)
class CellId:
    """What identifies a cell; `key` decides whether a stored record of it can be reused."""

    dataset: DatasetInfo
    compressor: CompressorInfo
    seed: int | None
    code: str
    key: str


def identify(dataset: Dataset, comp: Compressor, layout: Layout, seed: int | None) -> CellId:
    ds = DatasetInfo(
        name=dataset.name, label=layout.label(dataset), sha256=dataset.sha256,
        size=dataset.size, files=len(dataset.parts), kind=dataset.kind,
        alphabet=dataset.alphabet, per_file=layout.per_file, chunk_size=layout.chunk_size,
        limit_bits=dataset.limit_bits, entropy_bits=dataset.entropy_bits,
        model_class=dataset.reference.model_class, ml_bits=dataset.reference.ml_bits,
        formulas=dict(dataset.reference.formulas))
    desc = describe_coder(comp)
    info = CompressorInfo(**{f.name: desc[f.name] for f in dataclasses.fields(CompressorInfo)})
    code = code_fingerprint(comp)
    key = cell_key({"dataset": ds.sha256, "label": ds.label, "spec": info.spec,
                    "version": info.version, "code": code, "seed": seed})
    return CellId(ds, info, seed, code, key)


Call = Callable[[bytes, Given], Any]


def describe(e: BaseException, comp: Compressor | None = None) -> str:
    """An exception as a record's one-line error: a user's problem, or a coder's bug. An exit
    or interrupt raised by a coder's code names the coder (its plugin file, for a plugin)."""
    what = " ".join(str(e).split()) or "(no message)"
    if isinstance(e, MdlbenchError | MemoryError):
        return f"{type(e).__name__}: {what}"
    if not isinstance(e, Exception):  # SystemExit, KeyboardInterrupt, GeneratorExit...
        return (f"{type(e).__name__}({what}) raised by {culprit(comp)}: a coder must return "
                f"or raise an Exception, not end the process")
    return f"{type(e).__name__} (a bug in the coder or a library): {what}"


def culprit(comp: Compressor | None) -> str:
    """Who wrote the code that ran: a plugin's file (or module), else the coder's name."""
    if comp is None:
        return "the coder"
    src = origin(type(comp))
    if src is None:
        return f"compressor {comp.name}"
    return f"plugin {src.get('file', src['module'])} (compressor {comp.name})"


def error_record(dataset: Dataset, comp: Compressor, layout: Layout, seed: int | None,
                 message: str) -> Record:
    """The record of a cell that could not run at all (its worker died, or the harness failed
    around it): status error, no bits."""
    ident = identify(dataset, comp, layout, seed)
    return Record(key=ident.key, dataset=ident.dataset, compressor=ident.compressor, seed=seed,
                  status=ERROR, bits=None, error=message, code=ident.code,
                  reproducibility=reproducibility(seed),
                  created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"))


def _progress(reporter: Reporter, base: int, total: int) -> ProgressFn:
    def prog(done: int, _n: int, *bits: float) -> None:
        reporter.bytes(base + done, total, (bits[0] / done) if bits and done else None)

    return prog


def _pass(call: Call, items: Sequence[bytes], sizes: list[int], comp: Compressor, given: Given,
          show: tuple[Reporter, int, int] | None = None,
          check: Callable[[int, Any], str | None] | None = None
          ) -> tuple[list[Any], list[str | None], float, float]:
    """`call` on every unit, `given` the side information (and with `show`, the progress), timed:
    (outputs, errors, wall s, CPU s). A unit that raises (an
    MdlbenchError, or any exception: a coder's bug must not end the grid), or whose output
    `check` rejects, gets an error; the others still run. A coder's SystemExit or stray
    KeyboardInterrupt fails its unit too; a user's Ctrl-C or SIGTERM stops (mdlbench.interrupt)."""
    outs: list[Any] = []
    errs: list[str | None] = []
    wall = cpu = 0.0
    done = 0
    for i, (item, size) in enumerate(zip(items, sizes, strict=True)):
        told = given if show is None else dataclasses.replace(
            given, progress=_progress(show[0], show[1] + done, show[2]))
        try:
            out, w, c = measure.timed(functools.partial(call, item, told))
        except BaseException as e:
            if stops(e):  # Ctrl-C, SIGTERM, or a missing optional package (cli.py)
                raise
            outs.append(None)
            errs.append(describe(e, comp))
        else:
            outs.append(out)
            errs.append(check(i, out) if check else None)
            wall, cpu = wall + w, cpu + c
        done += size
    return outs, errs, wall, cpu


def _measured(call: Call, items: Sequence[bytes], sizes: list[int], comp: Compressor,
              timing: TimingPolicy, given: Given, show: tuple[Reporter, int, int],
              same: Callable[[Any], Any] = lambda x: x,
              check: Callable[[int, Any], str | None] | None = None
              ) -> tuple[list[Any], list[str | None], Speed | None, str | None]:
    """A first pass (with progress), then passes until `timing` has enough: (first outputs,
    their errors, the speed, a problem). A repetition whose outputs differ (compared through
    `same`) is a problem: a coder that does not repeat itself cannot be measured."""
    outs, errs, w, c = _pass(call, items, sizes, comp, given, show, check)
    walls, cpus = [w], [c]
    while not any(errs) and not timing.enough(walls):
        again, errs2, w, c = _pass(call, items, sizes, comp, given, None, check)
        if any(errs2) or [same(o) for o in again] != [same(o) for o in outs]:
            return outs, errs, None, "non-deterministic: a repetition gave other output"
        walls.append(w)
        cpus.append(c)
    return outs, errs, None if any(errs) else Speed.of(walls, cpus), None


def run_cell(dataset: Dataset, comp: Compressor, layout: Layout = Layout(), *,
             seed: int | None = None, verify: bool = True, timing: TimingPolicy | None = None,
             cells_at_once: int = 1, reporter: Reporter | None = None) -> Record:
    """Warm up, encode every unit (repeated per `timing`; each repetition must write the same
    streams), decode and compare (repeated likewise), and return the cell's record. What the
    coder prints, or writes to file descriptor 1, goes to standard error: standard output may
    be `run --format json`'s."""
    with to_stderr():  # print() and writes to file descriptor 1 alike
        return _run_cell(dataset, comp, layout, seed, verify, timing, cells_at_once, reporter)


def _run_cell(dataset: Dataset, comp: Compressor, layout: Layout, seed: int | None,
              verify: bool, timing: TimingPolicy | None, cells_at_once: int,
              reporter: Reporter | None) -> Record:
    ident = identify(dataset, comp, layout, seed)
    reporter = reporter or Reporter()
    timing = timing or measure.policy()
    names, datas = zip(*layout.units(dataset), strict=True)
    sizes = [len(d) for d in datas]
    given = Given(side=dataset.labelled)
    total = 2 * dataset.size if verify else dataset.size
    reporter.cell(f"{comp.spec} on {ident.dataset.label}", total)

    def matches(i: int, out: bytes) -> str | None:
        return None if out == datas[i] else (
            f"VerificationError: decoded {len(out)} bytes differ from the input")

    encs: list[Encoded | None] = [None] * len(datas)
    errs: list[str | None] = [None] * len(datas)
    enc_speed = dec_speed = problem = None
    shared: bytes | None = None
    try:
        shared = comp.shared(datas) if len(datas) > 1 else None  # trained once, not timed
        comp.use_shared(shared)
        comp.warm_up(datas[0][:timing.warm_up_bytes], given)
    except BaseException as e:  # the coder cannot run here at all (e.g. no GPU), or crashed
        if stops(e):
            raise
        status, problem = ERROR, describe(e, comp)
    else:
        measure.reset_peak()
        encs, errs, enc_speed, problem = _measured(comp.encode, datas, sizes, comp, timing, given,
                                                   (reporter, 0, total), same=lambda e: e.blob)
        status = ERROR if any(errs) else FAILED if problem else VERIFIED if verify else UNVERIFIED
    if status == VERIFIED:
        blobs = [e.blob for e in encs if e is not None]
        _, errs, dec_speed, problem = _measured(comp.decode, blobs, sizes, comp, timing, given,
                                                (reporter, dataset.size, total), check=matches)
        status = FAILED if any(errs) or problem else VERIFIED
    coded = [e for e in encs if e is not None]
    ideals = [e.bits_ideal for e in coded]
    parts = [Part(n, s, e.bits if e else None,
                  e.bits_ideal if e and not err else None, err)
             for n, s, e, err in zip(names, sizes, encs, errs, strict=True)]
    shared_bits = 0 if shared is None else 8 * (len(varint.encode(len(shared))) + len(shared))
    if shared is not None:  # stored once: its length, then its bytes
        parts.insert(0, Part(SHARED_PART, 0, shared_bits))
    messages = [f"{n}: {err}" for n, err in zip(names, errs, strict=True) if err]
    if problem is not None:
        messages.append(problem)
    share = None if status == ERROR else decoder_share.share(comp)
    return Record(
        key=ident.key, dataset=ident.dataset, compressor=ident.compressor, seed=seed,
        status=status,
        bits=None if status == ERROR else shared_bits + sum(e.bits for e in coded),
        bits_ideal=(None if status == ERROR or any(i is None for i in ideals)
                    else float(sum(i for i in ideals if i is not None))),
        error="; ".join(messages) or None,
        timing=Timing(enc_speed, dec_speed, cells_at_once),
        peak_rss_mb=measure.peak_mb(),
        parts=parts if layout.per_file else [],
        extras=coded[0].extras if len(datas) == 1 and coded else {},
        container_bits=None if status == ERROR else sum(
            container.header_bits(e.blob) if comp.self_describing else 0 for e in coded),
        decoder=share,
        code=ident.code, reproducibility=reproducibility(seed),
        created=dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
    )
