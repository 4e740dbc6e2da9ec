"""mdlbench: total description length in bits, from real bitstreams that decode back.

From Python, what the command line does::

    import mdlbench
    recs = mdlbench.run(["canterbury"], ["zstd:level=19", "xz:preset=9"])  # records, one per cell
    mdlbench.compare(recs)              # the leaderboard (a pandas DataFrame); also folders
    mdlbench.results_frame(recs)        # one tidy row per cell, every figure a column
    mdlbench.plot(recs, "pareto")       # a matplotlib Figure (a notebook shows it)
    open("report.html", "w").write(mdlbench.html_report(recs))

`run` shows progress where a person watches (a terminal or a notebook; `progress=False` turns
it off). Functions that read results take folders of records (default results/runs), record
files, or the records `run` returned. See `help(mdlbench.api)` for every function.
"""

from __future__ import annotations

from typing import Any

from .version import __version__

_API = ("run", "RunOptions", "compare", "table", "report", "records", "results_frame", "plot", "figures",
        "write_plots", "html_report", "gate", "encode_bytes", "decode_bytes", "catalogue")

__all__ = [*_API, "Record", "errors", "__version__"]


def __getattr__(name: str) -> Any:  # lazy: `import mdlbench` stays cheap, `mdlbench.run` works
    if name in _API:
        from . import api

        return getattr(api, name)
    if name == "Record":
        from .results.record import Record

        return Record
    if name == "errors":
        from . import errors

        return errors
    raise AttributeError(f"module 'mdlbench' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
