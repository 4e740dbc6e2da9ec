"""The codec protocol: what a compressor (a plugin's too) implements.

A compressor is a small class: a `name`, its parameters as `Param`s, and `compress(data) ->
bytes` / `decompress(blob) -> bytes` (model-based coders override `encode`/`decode` to report
the ideal code length beside the stream, and read what they are `Given` while they run: side
information and a progress callback, one object). Optional hooks say what it costs and what its
streams can hold (`memory_bytes`, `max_input`, `max_ratio` or `length_bound`,
`decompress_bounded`), check parameter combinations (`validate`) or side information
(`check_side`), and what besides the spec decides its bits (`fingerprint`, `pretrained`,
`version`). It registers with `@register`. Beside the protocol, not in it: the lookup by spec
(lookup.py: `create`), the checks that enforce the limits (bounds.py) and what a record says
about the coder (provenance.py).
"""

from __future__ import annotations

import functools
import importlib.metadata
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from .. import limits, registry
from ..errors import CorruptStreamError
from ..params import Param, canonical, resolve
from ..version import __version__

__all__ = ["NOTHING_GIVEN", "Compressor", "Encoded", "Given", "ProgressFn", "library_version",
           "register"]

ProgressFn = Callable[..., None]
"""progress(done_bytes, total_bytes[, bits_so_far]): called by long-running coders so the CLI
can show a bar, and while encoding the running bits/byte when the coder passes its bits."""


@dataclass(frozen=True)
class Given:
    """What a coder is given while it runs besides its input, passed once as one object instead
    of two parameters threaded through every coder's signatures. `side`: information encoder and
    decoder both hold (a labelled dataset's inputs), never stored in the stream; `progress`: a
    ProgressFn for the CLI's bar. Limits and the device are not here: the spec's parameters
    decide them, since they decide the floats and so the bits."""

    side: Any = None
    progress: ProgressFn | None = None

    def tell(self, done: int, total: int, *bits: float) -> None:
        """Report `done` of `total` bytes (and the stream's bits so far) to `progress`, if any."""
        if self.progress is not None:
            self.progress(done, total, *bits)


NOTHING_GIVEN = Given()
"""No side information, no progress: what a coder is given when the caller gives nothing."""


@dataclass
class Encoded:
    """A real stream and what the coder knows about it.

    `blob` is what `decompress` needs, headers included: `bits` is always 8 * len(blob).
    `bits_ideal` is Σ -log2 p under the model the coder used (None for classical codecs).
    `extras` carries coder-specific figures (per-segment bits, member bits, KL ...), in bits.
    """

    blob: bytes
    bits_ideal: float | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def bits(self) -> int:
        return 8 * len(self.blob)


class Compressor(ABC):
    """Base class: subclasses set the class attributes and implement compress/decompress."""

    name: ClassVar[str]
    family: ClassVar[str] = "classical"
    summary: ClassVar[str] = ""
    library: ClassVar[str | None] = None
    """Distribution name whose version is recorded with each result (None: stdlib/mdlbench)."""
    params: ClassVar[tuple[Param, ...]] = ()
    self_describing: ClassVar[bool] = False
    """True when `compress` already writes an mdlbench container (spec, length, checksum)."""
    stochastic: ClassVar[bool] = False
    """True when the bits depend on a `seed` parameter (reported as mean ± std over seeds)."""

    # Resource limits: the grid and `encode` refuse work beyond them before it starts, and a
    # decoder refuses a stream whose header claims more than they allow (a forged length).
    max_input: ClassVar[int] = limits.MAX_INPUT_BYTES
    """Largest input (bytes) this coder takes; `max_input_why` says why it is that."""
    max_input_why: ClassVar[str] = "mdlbench's limit on any input"
    max_ratio: ClassVar[float | None] = None
    """Most input bytes one stream byte can code, from the coder's smallest cost per symbol
    (a probability floor, a longest match): a header claiming more than `length_bound` is
    damage, found before decoding. None: no such bound (`max_input` still holds)."""

    def __init__(self, **kwargs: Any) -> None:
        self.config: dict[str, Any] = resolve(self.params, kwargs, self.name)
        self.validate()

    def validate(self) -> None:
        """Check combinations of parameters; raise UsageError. Single values are checked already."""

    @property
    def spec(self) -> str:
        return canonical(self.name, self.params, self.config)

    @abstractmethod
    def compress(self, data: bytes) -> bytes: ...

    @abstractmethod
    def decompress(self, blob: bytes) -> bytes: ...

    def shared(self, units: Sequence[bytes]) -> bytes | None:
        """What every unit of a dataset cut into files or chunks shares, learned from the units
        themselves (zstd's `dict=K`: one dictionary trained on all the files); None: each unit
        is coded alone. The runner stores it once, counts its bytes in the cell's bits (a part
        of its own) and calls `use_shared` before coding or decoding any unit."""
        return None

    def use_shared(self, blob: bytes | None) -> None:
        """Code the following units with `blob`, as `shared` returned it (None: alone)."""

    def check_side(self, side: Any) -> None:
        """Raise UsageError if this coder cannot code data that comes with this side information
        (`side` is a dataset's `labelled` inputs, or None: what `Given.side` will hold). The
        runner asks every cell before the first one runs, so a mismatch fails fast. Default:
        side information is ignored."""

    def encode(self, data: bytes, given: Given = NOTHING_GIVEN) -> Encoded:
        """Compress and report; model-based coders override this to add `bits_ideal` and use
        what they are `given` (side information, progress)."""
        return Encoded(self.compress(data))

    def decode(self, blob: bytes, given: Given = NOTHING_GIVEN) -> bytes:
        return self.decompress(blob)

    def memory_bytes(self, n: int) -> int:
        """Estimated peak memory (bytes) to encode and decode `n` input bytes: the grid refuses a
        cell whose estimate exceeds the memory available, before it allocates anything. This
        default counts the input, the stream and the decoded copy; a coder with a model, window
        or network adds its own."""
        return 3 * n

    def length_bound(self, stream_bytes: int, meta: bytes = b"") -> int:
        """The most input bytes a stream of `stream_bytes` bytes (with this meta) can decode to.
        Coders whose bound depends on their meta (a one-symbol alphabet costs nothing) override
        this."""
        if self.max_ratio is None:
            return self.max_input
        return min(self.max_input, int(self.max_ratio * (stream_bytes + len(meta) + 16)))

    def decompress_bounded(self, blob: bytes, limit: int) -> bytes:
        """`decompress` for a stream from outside (`mdlbench decode`) whose header says it holds
        `limit` bytes: more output is damage (CorruptStreamError). Codecs with a streaming
        decoder stop at limit + 1 bytes, so a forged frame never allocates more; this default
        decodes and then checks."""
        out = self.decompress(blob)
        if len(out) > limit:
            raise CorruptStreamError(f"{self.name}: corrupt stream (decodes to more than the "
                                     f"{limit:,} B its header claims)")
        return out

    def warm_up(self, sample: bytes, given: Given = NOTHING_GIVEN) -> None:
        """Pay one-off costs (imports, JIT compilation, first allocations) before anything is
        timed: by default one round trip of `sample`, a short prefix of the data."""
        self.decode(self.encode(sample, given).blob, given)

    def version(self) -> str:
        """The codec library's version (provenance.version adds a plugin's own where the
        plugin names no installed library)."""
        return library_version(self.library)

    def fingerprint(self) -> str:
        """What decides the bits besides the spec and the code, for the cell key: empty when
        the spec says it all; a pretrained model's coder hashes the model's files."""
        return ""

    def pretrained(self) -> dict[str, Any] | None:
        """A model the decoder must already hold, since the stream does not carry it:
        {"parameters": count, "bits": size at stored precision, ...}. None when the spec alone
        determines the model (classical codecs, prequential coders that start untrained)."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"


@functools.cache
def library_version(dist: str | None) -> str:
    """The version of a distribution (None: mdlbench itself; "stdlib": Python's)."""
    if dist is None:
        return __version__
    if dist == "stdlib":
        import platform

        return f"python {platform.python_version()}"
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def register(cls: type[Compressor]) -> type[Compressor]:
    """Class decorator: add a compressor to the registry under `cls.name` (the one rule of
    mdlbench/registry.py: the same class again is a no-op, another under a taken name an
    error naming both)."""
    return registry.register_class("compressor", cls)


registry.table("compressor", Compressor)
