"""The torch settings that decide a coder's floats, in one place.

A torch coder's encoder and decoder must compute bit-identical probabilities. Besides the spec,
these depend on: torch's deterministic-algorithm switch, the number of intra-op threads (it
changes the order of float reductions), the device, and the kernels the torch build picks for
this CPU or GPU. Every torch coder sets them through this module (`deterministic`, `settle`,
`seeded`, `resolve_device`), and streams record the device, threads and a CRC-32 of the
`fingerprint` in their meta (`write_meta`), so a decoder elsewhere refuses with a clear message
instead of producing garbage.

torch is imported inside each function: importing this module (as every coder module may) must
not cost the seconds a torch import takes, nor import it for coders that do not use it.
"""

from __future__ import annotations

import contextlib
import os
import zlib
from collections.abc import Iterator

from ..coding import varint
from ..errors import CorruptStreamError, UsageError

DEVICES = ("cpu", "cuda")


def resolve_device(name: str) -> str:
    """'cpu' | 'cuda' | 'auto' -> the device type to run on; UsageError if cuda is missing."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda":
        if not torch.cuda.is_available():
            raise UsageError("device=cuda asked for, but torch sees no CUDA GPU here "
                             "(use --device cpu or auto)")
        # cuBLAS is deterministic only with a fixed workspace; must be set before it starts.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return name


def pin_device(config: dict[str, object]) -> None:
    """A coder's `device=auto` replaced by the device it picks here, so that its spec (and
    the stream's) names where its floats come from: the same work costs the same bits however
    the device was spelled."""
    if config.get("device") == "auto":
        try:
            config["device"] = resolve_device("auto")
        except ImportError:  # no torch: the coder says so when it runs, as for any device
            pass


def fingerprint(device: str) -> str:
    """What determines the floats besides the spec: torch build and the kernels it will pick."""
    import torch

    if device == "cuda":
        where = (f"{torch.cuda.get_device_name(0)};cuda={torch.version.cuda};"
                 f"cudnn={torch.backends.cudnn.version()}")
    else:
        where = f"cpu={torch.backends.cpu.get_cpu_capability()}"
    return f"torch={torch.__version__};{where}"


def settle(threads: int) -> None:
    """Deterministic kernels and `threads` intra-op threads from now on (cheap when already so:
    step models call it before every prediction, in case other code changed the settings)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if not torch.are_deterministic_algorithms_enabled():
        torch.use_deterministic_algorithms(True)


@contextlib.contextmanager
def deterministic(threads: int = 1) -> Iterator[None]:
    """`settle(threads)` inside; the caller's settings restored afterwards."""
    import torch

    old_det, old_threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(old_det)
        torch.set_num_threads(old_threads)


@contextlib.contextmanager
def seeded(seed: int | None = None) -> Iterator[None]:
    """torch's global CPU generator seeded with `seed` inside (left as it is when None), and
    restored afterwards: initialising a network neither depends on nor disturbs the caller's
    random state."""
    import torch

    with torch.random.fork_rng(devices=[]):
        if seed is not None:
            torch.manual_seed(seed)
        yield


def warm_up() -> None:
    """Pay torch's one-off costs before anything is timed (turning deterministic algorithms on
    the first time imports torch._inductor: seconds)."""
    with deterministic():
        pass


def write_setup(device: str, threads: int) -> bytes:
    """What decides a torch coder's floats besides the spec, for its stream's meta:
    [device 1B][threads varint][CRC-32 of fingerprint 4B]."""
    crc = zlib.crc32(fingerprint(device).encode())
    return bytes([DEVICES.index(device)]) + varint.encode(threads) + crc.to_bytes(4, "little")


def read_setup(meta: bytes, device: str, threads: int) -> int:
    """Check that this machine reproduces the encoder's floats (`write_setup` at the start of
    `meta`); return where the rest of the meta starts."""
    if len(meta) < 6 or meta[0] >= len(DEVICES):
        raise CorruptStreamError("corrupt stream (bad torch coder meta)")
    enc_device = DEVICES[meta[0]]
    enc_threads, pos = varint.decode(meta, 1)
    if pos + 4 > len(meta):
        raise CorruptStreamError("corrupt stream (bad torch coder meta)")
    if enc_device != device:
        raise UsageError(f"this stream was encoded on {enc_device}, but decoding would run on "
                         f"{device}: floats differ across devices, so decode with "
                         f"--device {enc_device} on a machine that has one")
    if enc_threads != threads:
        raise CorruptStreamError(f"corrupt stream (meta says {enc_threads} threads, spec says "
                                 f"{threads})")
    crc = int.from_bytes(meta[pos:pos + 4], "little")
    here = fingerprint(device)
    if crc != zlib.crc32(here.encode()):
        raise UsageError(f"this stream was encoded with another torch build, CPU kernel set or "
                         f"GPU model than this one ({here}); its floats would differ: decode "
                         f"it where it was encoded")
    return pos + 4


def write_meta(device: str, threads: int, alphabet: int) -> bytes:
    """A neural byte coder's stream meta: `write_setup`, then [alphabet-1 1B]: 7 bytes."""
    return write_setup(device, threads) + bytes([alphabet - 1])


def read_meta(meta: bytes, device: str, threads: int) -> int:
    """Check that this machine reproduces the encoder's floats; return the alphabet size."""
    pos = read_setup(meta, device, threads)
    if pos + 1 != len(meta):
        raise CorruptStreamError("corrupt stream (bad neural coder meta)")
    return meta[pos] + 1
