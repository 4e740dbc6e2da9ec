"""Codec groups for the pictures and the board: with 40 codecs on one plot a colour per codec
runs out (and twenty colours cannot be told apart), so codecs that do the same kind of work
share a colour: the deflate encoders, the LZ77 byte coders, zstd, brotli, the BWT coders, LZMA,
the context-modelling coders (PPM, CM, mixing), the neural coders, and the `copy` row.

The grouping is a reader's, not a codec's property, so it lives here and not on the codec
classes: keyed by the compressor's registered name, and for a name not listed (a plugin, a new
codec) by the family its record carries, so every record gets a group.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

COPY = "copy"
GROUPS: dict[str, tuple[str, ...]] = {
    COPY: ("copy",),
    "LZ": ("lz4", "lz4-block", "libsnappy", "snappy", "lzf", "lzfse", "lzo", "blosc2"),
    "deflate": ("zlib", "libdeflate", "isal", "zlib-ng", "zopfli"),
    "zstd": ("zstd",),
    "brotli": ("brotli",),
    "LZMA": ("xz", "lzma"),
    "BWT": ("bz2", "bzip3", "kanzi"),
    "PPM/CM": ("ppmd", "zpaq", "mix", "kt", "snml"),
    "neural": ("lstm", "transformer", "hf", "ensemble"),
}
"""Group -> the registered names in it, groups in the order a legend lists them (roughly
fastest to strongest)."""
FROM_FAMILY = {"statistical": "PPM/CM", "neural": "neural", "pretrained": "neural",
               "ensemble": "neural"}
"""A record's family -> the group of a codec GROUPS does not name (other families keep their
own name as the group: prequential, variational, classical)."""
COLOURS = {COPY: "#7f7f7f", "LZ": "#1f77b4", "deflate": "#ff7f0e", "zstd": "#2ca02c",
           "brotli": "#d62728", "LZMA": "#9467bd", "BWT": "#8c564b", "PPM/CM": "#e377c2",
           "neural": "#17becf"}
"""One colour per group (matplotlib's tab10, so plot and board agree)."""
_SPARE = ("#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
          "#e6550d")
"""Colours for groups outside COLOURS (a family of its own), handed out in sorted order."""
_BY_NAME = {name: g for g, names in GROUPS.items() for name in names}


def of(name: str, family: str = "") -> str:
    """The group of a compressor by its registered name, else by its record's family."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    return FROM_FAMILY.get(family, family or "other")


def ordered(groups: Iterable[str]) -> list[str]:
    """Groups in legend order: the known ones as GROUPS lists them, then the rest by name."""
    known = list(GROUPS)
    return sorted(set(groups), key=lambda g: (known.index(g) if g in known else len(known), g))


def colours(groups: Iterable[str]) -> dict[str, str]:
    """A colour for each of these groups: the fixed one, or a spare one in sorted order."""
    spare = itertools.cycle(_SPARE)
    return {g: COLOURS[g] if g in COLOURS else next(spare) for g in ordered(groups)}
