"""Labelled datasets: inputs X (features) and labels y, for the code length of y given X.

A labelled `Dataset` has one part, ``("labels", bytes)``: one byte per example, the class index
0..K-1. Its `labelled` field is a `LabelledData` carrying X, y, K and names. Coders that code
labels *given* inputs (compressors/preq.py) receive it as side information
(`encode(data, Given(side=dataset.labelled))`); classical codecs just compress the label bytes, the
"ignores the inputs" baseline.

Three sources:
- ``digits``: the UCI handwritten digits shipped in datasets/digits (1,797 8x8 images, 10 classes),
  by default in a fixed pseudo-random row order (``order=shuffled``): the file's label sequence
  is far from random (zstd -19 codes it in ~950 bits, against 5,970 for the uniform code), so in
  file order a classical codec wins by exploiting the order, not the images. Prequential codes
  assume exchangeable examples (Blier & Ollivier and Voita & Titov shuffle); ``digits:order=file``
  keeps the file order. The order changes every figure, so the summary `mdlbench list` shows
  and the dataset's description both state it.
- ``logistic:n=…,d=…,k=…,scale=…,seed=…``: X ~ N(0, I_d), y drawn from a true softmax-linear model.
  `limit_bits` = Σ -log2 p_true(y_i | x_i), the exact code length of the labels under the true
  conditional model (the Bayes-optimal code given X); `entropy_bits` = Σ H(p_true(· | x_i)), its
  expectation given the sampled X.
- `load_table(path, column)`: a user's CSV or NPZ, with `--labels COLUMN`.

Labels are mapped to 0..K-1 in sorted order of their distinct values (so integer labels 0..K-1
keep their values); the original values are kept in `LabelledData.classes`.

Every labelled dataset states the Laplace code length of its labels under the multinomial
logistic class (mdlbench.mdl.laplace) as the formula row `(Laplace, logistic)`, computed on first
use and kept per process (a second on digits). ``logistic`` also states that class's maximum-
likelihood code length, for the regret of every coder (digits has none: its classes are
linearly separable, so no maximum exists).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
import zlib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from .. import limits
from ..errors import DataError, UsageError
from ..mdl import laplace
from ..params import Param
from .base import Dataset, DatasetLoader, Reference, register_dataset
from .files import path_label, read_file
from .shipped import read_checked, read_manifest

MAX_CLASSES = 256
LAPLACE_ROW = "(Laplace, logistic)"
LOGISTIC_CLASS = "multinomial logistic on the standardised features"
_LAPLACE: dict[str, float | None] = {}
"""Laplace bits by LabelledData fingerprint: computed once per process."""


@dataclass
class LabelledData:
    """Inputs and labels of a labelled dataset; both sides of a coder see X (side information)."""

    X: np.ndarray
    """(n, d) float64 features."""
    y: np.ndarray
    """(n,) uint8 class indices in 0..k-1."""
    k: int
    feature_names: list[str] = field(default_factory=list)
    classes: list[Any] = field(default_factory=list)
    """The original label values, in index order."""

    def __post_init__(self) -> None:
        self.X = np.ascontiguousarray(self.X, dtype=np.float64)
        self.y = np.ascontiguousarray(self.y, dtype=np.uint8)
        if self.X.ndim != 2 or self.y.ndim != 1 or self.X.shape[0] != self.y.shape[0]:
            raise DataError(f"labelled data needs X (n, d) and y (n,): got {self.X.shape} and "
                            f"{self.y.shape}")
        if not 1 <= self.k <= MAX_CLASSES:
            raise DataError(f"labelled data: {self.k} classes (1..{MAX_CLASSES} supported)")
        if self.y.size and int(self.y.max()) >= self.k:
            raise DataError("labelled data: a label is outside 0..k-1")
        if not self.feature_names:
            self.feature_names = [f"x{i}" for i in range(self.d)]

    @property
    def n(self) -> int:
        return int(self.y.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of features and labels together: the identity of a labelled dataset."""
        h = hashlib.sha256()
        h.update(np.asarray(self.X.shape, dtype=np.int64).tobytes())
        h.update(self.X.tobytes())
        h.update(self.y.tobytes())
        return h.hexdigest()

    def laplace_bits(self) -> float | None:
        """The `(Laplace, logistic)` formula for these labels (None: class too large)."""
        if self.fingerprint not in _LAPLACE:
            code = laplace.logistic_laplace(self.X, self.y, self.k)
            _LAPLACE[self.fingerprint] = None if code is None else float(code.bits)
        return _LAPLACE[self.fingerprint]

    def reference(self, model_class: str | None = None,
                  ml_bits: float | None = None) -> Reference:
        bits = self.laplace_bits()
        return Reference(model_class, ml_bits, {} if bits is None else {LAPLACE_ROW: bits})

    def dataset(self, name: str, **kw: Any) -> Dataset:
        """The harness's view: one part holding the label bytes, alphabet K, X in `labelled`."""
        kw.setdefault("references", self.reference)
        ds = Dataset(name=name, parts=[("labels", self.y.tobytes())], alphabet=self.k,
                     labelled=self, **kw)
        ds.meta.setdefault("n", self.n)
        ds.meta.setdefault("d", self.d)
        ds.meta.setdefault("k", self.k)
        # The dataset's identity (results key) must cover the inputs too, not only the labels:
        # the same labels under other features are another dataset. Dataset.sha256 is a
        # cached_property; setting it here fixes it to the fingerprint of X and y together.
        ds.__dict__["sha256"] = self.fingerprint
        return ds


def _factorise(values: np.ndarray, where: str) -> tuple[np.ndarray, list[Any]]:
    """Map label values to 0..K-1 in sorted order; check class count."""
    try:
        classes, y = np.unique(values, return_inverse=True)
    except TypeError:  # mixed types in an object column
        classes, y = np.unique(values.astype(str), return_inverse=True)
    if len(classes) < 2:
        only = classes[0] if len(classes) else "none"
        raise DataError(f"{where}: the label column has a single class ({only!r}); "
                        f"nothing to code")
    if len(classes) > MAX_CLASSES:
        raise DataError(f"{where}: the label column has {len(classes)} classes "
                        f"(at most {MAX_CLASSES} supported)")
    return y.reshape(-1).astype(np.uint8), [c.item() if hasattr(c, "item") else c for c in classes]


def _check_features(X: np.ndarray, names: list[str], where: str) -> np.ndarray:
    if X.ndim != 2:
        raise DataError(f"{where}: features must be a 2-D array (n, d), got shape {X.shape}")
    if X.shape[1] == 0:
        raise DataError(f"{where}: no feature columns besides the labels")
    if not np.issubdtype(X.dtype, np.number) and X.dtype != np.bool_:
        raise DataError(f"{where}: features are not numeric (dtype {X.dtype})")
    X = X.astype(np.float64)
    bad = ~np.isfinite(X)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        col = names[j] if j < len(names) else f"#{j}"
        raise DataError(f"{where}: feature {col!r} has a missing/NaN/inf value (row {i})")
    return X


def _check_labels(y: np.ndarray, where: str) -> None:
    if y.ndim != 1:
        raise DataError(f"{where}: labels must be 1-D, got shape {y.shape}")
    if y.dtype.kind == "f" and np.isnan(y).any():
        raise DataError(f"{where}: the label column has missing/NaN values "
                        f"(row {int(np.argmax(np.isnan(y)))})")
    if y.dtype.kind == "O" and any(v is None or (isinstance(v, float) and v != v) for v in y):
        raise DataError(f"{where}: the label column has missing values")


def _from_frame(df: Any, column: str, where: str) -> LabelledData:
    import pandas as pd

    if df.shape[0] == 0:
        raise DataError(f"{where}: no rows")
    names = [str(c) for c in df.columns]
    if column not in names:
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise UsageError(f"{where}: no column {column!r} (columns: {shown})")
    df.columns = names
    y = df[column].to_numpy()
    _check_labels(y, where)
    feats = df.drop(columns=[column])
    nonnum = [c for c in feats.columns if not (pd.api.types.is_numeric_dtype(feats[c])
                                               or pd.api.types.is_bool_dtype(feats[c]))]
    if nonnum:
        raise DataError(f"{where}: feature column {nonnum[0]!r} is not numeric "
                        f"(encode it as numbers or drop it)")
    fnames = [str(c) for c in feats.columns]
    X = _check_features(feats.to_numpy(dtype=np.float64) if fnames else np.zeros((len(df), 0)),
                        fnames, where)
    yi, classes = _factorise(y, where)
    return LabelledData(X, yi, len(classes), fnames, classes)


def _read_csv(raw: bytes, column: str, where: str) -> LabelledData:
    import pandas as pd

    if not raw.strip():
        raise DataError(f"{where}: the file is empty")
    try:
        df = pd.read_csv(io.BytesIO(raw))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError) as e:
        raise DataError(f"{where}: cannot parse as CSV ({str(e).splitlines()[0]})") from None
    return _from_frame(df, column, where)


def _read_npz(raw: bytes, column: str, where: str) -> LabelledData:
    try:
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
        raise DataError(f"{where}: cannot read as NPZ ({e})") from None
    if not arrays:
        raise DataError(f"{where}: the NPZ archive holds no arrays")
    if "X" in arrays and column != "X":
        # Form 1: a feature matrix X and the label array named by `column` (usually y).
        if column not in arrays:
            raise UsageError(f"{where}: no array {column!r} (arrays: {', '.join(arrays)})")
        X, y = arrays["X"], arrays[column]
        if X.ndim != 2:
            raise DataError(f"{where}: X must be 2-D (n, d), got shape {X.shape}")
        _check_labels(y, where)
        if X.shape[0] != y.shape[0]:
            raise DataError(f"{where}: X has {X.shape[0]} rows but {column!r} has {y.shape[0]}")
        if y.shape[0] == 0:
            raise DataError(f"{where}: no rows")
        names = [f"x{i}" for i in range(X.shape[1])]
        Xf = _check_features(X, names, where)
        yi, classes = _factorise(y, where)
        return LabelledData(Xf, yi, len(classes), names, classes)
    # Form 2: every array is one named column of equal length.
    bad = [k for k, a in arrays.items() if a.ndim != 1]
    if bad:
        raise DataError(f"{where}: array {bad[0]!r} has shape {arrays[bad[0]].shape}; use arrays "
                        f"X (n, d) and y (n,), or one 1-D array per column")
    lengths = {a.shape[0] for a in arrays.values()}
    if len(lengths) > 1:
        raise DataError(f"{where}: columns have different lengths {sorted(lengths)}")
    import pandas as pd

    if column not in arrays:
        raise UsageError(f"{where}: no column {column!r} (columns: {', '.join(arrays)})")
    return _from_frame(pd.DataFrame(arrays), column, where)


TABLE_BYTES_PER_BYTE = 8
"""Memory a parsed CSV takes per byte of text, at most: a float64 per cell of a few characters."""


def _gunzip(raw: bytes, where: str) -> bytes:
    """A gzip file's content, read no further than mdlbench's input limit (a gzip bomb is
    refused, not inflated)."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as f:
            out = f.read(limits.MAX_INPUT_BYTES + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{where}: damaged gzip file ({e})") from None
    limits.check_size(len(out), f"{where} (unpacked)")
    return out


def _check_npz_size(raw: bytes, where: str) -> None:
    """The arrays' unpacked size, from the archive's directory, against the limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as z:
            total = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise DataError(f"{where}: cannot read as NPZ ({e})") from None
    limits.check_size(total, f"{where} (unpacked)")
    limits.check_memory(2 * total, f"table {where}")


def load_table(path: Path | str, column: str) -> Dataset:
    """A user's labelled table (CSV, optionally .gz, or NPZ) with labels in `column`."""
    path = Path(path)
    where = str(path)
    if not column:
        raise UsageError("--labels needs a column name")
    if path.is_dir():
        raise UsageError(f"{where}: --labels needs a CSV or NPZ file, not a directory")
    raw = read_file(path)
    if not raw:
        raise DataError(f"{where}: the file is empty")
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip(raw, where)
    if raw[:4] == b"PK\x03\x04" or path.suffix.lower() == ".npz":
        _check_npz_size(raw, where)
        data = _read_npz(raw, column, where)
    else:
        limits.check_memory(TABLE_BYTES_PER_BYTE * len(raw), f"table {where}")
        data = _read_csv(raw, column, where)
    return data.dataset(path_label(path, column), kind="labelled",
                        description=f"labelled table {path.name}: {data.n} rows, {data.d} "
                                    f"features, {data.k} classes in {column!r}")


ORDERS = ("shuffled", "file")
ORDER_TEXT = {
    "shuffled": "rows in a fixed pseudo-random order (sorted by sha256 of 'digits:ROW'), not the "
                "file's: digits:order=file keeps the file order",
    "file": "rows in the file's order (its label sequence has long runs a sequence codec "
            "exploits; digits, shuffled, is the default)",
}
"""What each `digits` order is, as the dataset's description states it."""


def fixed_order(n: int, salt: str) -> np.ndarray:
    """A pseudo-random permutation of range(n) defined by sha256 (the same on every machine and
    every numpy version): rows sorted by sha256(salt, row index)."""
    keys = [hashlib.sha256(f"{salt}:{i}".encode()).digest()[:8] for i in range(n)]
    return np.array(sorted(range(n), key=keys.__getitem__), dtype=np.int64)


@register_dataset
class Digits(DatasetLoader):
    name = "digits"
    kind = "labelled"
    folder = "digits"
    summary = ("UCI handwritten digits: 1,797 8x8 images (64 features 0..16), 10 classes; rows "
               "in a fixed sha256-defined shuffled order unless digits:order=file")
    params = (
        Param("order", str, "shuffled", "rows in a fixed pseudo-random order (shuffled), or "
              "the file's (file: its label sequence has long runs a sequence codec exploits)",
              choices=ORDERS),
    )

    def load(self) -> Dataset:
        m = read_manifest(self.folder)
        entry = next((e for e in m["files"] if e["file"] == "digits.csv.gz"), None)
        if entry is None:
            raise DataError("datasets/digits/MANIFEST.json does not list digits.csv.gz")
        table = np.loadtxt(io.BytesIO(gzip.decompress(read_checked(self.folder, entry))),
                           delimiter=",", dtype=np.int64)
        if table.ndim != 2 or table.shape[1] != 65:
            raise DataError(f"digits.csv.gz: expected 65 columns, got shape {table.shape}")
        if self.config["order"] == "shuffled":
            table = table[fixed_order(len(table), "digits")]
        names = [f"pixel_{i // 8}_{i % 8}" for i in range(64)]
        data = LabelledData(table[:, :64], table[:, 64], 10, names, list(range(10)))
        return data.dataset(self.spec, kind="labelled",
                            description=f"{m['description']}; {ORDER_TEXT[self.config['order']]}",
                            source=m["source"], licence=m["licence"])

    def listing(self) -> dict[str, Any]:
        return self.shipped_listing()


@register_dataset
class Logistic(DatasetLoader):
    name = "logistic"
    kind = "labelled"
    summary = ("X ~ N(0, I_d), y from a seeded softmax-linear model; limit_bits is the exact "
               "code length under the true conditional model")
    params = (
        Param("n", int, 2000, "number of examples", min=1, max=10_000_000),
        Param("d", int, 10, "number of features", min=1, max=10_000),
        Param("k", int, 4, "number of classes", min=2, max=MAX_CLASSES),
        Param("scale", float, 3.0, "norm scale of the true weights (large: labels predictable)",
              min=0.0),
        Param("seed", int, 0, "generator seed", min=0),
    )

    def memory_bytes(self) -> int:
        c = self.config  # X (and its product with W), logits, log-probabilities, cumulative sums
        return 16 * c["n"] * c["d"] + 48 * c["n"] * c["k"] + 64 * c["n"]

    def true_model(self) -> tuple[np.ndarray, np.ndarray]:
        """The generating weights W (k, d) and biases b (k,)."""
        c = self.config
        rng = np.random.default_rng([c["seed"], 0x1AB])
        W = rng.standard_normal((c["k"], c["d"])) * (c["scale"] / np.sqrt(c["d"]))
        b = rng.standard_normal(c["k"]) * 0.5
        return W, b

    def load(self) -> Dataset:
        c = self.config
        W, b = self.true_model()
        rng = np.random.default_rng([c["seed"], 0xDA7A])
        X = rng.standard_normal((c["n"], c["d"]))
        logits = X @ W.T + b
        logits -= logits.max(axis=1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))  # natural log
        p = np.exp(logp)
        u = rng.random(c["n"])
        y = (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1).clip(0, c["k"] - 1)
        limit = float(-logp[np.arange(c["n"]), y].sum() / np.log(2))
        entropy = float(-(p * logp).sum() / np.log(2))
        data = LabelledData(X, y, c["k"], classes=list(range(c["k"])))

        def reference() -> Reference:
            return data.reference(LOGISTIC_CLASS, laplace.logistic_ml_bits(X, y, c["k"]))

        return data.dataset(self.spec, kind="labelled", description=self.summary,
                            limit_bits=limit, entropy_bits=entropy, references=reference)
