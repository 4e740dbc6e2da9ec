"""The shared shell of the coders that code bytes as B lockstep streams of one step model.

`lstm`, `transformer` and `ensemble` differ only in the `StepModel` they build and the figures
they report; the stream layout (coding/streams.py), the meta and the torch settings are the
same, so they live here once. A coder whose model computes with torch (`uses_torch`) records
the device, threads and float fingerprint in its meta and codes under deterministic torch
settings (models/runtime.py); one that does not (an ensemble of count models) stores just the
alphabet and never imports torch.
"""

from __future__ import annotations

import contextlib
from typing import Any

from ..coding.loop import StepModel
from ..coding.streams import StreamCode, decode_streams, encode_streams, layout
from ..models import runtime
from .base import Given
from .model import ModelCoder, Payload, alphabet_meta, alphabet_of, one_symbol, read_alphabet


class LockstepCoder(ModelCoder):
    """Subclasses declare `streams`, `coder`, `device` and `threads` parameters and implement
    `step_model` and `report`."""

    @property
    def uses_torch(self) -> bool:
        """Whether the step model computes with torch (ensembles decide from their members)."""
        return True

    def step_model(self, alphabet: int, streams: int) -> StepModel:
        """A fresh model (from the spec alone: the decoder builds the same one)."""
        raise NotImplementedError

    def segment_steps(self) -> int:
        """Steps per learning-curve segment."""
        return 64

    def report(self, model: Any, code: StreamCode | None, streams: int,
               device: str) -> dict[str, Any]:
        """The coder's extras after encoding (`code` is None for a one-symbol input)."""
        return {}

    def _settings(self) -> contextlib.AbstractContextManager[None]:
        if self.uses_torch:
            return runtime.deterministic(self.config["threads"])
        return contextlib.nullcontext()

    def encode_payload(self, data: bytes, given: Given) -> Payload:
        c = self.config
        k = alphabet_of(data)
        b = layout(len(data), c["streams"])[0]
        if self.uses_torch:
            device = runtime.resolve_device(c["device"])
            meta = runtime.write_meta(device, c["threads"], k)
        else:
            device, meta = "cpu", alphabet_meta(0, k)
        if k == 1:  # one symbol: the length says it all
            return Payload(b"", 0.0, meta, self.report(None, None, b, device))
        with self._settings():
            model = self.step_model(k, b)
            code = encode_streams(model, data, coder=c["coder"], progress=given.progress,
                                  segment_steps=self.segment_steps())
        return Payload(code.payload, code.bits_ideal, meta, self.report(model, code, b, device))

    def decode_payload(self, payload: bytes, length: int, meta: bytes, given: Given) -> bytes:
        c = self.config
        if self.uses_torch:
            k = runtime.read_meta(meta, runtime.resolve_device(c["device"]), c["threads"])
        else:
            k = read_alphabet(self.name, 0, meta)
        if k == 1:
            return one_symbol(payload, length)
        with self._settings():
            model = self.step_model(k, layout(length, c["streams"])[0])
            return decode_streams(model, payload, length, coder=c["coder"],
                                  progress=given.progress)
