"""The resource checks around a codec: inputs over its limit or over the memory available
are refused before work starts, and a stream header that claims more than the stream can hold
is refused before decoding (a forged length). The codec only declares its figures
(`max_input`, `memory_bytes`, `length_bound`); these functions enforce them."""

from __future__ import annotations

from typing import Any

from .. import limits
from ..errors import CorruptStreamError, LimitError


def check_input(comp: Any, n: int, what: str) -> None:
    """LimitError when an input of `n` bytes is over the coder's `max_input`, or its estimated
    memory over what is available."""
    if n > comp.max_input:
        raise LimitError(f"{comp.spec} cannot code {what}: {n:,} B is over its limit of "
                         f"{comp.max_input:,} B ({comp.max_input_why})")
    limits.check_memory(comp.memory_bytes(n), f"{comp.spec} on {what}")


def check_length(comp: Any, length: int, stream_bytes: int, meta: bytes = b"") -> None:
    """CorruptStreamError when a header's `length` is more than the stream can hold."""
    bound = comp.length_bound(stream_bytes, meta)
    if length > bound:
        raise CorruptStreamError(f"{comp.name}: corrupt stream (its header claims {length:,} B; "
                                 f"{stream_bytes:,} B of {comp.name} stream hold at most "
                                 f"{bound:,})")
