"""Dataset registry: shipped corpora, corpora downloaded on first use, files by URL, synthetic
sources, labelled sets, and user paths. Each module registers its datasets when imported, and
modules are imported on demand: a lookup imports them one by one until the name is registered
(shipped.py first: the default data), a listing of the whole registry imports them all."""

from __future__ import annotations

import importlib
import math
import pkgutil
from pathlib import Path
from typing import Any

from .. import limits, registry
from .. import spec as specmod
from ..errors import DataError, MdlbenchError, UsageError
from .base import DATASETS, URL_PREFIX, Dataset, DatasetLoader, register_dataset
from .files import load_path


def _load(name: str | None) -> None:
    """Import modules of this package until `name` is registered (None: all of them)."""
    modules = sorted((m.name for m in pkgutil.iter_modules(__path__)), key=lambda m: m != "shipped")
    for module in modules:
        if name is not None and dict.__contains__(DATASETS, name):
            return
        importlib.import_module(f"{__name__}.{module}")


registry.table("dataset", loader=_load)

__all__ = ["DATASETS", "Dataset", "DatasetLoader", "fetch", "load", "loader", "register_dataset"]


def loader(text: str) -> DatasetLoader | None:
    """The registered loader a name or spec refers to, or None when it is not a registered name."""
    if text.strip().startswith(URL_PREFIX):  # a URL holds ':', ',' and '=' of its own
        from . import url

        return url.Url(**url.parse(text))
    name = text.partition(":")[0]
    if name not in DATASETS:
        return None
    s = specmod.parse(text)
    return DATASETS[s.name](**s.kwargs)


def load(text: str, labels: str | None = None) -> Dataset:
    """Load a registered dataset (``canterbury``, ``markov:order=2,n=1e5``) or a user path.

    A registered name wins over a file of that name in the current folder (write ``./bible``
    for the file); a path's label is its quoted real path (see files.py), so the two never
    share a row. With `labels`, the path is a labelled table (CSV/NPZ) and `labels` names its
    label column: the dataset's bytes are then the labels, and its `labelled` field carries the
    inputs. A generator whose estimated memory exceeds what is available is refused first.
    """
    ld = loader(text)
    if ld is not None:
        if labels is not None:
            raise UsageError(f"--labels applies to a user's CSV/NPZ file, not to {text!r}")
        limits.check_memory(ld.memory_bytes(), f"dataset {ld.spec}")
        return _loaded(ld)
    path = Path(text)
    if path.exists() or path.is_symlink():
        if labels is not None:
            from .labelled import load_table

            return load_table(path, labels)
        return load_path(path)
    known = ", ".join(sorted(DATASETS))
    raise UsageError(f"unknown dataset or missing path: {text!r} (datasets: {known})")


def _loaded(ld: DatasetLoader) -> Dataset:
    """`ld.load()`, its result checked: a plugin's loader that fails (sys.exit included) or
    returns what no coder can take is a DataError naming it; mdlbench's own failing is a bug."""
    where = f"dataset {ld.spec} ({type(ld).__qualname__} from {registry.home(type(ld))})"
    try:
        ds = ld.load()
    except (MdlbenchError, MemoryError, KeyboardInterrupt):
        raise
    except BaseException as e:
        if registry.ours(registry.home(type(ld))):
            raise
        raise DataError(f"{where}: load() raised {type(e).__name__}: {e}") from None
    if not isinstance(ds, Dataset) or not isinstance(ds.parts, list) or not all(
            isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str)
            and isinstance(p[1], bytes) for p in ds.parts):
        raise DataError(f"{where}: load() must return a Dataset whose parts are a list of "
                        f"(name, bytes), not {ds!r:.80}")
    if not ds.size:
        raise DataError(f"input is empty: {where}")
    if type(ds.alphabet) is not int or not 1 <= ds.alphabet:
        raise DataError(f"{where}: alphabet {ds.alphabet!r} is not a whole number from 1")
    for name in ("limit_bits", "entropy_bits"):
        v = getattr(ds, name)
        if v is not None and not (isinstance(v, int | float) and 0 <= v < math.inf):
            raise DataError(f"{where}: {name} {v!r} is not a code length in bits")
    return ds


def fetch(text: str) -> dict[str, Any]:
    """Download a corpus or url: dataset now, checked (`mdlbench fetch`): its name, folder, files
    and size. Shipped and generated datasets need nothing: their entry says so in `note`."""
    ld = loader(text)
    if ld is None:
        known = ", ".join(sorted(DATASETS))
        raise UsageError(f"unknown dataset: {text!r} (datasets: {known})")
    download = getattr(ld, "fetch", None)
    if download is not None:
        return download()
    present = ld.listing().get("present")
    if present == "missing":  # shipped data that cannot be read as asked: say why
        ld.load()
    note = "shipped with mdlbench" if present == "shipped" else "generated when used"
    return {"name": ld.spec, "note": note + ", nothing to download"}
