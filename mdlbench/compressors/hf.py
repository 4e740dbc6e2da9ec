"""`hf`: the code length of data under a pretrained causal language model from transformers,
raw and with the model's own size added (DeepMind's "Language Modeling Is Compression", LMIC).

`hf:model=NAME_OR_PATH` loads any causal LM that transformers loads: a folder written by
`save_pretrained`, or a hub id that is cached (or reachable; HF_HUB_OFFLINE=1 is honoured).
The data's token ids are arithmetic-coded (constriction, coding/core.py) under the model's
next-token distributions, quantised deterministically from float64 floored at PROB_FLOOR.

The protocol, as the record's extras state it:
- Text: the tokenizer must be lossless (detokenise ∘ tokenise = the text), checked on every
  chunk; one that is not (a normaliser, unknown tokens, an added prefix space) is an error. A
  chunk that is not valid UTF-8 is read as Latin-1, one character per byte, so any bytes can be
  coded and are coded by the model itself (byte-level BPE is lossless on such text too; the
  model is merely worse at it).
- Chunks (`chunk`, default 2048 bytes, LMIC's protocol): each is coded on its own, starting
  from the model's BOS token, or, for a model without one, with its first token under a uniform
  code over the vocabulary (log2 V bits). A cut is moved back to the start of a UTF-8
  character, so chunks hold at most `chunk` bytes. `chunk=0` codes the input as one sequence.
- Long sequences: a sliding window of `context` tokens (default the model's maximum); when it
  is full it restarts from its last `context - stride` tokens, so every token is predicted from
  at least that many (at `context / stride` times the compute of one pass).
- One path for encoder and decoder: the window's first tokens in one forward pass, then token
  by token with the model's KV cache; the decoder, which learns each token only when it has
  decoded it, makes exactly these calls. `batch` chunks run side by side, aligned (no padding):
  the decoder reads the token count of each chunk from the stream's meta.

The stream's meta: the torch float setup (models/runtime.py: device, threads, build), a CRC-32
of the model's files (a stream refuses to decode under another model), and per chunk its token
count and whether it was read as Latin-1. `pretrained()` gives the parameter count and the size
in bits under three stated conventions (`CONVENTIONS`: the weights at their stored precision,
from the safetensors headers; every file of the model folder the decoder reads, weights, config
and tokenizer; LMIC's 16 bits a parameter), which records add to `bits` as `bits_with_model`,
`bits_with_model_files` and `bits_lmic`; `decoder_files()` names the folder's files for the
decoder's share (mdlbench.decoder_share); `fingerprint()` puts their hash in the cell key.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import math
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .. import limits
from ..coding import varint
from ..coding.core import PROB_FLOOR, Decoder, Encoder
from ..errors import CorruptStreamError, DataError, UsageError
from ..models import runtime
from ..params import Param
from .base import NOTHING_GIVEN, Given, register
from .model import ModelCoder, Payload

DTYPES = ("float32", "float64", "bfloat16", "float16")
INSTALL = "hf: needs transformers, which is not installed: pip install 'mdlbench[hf]'"


@register
class HFCoder(ModelCoder):
    name = "hf"
    family = "pretrained"
    library = "transformers"
    summary = "a pretrained causal language model (transformers): its tokens, arithmetic-coded"
    params = (
        Param("model", str, "", "folder saved by save_pretrained, or a hub id (cached or online)"),
        Param("chunk", int, 2048, "bytes per independently coded chunk (0: one sequence)",
              min=0, max=2**31 - 1),
        Param("context", int, 0, "tokens in the window (0: the model's maximum)", min=0,
              max=1 << 20),
        Param("stride", int, 0, "tokens the window moves when full (0: context / 2)", min=0,
              max=1 << 20),
        Param("batch", int, 16, "chunks coded side by side in one forward pass", min=1,
              max=4096),
        Param("dtype", str, "float32", "weights and activations", choices=DTYPES),
        Param("device", str, "cpu", "where the model runs", choices=("cpu", "cuda", "auto")),
        Param("threads", int, 1, "torch CPU threads (they can change the floats)", min=1,
              max=256),
        Param("coder", str, "range", "entropy coder", choices=("range", "ans")),
    )

    def validate(self) -> None:
        """Fail before anything runs: no model named, a missing folder, no transformers, a
        model that is not a causal LM, a window that does not fit it."""
        c = self.config
        runtime.pin_device(c)
        if not c["model"]:
            raise UsageError("hf: which model? hf:model=NAME_OR_PATH (a folder written by "
                             "transformers' save_pretrained, or a hub id)")
        self.window()

    # ----------------------------------------------------------------- the model

    def window(self) -> tuple[int, int]:
        """(context C, stride S) in tokens."""
        c = self.config
        top = _max_positions(c["model"])
        context = c["context"] or top
        if context is None:
            raise UsageError(f"hf: {c['model']} does not say how many positions it takes: "
                             f"give context=TOKENS")
        if top is not None and context > top:
            raise UsageError(f"hf: context={context} is more than the {top} positions "
                             f"{c['model']} takes")
        stride = c["stride"] or context // 2
        if not 1 <= stride < context:
            raise UsageError(f"hf: stride={stride} must be at least 1 and below "
                             f"context={context}")
        return context, stride

    def fingerprint(self) -> str:
        return "model:" + _digest(_folder(self.config["model"]))

    def pretrained(self) -> dict[str, Any] | None:
        return _size(self.config["model"])

    def decoder_files(self) -> list[tuple[str, Path]]:
        """What the decoder reads besides the stream: every file of the model folder (weights,
        config, tokenizer; their CRC is checked against the stream's), as ("model/NAME", path)."""
        return [(f"model/{p.name}", p) for p in _files(_folder(self.config["model"]))]

    def _lm(self) -> tuple[Any, Any, str]:
        c = self.config
        device = runtime.resolve_device(c["device"])
        lm, tok = _load(c["model"], c["dtype"], device)
        return lm, tok, device

    def warm_up(self, sample: bytes, given: Given = NOTHING_GIVEN) -> None:
        self._lm()  # loading the model is the one-off cost
        super().warm_up(sample, given)

    # ----------------------------------------------------------------- coding

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        c = self.config
        lm, tok, device = self._lm()
        chunks = _chunks(data, c["chunk"])
        texts, latin = zip(*(_text(ch) for ch in chunks), strict=True)
        ids = _tokenize(tok, list(texts), chunks, c["model"])
        vocab = _vocab(lm)
        top = max((max(t) for t in ids if t), default=0)
        if top >= vocab:
            raise UsageError(f"hf: the tokenizer gives token {top}, beyond the {vocab} outputs "
                             f"of {c['model']}")
        counts = [len(t) for t in ids]
        enc = Encoder(c["coder"])
        with runtime.deterministic(c["threads"]):
            for group in _groups(counts, c["batch"]):
                tokens = np.zeros((max(counts[i] for i in group), len(group)), dtype=np.int64)
                for j, i in enumerate(group):
                    tokens[:counts[i], j] = ids[i]
                self._code(lm, tok, device, [counts[i] for i in group], encoder=enc,
                           tokens=tokens)
                given.tell(sum(len(chunks[i]) for i in range(group[-1] + 1)), len(data),
                           enc.bits_ideal)
        meta = (runtime.write_setup(device, c["threads"]) + self._model_crc()
                + varint.encode(len(chunks))
                + b"".join(varint.encode(2 * n + f) for n, f in zip(counts, latin, strict=True)))
        return Payload(enc.finish(), enc.bits_ideal, meta,
                       self._extras(tok, device, len(chunks), sum(counts), sum(latin)))

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        c = self.config
        lm, tok, device = self._lm()
        pos = runtime.read_setup(meta, device, c["threads"])
        if meta[pos:pos + 4] != self._model_crc():
            raise UsageError(f"this stream was encoded under another model than "
                             f"{c['model']} (its files differ): decode it with that model")
        n, pos = varint.decode(meta, pos + 4)
        if n > length:
            raise CorruptStreamError("corrupt stream (more chunks than bytes)")
        flags = []
        for _ in range(n):
            v, pos = varint.decode(meta, pos)
            flags.append(v)
        if pos != len(meta):
            raise CorruptStreamError("corrupt stream (bad hf meta)")
        counts = [v >> 1 for v in flags]
        if sum(counts) > 4 * length + n:  # no tokenizer spends 4 tokens on a byte
            raise CorruptStreamError("corrupt stream (more tokens than the data can hold)")
        dec = Decoder(payload, c["coder"])
        ids: list[list[int]] = [[] for _ in counts]
        with runtime.deterministic(c["threads"]):
            for group in _groups(counts, c["batch"]):
                tokens = self._code(lm, tok, device, [counts[i] for i in group], decoder=dec)
                for j, i in enumerate(group):
                    ids[i] = tokens[:counts[i], j].tolist()
        vocab = len(tok)
        if any(t >= vocab for seq in ids for t in seq):
            raise CorruptStreamError("corrupt stream (a token beyond the tokenizer's vocabulary)")
        texts = tok.batch_decode(ids, skip_special_tokens=False,
                                 clean_up_tokenization_spaces=False)
        try:
            return b"".join(t.encode("latin-1" if f & 1 else "utf-8")
                            for t, f in zip(texts, flags, strict=True))
        except UnicodeEncodeError:
            raise CorruptStreamError("corrupt stream (decoded text is not Latin-1)") from None

    def _code(self, lm: Any, tok: Any, device: str, counts: list[int], *,
              encoder: Encoder | None = None, tokens: np.ndarray | None = None,
              decoder: Decoder | None = None) -> np.ndarray:
        """Code the tokens of aligned chunks (one column each): the one loop of encoder and
        decoder. Returns the (steps, chunks) tokens, zero past each chunk's end."""
        steps = max(counts)
        out = tokens if tokens is not None else np.zeros((steps, len(counts)), dtype=np.int64)
        n = np.asarray(counts)
        context, stride = self.window()
        window = Window(lm, len(counts), context, stride, _bos(tok, lm), device,
                        self.config["threads"])
        for t in range(steps):
            active = n > t
            probs = window.predict()
            if encoder is not None:
                encoder.encode(out[t, active], probs[active])
            else:
                assert decoder is not None
                out[t, active] = decoder.decode(probs[active])
            if t + 1 < steps:
                window.feed(out[t])
        return out

    def _model_crc(self) -> bytes:
        return zlib.crc32(self.fingerprint().encode()).to_bytes(4, "little")

    def _extras(self, tok: Any, device: str, chunks: int, tokens: int,
                latin: int) -> dict[str, Any]:
        context, stride = self.window()
        c = self.config
        bos = _bos(tok, None)
        protocol = (f"chunks of at most {c['chunk']} bytes, each coded on its own"
                    if c["chunk"] else "the input as one sequence")
        return {
            "protocol": f"{protocol}; window {context} tokens, stride {stride}",
            "first_token": (f"conditioned on BOS {tok.convert_ids_to_tokens(bos)!r}"
                            if bos is not None else
                            f"uniform over the vocabulary ({math.log2(_vocab(self._lm()[0])):.2f}"
                            f" bits): the model has no BOS"),
            "chunks": chunks, "tokens": tokens, "latin1_chunks": latin, "device": device,
        }


class Window:
    """Next-token distributions of a causal LM for B aligned sequences: the first tokens of a
    window in one forward pass, then one token at a time with the model's KV cache; a full
    window (`context` tokens) restarts from its last `context - stride`."""

    def __init__(self, lm: Any, rows: int, context: int, stride: int, bos: int | None,
                 device: str, threads: int) -> None:
        import torch

        self.torch, self.lm, self.rows, self.threads = torch, lm, rows, threads
        self.context, self.keep = context, context - stride
        self.device = torch.device(device)
        self.vocab = _vocab(lm)
        self.fed = torch.zeros((rows, 0), dtype=torch.long, device=self.device)
        self.cache: Any = None
        self.logits: Any = None
        self.kw = _call_names(lm)
        if bos is not None:
            self.feed(np.full(rows, bos, dtype=np.int64))

    def predict(self) -> np.ndarray:
        """(B, V) float64 weights of each row's next token (uniform before the first token of
        a model without BOS)."""
        if self.logits is None:
            return np.ones((self.rows, self.vocab))
        probs = self.logits.float().softmax(-1).double().clamp_min_(PROB_FLOOR)
        return probs.cpu().numpy()

    def feed(self, tokens: np.ndarray) -> None:
        torch = self.torch
        x = torch.from_numpy(np.ascontiguousarray(tokens, dtype=np.int64))[:, None]
        x = x.to(self.device)
        cache_kw, extra = self.kw
        runtime.settle(self.threads)
        with torch.no_grad():
            if self.fed.shape[1] < self.context:
                out = self.lm(input_ids=x, use_cache=True, **{cache_kw: self.cache}, **extra)
                self.fed = torch.cat([self.fed, x], 1)
            else:
                self.fed = torch.cat([self.fed, x], 1)[:, -self.keep:]
                out = self.lm(input_ids=self.fed, use_cache=True, **extra)
        self.cache = getattr(out, cache_kw)
        self.logits = out.logits[:, -1]


# --------------------------------------------------------------------------- text and tokens

def _chunks(data: bytes, size: int) -> list[bytes]:
    """Cuts of at most `size` bytes (all of it for 0), each moved back to a UTF-8 character's
    start when it would split one."""
    if not size or len(data) <= size:
        return [data]
    out, start = [], 0
    while start < len(data):
        cut = min(start + size, len(data))
        back = cut
        while back > start and back < len(data) and back > cut - 3 and data[back] & 0xC0 == 0x80:
            back -= 1
        if back > start and (back == len(data) or data[back] & 0xC0 != 0x80):
            cut = back
        out.append(data[start:cut])
        start = cut
    return out


def _text(chunk: bytes) -> tuple[str, int]:
    """The chunk as text, and 1 if it had to be read as Latin-1 (not valid UTF-8)."""
    try:
        return chunk.decode("utf-8"), 0
    except UnicodeDecodeError:
        return chunk.decode("latin-1"), 1


def _tokenize(tok: Any, texts: list[str], chunks: list[bytes], model: str) -> list[list[int]]:
    """Token ids of every text, checked to decode back exactly."""
    ids = tok(texts, add_special_tokens=False)["input_ids"]
    back = tok.batch_decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    start = 0
    for text, again, chunk in zip(texts, back, chunks, strict=True):
        if again != text:
            at = next((i for i, (a, b) in enumerate(zip(text, again, strict=False)) if a != b),
                      min(len(text), len(again)))
            raise UsageError(
                f"hf: the tokenizer of {model} is not lossless on this data: the chunk at byte "
                f"{start} comes back as {again[at:at + 12]!r} where the data has "
                f"{text[at:at + 12]!r} (a normaliser, unknown tokens or an added prefix "
                f"space): mdlbench codes only what decodes back exactly")
        start += len(chunk)
    return ids


def _groups(counts: list[int], batch: int) -> Iterator[list[int]]:
    """Chunk indices in groups of `batch`, leaving out empty chunks (an empty input has none)."""
    nonempty = [i for i, n in enumerate(counts) if n]
    for i in range(0, len(nonempty), batch):
        yield nonempty[i:i + batch]


def _bos(tok: Any, lm: Any) -> int | None:
    bos = getattr(tok, "bos_token_id", None)
    if bos is None and lm is not None:
        bos = getattr(lm.config, "bos_token_id", None)
    return bos


def _vocab(lm: Any) -> int:
    return int(lm.get_output_embeddings().out_features)


@functools.cache
def _call_names(lm: Any) -> tuple[str, dict[str, Any]]:
    """The cache argument's name (`cache` in transformers 5, `past_key_values` before) and
    `logits_to_keep=1` where the model takes it (only the last position's logits are used)."""
    names = inspect.signature(lm.forward).parameters
    cache = "cache" if "cache" in names else "past_key_values"
    return cache, ({"logits_to_keep": 1} if "logits_to_keep" in names else {})


# --------------------------------------------------------------------------- loading

def _transformers() -> Any:
    try:
        import transformers
    except ModuleNotFoundError as e:
        if e.name in ("transformers", "tokenizers", "torch"):
            raise UsageError(INSTALL) from None
        raise
    return transformers


def _offline(model: str) -> bool:
    """Load from the local cache only: a folder, HF_HUB_OFFLINE, or a stream being decoded
    (limits.no_network: its header may not buy a download)."""
    return (Path(model).is_dir() or os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
            or not limits.NETWORK.get())


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No progress bars, warnings or retry messages from transformers and the hub client while
    a model loads (their settings restored afterwards): an error becomes our one line. Under
    limits.no_network the hub client is offline too (even local_files_only loads ask the hub
    for its agent list)."""
    from huggingface_hub import constants as hub_constants
    from huggingface_hub.utils import logging as hub_logging

    logging = _transformers().utils.logging
    level, hub_level = logging.get_verbosity(), hub_logging.get_verbosity()
    bars = logging.is_progress_bar_enabled()
    offline = hub_constants.HF_HUB_OFFLINE
    logging.set_verbosity_error()
    hub_logging.set_verbosity(hub_logging.CRITICAL)
    logging.disable_progress_bar()
    hub_constants.HF_HUB_OFFLINE = offline or not limits.NETWORK.get()
    try:
        yield
    finally:
        hub_constants.HF_HUB_OFFLINE = offline
        logging.set_verbosity(level)
        hub_logging.set_verbosity(hub_level)
        if bars:
            logging.enable_progress_bar()


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _cannot_load(model: str, e: BaseException) -> UsageError:
    hint = "" if _looks_like_path(model) else (
        " (a hub id loads where it is cached, or the hub is reachable; HF_HUB_OFFLINE=1 uses "
        "the cache alone; a folder written by save_pretrained loads anywhere)")
    return UsageError(f"hf: cannot load {model!r}: {_first_line(e)}{hint}")


@functools.lru_cache(maxsize=8)
def _config(model: str) -> Any:
    """The model's config, checked to be a causal LM's (cheap: one small file)."""
    transformers = _transformers()
    if _looks_like_path(model) and not Path(model).is_dir():
        raise UsageError(f"hf: no model folder at {model}")
    if Path(model).is_dir():
        _check_files(Path(model))
    try:
        with _quiet():
            cfg = transformers.AutoConfig.from_pretrained(model,
                                                          local_files_only=_offline(model))
    except (OSError, ValueError) as e:
        raise _cannot_load(model, e) from None
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    if cfg.model_type not in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES:
        raise UsageError(f"hf: {model} is a {cfg.model_type!r} model, not a causal language "
                         f"model (transformers' AutoModelForCausalLM does not take it)")
    return cfg


SAFETENSORS_HEADER_MAX = 100 << 20
"""The largest safetensors JSON header read (the format's own readers refuse more)."""


def _check_files(folder: Path) -> None:
    """A folder's config.json and safetensors headers, read as data before transformers sees
    them: a zeroed, truncated or garbage file is one DataError naming it, not a crash deep in a
    library (or in `_size`)."""
    config = folder / "config.json"
    if config.is_file():
        try:
            doc = json.loads(config.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as e:
            raise DataError(f"hf: {config} is not a JSON config ({_first_line(e)})") from None
        if not isinstance(doc, dict):
            raise DataError(f"hf: {config} is not a JSON object")
    for path in sorted(folder.glob("*.safetensors")):
        _header(path)


def _header(path: Path) -> dict[str, Any]:
    """The tensors a safetensors file declares ({name: {dtype, shape, data_offsets}}),
    checked: a length that fits the file, a JSON object, whole non-negative shapes, and
    offsets inside the file's data; anything else is a DataError naming the file."""
    def bad(why: str) -> DataError:
        return DataError(f"hf: {path} is not a readable safetensors file ({why})")

    size = path.stat().st_size
    with path.open("rb") as f:
        first = f.read(8)
        if len(first) < 8:
            raise bad(f"{size} B, shorter than its 8-byte header length")
        n = int.from_bytes(first, "little")
        if n == 0 or n > min(size - 8, SAFETENSORS_HEADER_MAX):
            raise bad(f"a header of {n:,} B in a file of {size:,} B")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise bad(f"its header is not JSON: {_first_line(e)}") from None
    if not isinstance(header, dict):
        raise bad("its header is not a JSON object")
    data = size - 8 - n
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    for name, t in tensors.items():
        ok = (isinstance(t, dict) and isinstance(t.get("dtype"), str)
              and isinstance(t.get("shape"), list)
              and all(type(d) is int and d >= 0 for d in t["shape"])
              and isinstance(t.get("data_offsets"), list) and len(t["data_offsets"]) == 2
              and all(type(o) is int for o in t["data_offsets"])
              and 0 <= t["data_offsets"][0] <= t["data_offsets"][1] <= data)
        if not ok:
            raise bad(f"tensor {name!r} has a bad dtype, shape or offsets, or lies beyond the "
                      f"file's {data:,} B of data")
    return tensors


def _looks_like_path(model: str) -> bool:
    """A hub id is NAME or ORG/NAME; anything else names a folder."""
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or Path(model).exists()


def _max_positions(model: str) -> int | None:
    cfg = _config(model)
    for key in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
        value = getattr(cfg, key, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


@functools.lru_cache(maxsize=2)
def _load(model: str, dtype: str, device: str) -> tuple[Any, Any]:
    """(model on `device` in eval mode, tokenizer), once per process."""
    transformers = _transformers()
    import torch

    _config(model)
    try:
        with _quiet():
            tok = transformers.AutoTokenizer.from_pretrained(model,
                                                             local_files_only=_offline(model))
            with runtime.seeded(0):  # weights a checkpoint lacks are drawn the same every time
                lm = transformers.AutoModelForCausalLM.from_pretrained(
                    model, dtype=getattr(torch, dtype), local_files_only=_offline(model))
    except (OSError, ValueError, RuntimeError) as e:  # missing files, bad config, shapes
        raise _cannot_load(model, e) from None
    return lm.eval().to(device), tok


@functools.lru_cache(maxsize=8)
def _folder(model: str) -> Path:
    """The folder a model's files are in: the path given, or the hub cache's snapshot."""
    if Path(model).is_dir():
        return Path(model).resolve()
    _config(model)
    from transformers.utils import cached_file

    try:
        return Path(cached_file(model, "config.json", local_files_only=True)).parent
    except OSError as e:
        raise UsageError(f"hf: cannot find {model!r}'s files: {_first_line(e)}") from None


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))


def _digest(folder: Path) -> str:
    """Hash of a model folder's files, names and contents (16 hex digits)."""
    return _digest_of(folder, tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns)
                                    for p in _files(folder)))


@functools.lru_cache(maxsize=8)
def _digest_of(folder: Path, _stat: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for p in _files(folder):
        h.update(p.name.encode() + b"\0")
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):  # noqa: B023
                h.update(block)
    return h.hexdigest()[:16]


CONVENTIONS = {
    "bits": "the weights at their stored precision (float32: 32 bits a parameter)",
    "files_bits": "every file of the model folder the decoder reads (weights, config, "
                  "tokenizer), raw bytes",
    "lmic_bits": "parameters x 16 bits (2 bytes each), the convention LMIC's published "
                 "adjusted rates imply (Deletang et al. 2024)",
}
"""What each size in `pretrained()` counts: a record states it beside the figures."""


def _size(model: str) -> dict[str, Any]:
    """The model's sizes in bits under each of `CONVENTIONS`, its parameter count and its
    folder's files (name and bytes)."""
    files = _files(_folder(model))
    weights = _weights(model)
    listed = [{"name": p.name, "bytes": p.stat().st_size} for p in files]
    return {**weights, "files": listed, "files_bits": 8 * sum(f["bytes"] for f in listed),
            "lmic_bits": 16 * weights["parameters"], "conventions": dict(CONVENTIONS)}


@functools.lru_cache(maxsize=8)
def _weights(model: str) -> dict[str, Any]:
    """Parameter count and stored size of the weights: from the safetensors headers (the bytes
    each tensor takes at its stored precision), else from the loaded model at the config's
    dtype."""
    files = sorted(_folder(model).glob("*.safetensors"))
    if files:
        count = nbytes = 0
        dtypes = set()
        for path in files:
            for t in _header(path).values():
                count += math.prod(t["shape"])
                nbytes += t["data_offsets"][1] - t["data_offsets"][0]
                dtypes.add(t["dtype"])
        return {"parameters": count, "bits": 8 * nbytes, "stored_as": "+".join(sorted(dtypes))}
    import torch

    lm, _ = _load(model, "float32", "cpu")
    cfg = _config(model)
    stored = getattr(cfg, "dtype", None) or getattr(cfg, "torch_dtype", None) or torch.float32
    stored = getattr(torch, stored) if isinstance(stored, str) else stored
    count = lm.num_parameters()
    bits = count * torch.finfo(stored).bits
    return {"parameters": count, "bits": bits, "stored_as": str(stored).replace("torch.", "")}
