"""What a dataset is, and the registry of named dataset loaders.

Every dataset yields bytes (one or more named parts) and a sha256 that goes into each result.
Synthetic sources also carry the exact code length of the sample under the true source
(`limit_bits`) and, where it has a closed form, the expected one (`entropy_bits`, i.e. n·H).
Where a dataset states a model class, its `reference` holds the best code length in that class
in hindsight (for regret) and code lengths given by formulas (NML, Laplace, ...): see
`Reference`.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from .. import registry
from ..errors import MdlbenchError
from ..params import Param, canonical, resolve


@dataclass(frozen=True)
class Reference:
    """What the formulas of mdlbench.mdl say about a sample, beside the streams: shown as rows of
    their own (like the source limit), never as a coder's bits."""

    model_class: str | None = None
    """The class a coder's regret is measured against (e.g. "order-2 Markov, 4 symbols")."""
    ml_bits: float | None = None
    """-log2 max_θ p_θ(sample) over `model_class`: the best model of the class in hindsight."""
    formulas: dict[str, float] = field(default_factory=dict)
    """Row name -> a code length in bits given by a formula, not a stream (e.g. "(NML, exact)":
    the ML bits plus the minimax regret of the class)."""


@dataclass
class Dataset:
    name: str
    parts: list[tuple[str, bytes]]
    kind: str = "file"
    alphabet: int = 256
    description: str = ""
    source: str = ""
    licence: str = ""
    limit_bits: float | None = None
    """Exact -log2 P(sample) under the generating source: no coder beats it by more than a few
    bits except with tiny probability (P[bits < limit - c] <= 2^-c, Barron's lemma)."""
    entropy_bits: float | None = None
    """Expected code length under the source (n·H for an i.i.d. or stationary Markov source)."""
    labelled: Any = None
    """Features and labels for labelled datasets (prequential MDL of labels given inputs)."""
    meta: dict[str, Any] = field(default_factory=dict)
    references: Callable[[], Reference] | None = field(default=None, repr=False)
    """Computes `reference` on first use (a Laplace fit can take a second: only runs pay it)."""

    @cached_property
    def reference(self) -> Reference:
        return self.references() if self.references is not None else Reference()

    @cached_property
    def data(self) -> bytes:
        return self.parts[0][1] if len(self.parts) == 1 else b"".join(b for _, b in self.parts)

    @property
    def size(self) -> int:
        return sum(len(b) for _, b in self.parts)

    @cached_property
    def sha256(self) -> str:
        h = hashlib.sha256()
        for _, b in self.parts:
            h.update(b)
        return h.hexdigest()

    def __getstate__(self) -> dict[str, Any]:
        """What a worker process is sent (harness.executors): the reference computed, not the
        function that computes it (often a closure, which pickle cannot carry), and no joined
        copy of the parts."""
        state = {k: v for k, v in vars(self).items() if k != "data"}
        return {**state, "reference": self.reference, "references": None}


class DatasetLoader(ABC):
    """A named dataset family; parameters follow the compressor spec syntax (`iid:k=4,n=1e5`)."""

    name: ClassVar[str]
    kind: ClassVar[str] = "synthetic"
    summary: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, **kwargs: Any) -> None:
        self.config = resolve(self.params, kwargs, f"dataset {self.name}")

    @property
    def spec(self) -> str:
        return canonical(self.name, self.params, self.config)

    @abstractmethod
    def load(self) -> Dataset: ...

    def generated(self, x: np.ndarray, alphabet: int, limit: float, **fields: Any) -> Dataset:
        """A generated sequence of symbols (an array below `alphabet`) as one part named by
        its spec, with its exact `limit_bits`."""
        return Dataset(name=self.spec, parts=[(self.spec, np.asarray(x, dtype=np.uint8).tobytes())],
                       kind=self.kind, alphabet=alphabet, description=self.summary,
                       limit_bits=float(limit), **fields)

    def listing(self) -> dict[str, Any]:
        """What `mdlbench list` shows without generating or reading the data."""
        return {"name": self.name, "kind": self.kind, "summary": self.summary,
                "params": ", ".join(p.describe() for p in self.params), "present": "generated"}

    def shipped_listing(self) -> dict[str, Any]:
        """The listing of data that ships with the package: read, so that its size and digest
        are the real ones (or the reason it cannot be read is listed)."""
        try:
            ds = self.load()
        except MdlbenchError as e:
            return self.missing(e)
        return {**DatasetLoader.listing(self), "description": ds.description, "size": ds.size,
                "files": len(ds.parts), "source": ds.source, "licence": ds.licence,
                "sha256": ds.sha256, "present": "shipped"}

    def missing(self, e: MdlbenchError) -> dict[str, Any]:
        """The listing of a dataset whose files or manifest are missing or damaged: the reason,
        so that `list` still lists everything else."""
        return {"name": self.name, "kind": self.kind, "summary": f"MISSING: {e}",
                "params": ", ".join(p.describe() for p in self.params), "present": "missing"}

    def memory_bytes(self) -> int:
        """Estimated peak memory (bytes) of `load()`: `datasets.load` refuses a dataset whose
        estimate exceeds the memory available, before generating anything. Default: nothing
        worth checking (shipped files are checked by their size when read)."""
        return 0


def take_head(parts: list[tuple[str, bytes]], head: int) -> list[tuple[str, bytes]]:
    """The first `head` bytes of a multi-part dataset (0: all), cut across parts in order."""
    if not head:
        return parts
    cut, left = [], head
    for name, data in parts:
        if left <= 0:
            break
        cut.append((name, data[:left]))
        left -= len(data)
    return cut


DATASETS: dict[str, type[DatasetLoader]] = registry.table("dataset", DatasetLoader)

URL_PREFIX = "url:"
"""What starts a file by URL (url.py), told apart before the spec is parsed."""


def register_dataset(cls: type[DatasetLoader]) -> type[DatasetLoader]:
    """Class decorator: add a dataset loader under `cls.name` (the one rule of
    mdlbench/registry.py: the same class again is a no-op, another under a taken name an
    error naming both)."""
    return registry.register_class("dataset", cls)
