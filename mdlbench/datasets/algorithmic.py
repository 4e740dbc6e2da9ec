"""Algorithmic sequence tasks: data that a tiny program generates, so its Kolmogorov complexity
is small and a good MDL learner should code it far below any classical codec.

Every task is seeded and sized by the user and yields bytes over a small alphabet. Each states:

- `limit_bits`: -log2 P(sample) under the task's own generating distribution, exactly: the
  random inputs (bits, digits, symbols) cost their uniform code length, everything computed from
  them costs 0. A learner that treats the random inputs as random cannot beat it by much.
- `meta["program_bits"]`: a rough upper bound on the description length of the whole sample:
  8 × (bytes of the zlib-compressed source of the task's generator + bytes of its spec). The
  spec holds the seed, so this bounds K(sample) up to the fixed size of the Python/numpy
  interpreter; it is far below `limit_bits` for a large sample, since the seed replaces the
  random inputs, but no learner can invert a PRNG, so it is the bound of the theory, not a target.
- the formula row `(source limit + program)` = limit_bits + program_bits: a two-part code that
  sends the generator and then its random inputs at their uniform cost. A learner whose model
  class holds an exact solution should stay a bounded distance above `limit_bits` as n grows
  (the sweep of `suites/sweep.toml`, `mdlbench plot --kind sweep`).

Tasks: `parity` (bit strings and their parity), `addition` (multi-digit sums), `copy`
(copy or reverse a string), `counting` (counting modulo m) and `rational` (binary expansion of
p/q). `parity` has a hand-set exact network (mdlbench.models.bayes.handset_parity).
"""

from __future__ import annotations

import inspect
import math
import zlib
from abc import abstractmethod
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..errors import UsageError
from ..params import Param
from .base import Dataset, DatasetLoader, Reference, register_dataset

PROGRAM_ROW = "(source limit + program)"

_SEED = Param("seed", int, 0, "generator seed", min=0)


def _program_bits(fn, spec: str) -> int:
    """8 × (zlib-compressed generator source + spec): a rough upper bound on K(sample)."""
    src = inspect.getsource(fn).encode()
    return 8 * (len(zlib.compress(src, 9)) + len(spec.encode()))


class Sample(NamedTuple):
    """A task's sample before it is generated: its generator and the arguments it is called
    with, the alphabet, limit_bits (the random inputs at their uniform cost), and the symbols
    per problem (stated in meta; None for one unbroken sequence)."""

    gen: Callable[..., np.ndarray]
    args: tuple[Any, ...]
    alphabet: int
    limit: float
    period: int | None = None


class _Task(DatasetLoader):
    kind = "algorithmic"

    @abstractmethod
    def sample(self) -> Sample: ...

    def symbols(self) -> int:
        """Length of the generated sequence."""
        return int(self.config["n"]) * (self.sample().period or 1)

    def memory_bytes(self) -> int:
        return 32 * self.symbols()  # a few int64 arrays of the sequence's length, and its bytes

    def load(self) -> Dataset:
        s = self.sample()
        program = _program_bits(s.gen, self.spec)
        ref = Reference(formulas={PROGRAM_ROW: float(s.limit) + program})
        meta = {"program_bits": program, **({"period": s.period} if s.period else {})}
        return self.generated(s.gen(*s.args), s.alphabet, s.limit, entropy_bits=float(s.limit),
                              meta=meta, references=lambda: ref)


def gen_parity(n: int, length: int, seed: int) -> np.ndarray:
    """n strings of `length` random bits (symbols 0/1), each followed by its parity (2 + p)."""
    rng = np.random.default_rng(seed)
    bits = rng.integers(0, 2, size=(n, length), dtype=np.uint8)
    par = (bits.sum(axis=1) % 2).astype(np.uint8) + 2
    return np.concatenate([bits, par[:, None]], axis=1).reshape(-1)


@register_dataset
class Parity(_Task):
    name = "parity"
    summary = "bit strings (0/1) each followed by its parity symbol (2 even, 3 odd)"
    params = (
        Param("n", int, 512, "number of strings", min=1, max=1 << 24),
        Param("len", int, 4, "bits per string", min=1, max=64),
        _SEED,
    )

    def sample(self) -> Sample:
        c = self.config
        return Sample(gen_parity, (c["n"], c["len"], c["seed"]), 4, c["n"] * c["len"],
                      period=c["len"] + 1)


def gen_addition(n: int, digits: int, seed: int) -> np.ndarray:
    """n problems `a+b=s;` with `digits`-digit zero-padded operands (most significant digit
    first) and the (digits+1)-digit sum written least significant digit first. Symbols: 0-9
    digits, 10 '+', 11 '=', 12 ';'."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 10, size=(n, digits), dtype=np.int64)
    b = rng.integers(0, 10, size=(n, digits), dtype=np.int64)
    pw = 10 ** np.arange(digits - 1, -1, -1, dtype=np.int64)
    s = (a @ pw) + (b @ pw)
    sd = (s[:, None] // 10 ** np.arange(digits + 1, dtype=np.int64)[None, :]) % 10  # LSD first
    col = lambda v: np.full((n, 1), v, dtype=np.int64)  # noqa: E731
    return np.concatenate([a, col(10), b, col(11), sd, col(12)], axis=1).reshape(-1)


@register_dataset
class Addition(_Task):
    name = "addition"
    summary = "multi-digit sums 'a+b=s;' (sum least significant digit first), alphabet 13"
    params = (
        Param("n", int, 256, "number of problems", min=1, max=1 << 22),
        Param("digits", int, 3, "digits per operand", min=1, max=15),
        _SEED,
    )

    def sample(self) -> Sample:
        c = self.config
        limit = 2 * c["n"] * c["digits"] * math.log2(10)
        return Sample(gen_addition, (c["n"], c["digits"], c["seed"]), 13, limit,
                      period=3 * c["digits"] + 4)


def gen_copy(n: int, length: int, k: int, reverse: bool, seed: int) -> np.ndarray:
    """n random strings over k symbols, each followed by separator k, its copy (or reversal)
    and terminator k+1."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, k, size=(n, length), dtype=np.int64)
    t = s[:, ::-1] if reverse else s
    col = lambda v: np.full((n, 1), v, dtype=np.int64)  # noqa: E731
    return np.concatenate([s, col(k), t, col(k + 1)], axis=1).reshape(-1)


@register_dataset
class Copy(_Task):
    name = "copy"
    summary = "random strings followed by a separator and their copy or reversal"
    params = (
        Param("n", int, 256, "number of strings", min=1, max=1 << 22),
        Param("len", int, 4, "symbols per string", min=1, max=256),
        Param("k", int, 4, "alphabet of the strings (plus two separators)", min=2, max=254),
        Param("mode", str, "copy", "copy or reverse", choices=("copy", "reverse")),
        _SEED,
    )

    def sample(self) -> Sample:
        c = self.config
        args = (c["n"], c["len"], c["k"], c["mode"] == "reverse", c["seed"])
        return Sample(gen_copy, args, c["k"] + 2, c["n"] * c["len"] * math.log2(c["k"]),
                      period=2 * c["len"] + 2)


def gen_counting(n: int, m: int, step: int, seed: int) -> np.ndarray:
    """x_t = (x_0 + step·t) mod m with a random start x_0."""
    rng = np.random.default_rng(seed)
    x0 = int(rng.integers(0, m))
    return (x0 + step * np.arange(n, dtype=np.int64)) % m


@register_dataset
class Counting(_Task):
    name = "counting"
    summary = "counting modulo m from a random start: x_t = (x_0 + step·t) mod m"
    params = (
        Param("n", int, 4096, "number of symbols", min=1, max=1 << 26),
        Param("m", int, 10, "modulus (alphabet size)", min=2, max=256),
        Param("step", int, 1, "increment", min=1, max=255),
        _SEED,
    )

    def sample(self) -> Sample:
        c = self.config
        if c["step"] % c["m"] == 0:
            raise UsageError("dataset counting: step must not be a multiple of m")
        return Sample(gen_counting, (c["n"], c["m"], c["step"], c["seed"]), c["m"],
                      math.log2(c["m"]))


def gen_rational(n: int, p: int, q: int) -> np.ndarray:
    """The first n bits (0/1) of the binary expansion of the fraction p/q, by long division."""
    out = np.empty(n, dtype=np.uint8)
    r = p % q
    for i in range(n):  # n is small (a few KB); long division is inherently sequential
        r *= 2
        out[i] = r >= q
        r -= q * int(out[i])
    return out


@register_dataset
class Rational(_Task):
    name = "rational"
    summary = "binary expansion of p/q (fractional part), one bit per symbol"
    params = (
        Param("n", int, 4096, "number of bits", min=1, max=1 << 22),
        Param("p", int, 1, "numerator", min=0),
        Param("q", int, 7, "denominator", min=1, max=1 << 31),
    )

    def sample(self) -> Sample:
        c = self.config
        return Sample(gen_rational, (c["n"], c["p"], c["q"]), 2, 0.0)
