"""Neural prequential coders (lstm, transformer, and users' models through the TorchCoder
adapter): ragged layouts, payload near the ideal, device checks, segment bits by hand, the step
path against the training path, window and recurrent protocols. Tiny models, small data. (Edge
inputs, determinism and damaged streams: tests/test_compressors.py.)"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from mdlbench import api, plugins
from mdlbench.coding import container
from mdlbench.coding.streams import coarsen, layout
from mdlbench.compressors import create
from mdlbench.compressors.torchcoder import TorchCoder, torch_params
from mdlbench.errors import CorruptStreamError, UsageError
from mdlbench.models.runtime import fingerprint, write_meta
from mdlbench.params import Param

TINY = {
    "lstm": "lstm:hidden=16,embed=8,streams=16,train_every=4",
    "transformer": "transformer:layers=1,dim=16,heads=2,context=8,lr=0.01,streams=16,"
                   "train_every=4",
}
TEXT = b"the quick brown fox jumps over the lazy dog. " * 60


@pytest.fixture(params=sorted(TINY))
def tiny(request: pytest.FixtureRequest) -> str:
    return TINY[request.param]


def roundtrip(spec: str, data: bytes):
    comp = create(spec)
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data
    assert api.decode_bytes(enc.blob) == data  # self-describing: spec read back from the stream
    return enc


@pytest.mark.parametrize("coder", ["range", "ans"])
def test_payload_near_the_ideal(tiny: str, coder: str) -> None:
    enc = roundtrip(f"{tiny},coder={coder}", TEXT[:700])
    payload = container.unwrap(enc.blob)[1]
    assert enc.bits_ideal - 1 < 8 * len(payload) < enc.bits_ideal * 1.005 + 96


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 33, 100])
def test_ragged_layouts(n: int) -> None:
    data = bytes((i * 7 + 3) % 11 for i in range(n))
    roundtrip(TINY["lstm"], data)
    b, q, r = layout(n, 16)
    assert b == min(16, n) and q * b + r == n


def test_seed_matters(tiny: str) -> None:
    assert create(tiny + ",seed=1").encode(TEXT).blob != create(tiny).encode(TEXT).blob


def test_it_learns(tiny: str) -> None:
    segs = create(tiny).encode(TEXT * 2).extras["segments"]
    first = segs[0]["bits"] / segs[0]["bytes"]
    last = sum(s["bits"] for s in segs[-5:]) / sum(s["bytes"] for s in segs[-5:])
    assert last < 0.7 * first


def test_segment_bits_by_hand(tiny: str) -> None:
    """Redo the first segment from the model's own probabilities: Σ -ln p / ln 2 bits."""
    comp = create(tiny)
    data = TEXT[:400]
    enc = comp.encode(data)
    segs = enc.extras["segments"]
    assert sum(s["bytes"] for s in segs) == len(data)
    assert sum(s["bits"] for s in segs) == pytest.approx(enc.bits_ideal, rel=1e-12)
    k, (b, q, _r) = max(data) + 1, layout(len(data), comp.config["streams"])
    t_seg = comp.config["train_every"]
    model = comp.step_model(k, b)
    streams = np.frombuffer(data, dtype=np.uint8).reshape(b, q).T.astype(np.int64)
    nats = 0.0
    for t in range(t_seg):
        p = model.predict()
        p = p / p.sum(axis=1, keepdims=True)
        nats += float(-np.log(p[np.arange(b), streams[t]]).sum())
        model.update(streams[t])
    assert segs[0]["bytes"] == t_seg * b
    assert segs[0]["bits"] == pytest.approx(nats / math.log(2), rel=1e-9)
    assert segs[0]["bits"] > 1.4 * nats  # bits, not nats
    # the first step is the untrained network: close to uniform, about log2 K bits per byte
    assert segs[0]["bits"] / segs[0]["bytes"] == pytest.approx(math.log2(k), rel=0.2)


def _rewrap(blob: bytes, meta: bytes) -> bytes:
    header, payload = container.unwrap(blob)
    return container.wrap(header.spec, TEXT[:300], payload, meta)


def test_stream_from_another_device_is_refused(tiny: str) -> None:
    comp = create(tiny)
    blob = comp.encode(TEXT[:300]).blob
    meta = container.unwrap(blob)[0].meta
    forged = bytes([1]) + meta[1:]  # says: encoded on cuda
    with pytest.raises(UsageError, match="encoded on cuda"):
        comp.decode(_rewrap(blob, forged))
    other = bytearray(meta)
    other[2] ^= 0xFF  # fingerprint CRC of another torch build / CPU kernel set
    with pytest.raises(UsageError, match="another torch build"):
        comp.decode(_rewrap(blob, bytes(other)))
    with pytest.raises(CorruptStreamError):
        comp.decode(_rewrap(blob, meta[:3]))


def test_coarsened_learning_curve() -> None:
    segs = [{"bytes": 8, "bits": float(i)} for i in range(2500)]
    out = coarsen(segs, 1000)
    assert len(out) == 834 and out[0] == {"bytes": 24, "bits": 3.0}
    assert sum(s["bits"] for s in out) == sum(s["bits"] for s in segs)
    assert coarsen(segs[:10]) == segs[:10]


def test_meta_records_the_float_setup() -> None:
    meta = write_meta("cpu", 1, 200)
    assert len(meta) == 7 and meta[0] == 0 and meta[-1] == 199
    assert torch.__version__ in fingerprint("cpu")


def test_bad_parameters() -> None:
    with pytest.raises(UsageError, match="multiple of heads"):
        create("transformer:dim=10,heads=4")
    with pytest.raises(UsageError):
        create("lstm:device=tpu")
    if not torch.cuda.is_available():
        with pytest.raises(UsageError, match="CUDA"):
            create("lstm:device=cuda").encode(b"abc")


def test_settings_restored() -> None:
    before = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    create(TINY["lstm"]).encode(TEXT[:100])
    assert (torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()) == before


def test_lstm_step_matches_sequence_forward() -> None:
    from mdlbench.models.lstm import LSTMConfig, LSTMModel

    torch.manual_seed(0)
    net = LSTMModel(LSTMConfig(alphabet=20, embed=8, hidden=16, layers=2))
    x = torch.randint(0, 21, (30, 3))
    with torch.no_grad():
        full, _ = net(x, net.initial_state(3, torch.device("cpu")))
        state = net.initial_state(3, torch.device("cpu"))
        steps = []
        for t in range(30):
            logits, state = net.step(x[t], state)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps), full, atol=1e-5, rtol=1e-4)


def test_transformer_step_matches_windowed_forward() -> None:
    """The ring-buffer KV cache with ALiBi gives the causal windowed attention, past the window."""
    from mdlbench.models.transformer import TransformerConfig, TransformerModel

    torch.manual_seed(0)
    net = TransformerModel(TransformerConfig(alphabet=20, layers=2, dim=16, heads=2, context=6))
    x = torch.randint(0, 21, (3, 25))
    with torch.no_grad():
        full = net(x)
        cache = net.new_cache(3, torch.device("cpu"))
        steps = torch.stack([net.step(x[:, t], cache) for t in range(25)], 1)
    torch.testing.assert_close(steps, full, atol=1e-5, rtol=1e-4)


def test_api_run_records_segments(tmp_path) -> None:
    recs = api.run(["markov:order=1,k=4,n=3000"], [TINY["lstm"]], results_dir=tmp_path)
    (rec,) = recs
    assert rec.verified
    assert rec.extras["segments"] and rec.bits_ideal < rec.bits
    assert rec.bits > rec.dataset.limit_bits - 64  # no coder beats the true source


@pytest.mark.slow
def test_default_models_round_trip_on_bible() -> None:
    from mdlbench.datasets import load

    data = load("bible").data[:30000]
    for spec in ("lstm", "transformer"):
        enc = roundtrip(spec, data)
        assert enc.bits / len(data) < 4.5


# ----------------------------------------------------------------------------- the adapter

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class CausalConv(torch.nn.Module):
    """A window model with no cache: one causal convolution over the last C symbols."""

    def __init__(self, alphabet: int, context: int) -> None:
        super().__init__()
        self.context = context
        self.embed = torch.nn.Embedding(alphabet + 1, 8)
        self.conv = torch.nn.Conv1d(8, 16, context)
        self.head = torch.nn.Linear(16, alphabet)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.nn.functional.pad(self.embed(x).transpose(1, 2), (self.context - 1, 0))
        return self.head(torch.tanh(self.conv(h)).transpose(1, 2))


class ConvCoder(TorchCoder):
    name = "conv"
    params = (Param("context", int, 6, "window", min=2), *torch_params(streams=8, train_every=4,
                                                                        lr=0.01))

    def build(self, alphabet: int) -> torch.nn.Module:
        return CausalConv(alphabet, self.config["context"])

    def context(self) -> int | None:
        return self.config["context"]

    def optimizer(self, params):
        return torch.optim.SGD(params, lr=self.config["lr"] * 10)


def test_window_model_without_a_cache() -> None:
    """Each prediction runs forward on the last C inputs again; the decoder does the same."""
    comp = ConvCoder()
    enc = comp.encode(TEXT[:1500])
    assert comp.decode(enc.blob) == TEXT[:1500]
    assert ConvCoder().encode(TEXT[:1500]).blob == enc.blob
    assert isinstance(comp.step_model(256, 8).opt, torch.optim.SGD)
    segs = enc.extras["segments"]
    assert sum(s["bits"] for s in segs) == pytest.approx(enc.bits_ideal, rel=1e-12)
    last = sum(s["bits"] for s in segs[-5:]) / sum(s["bytes"] for s in segs[-5:])
    assert last < 0.7 * segs[0]["bits"] / segs[0]["bytes"]  # it learned


def test_window_prediction_sees_only_the_last_c_symbols() -> None:
    """Histories whose last C inputs agree get the same distribution; others do not."""
    def after(history: list[int]) -> np.ndarray:
        model = ConvCoder(context=4, train_every=100).step_model(5, 1)  # no training here
        for s in history:
            model.predict()
            model.update(np.array([s]))
        return model.predict()

    np.testing.assert_array_equal(after([1, 2, 3, 0, 4, 4, 1]), after([3, 3, 0, 4, 4, 1]))
    assert not np.array_equal(after([1, 2, 3, 0, 4, 4, 1]), after([3, 3, 2, 4, 4, 1]))


def test_recurrent_example_plugin_by_hand(fresh_registries) -> None:
    """examples/gru_coder.py (no `step`: forward on T = 1 codes): round trip from the stream
    alone, and the first segment's bits redone from the model's own probabilities."""
    plugins.load_file(EXAMPLES / "gru_coder.py")
    comp = create("gru:hidden=16,embed=4,streams=4,train_every=4")
    data = TEXT[:400]
    enc = comp.encode(data)
    assert api.decode_bytes(enc.blob) == data
    k, (b, q, _r) = max(data) + 1, layout(len(data), 4)
    model = comp.step_model(k, b)
    assert type(model.opt).__name__ == "RMSprop"
    streams = np.frombuffer(data, dtype=np.uint8).reshape(b, q).T.astype(np.int64)
    bits = 0.0
    for t in range(4):
        p = model.predict()
        bits -= float(np.log2(p[np.arange(b), streams[t]] / p.sum(axis=1)).sum())
        model.update(streams[t])
    assert enc.extras["segments"][0]["bits"] == pytest.approx(bits, rel=1e-9)


def test_a_torch_coder_without_its_parameters_is_refused() -> None:
    class Bare(TorchCoder):
        name = "bare"
        params = (Param("hidden", int, 8, "units"),)

    with pytest.raises(UsageError, match=r"params end with \*torch_params\(\) \(missing: coder"):
        Bare()


# ----------------------------------------------------------------------------- the encoder's path


def _two_models(spec: str) -> tuple[np.ndarray, Any, Any, int]:
    """640 bytes of text as 16 lockstep streams ((q, B) symbols), two fresh step models of
    `spec` (the GRU example registered), and its training segment length."""
    plugins.load_file(EXAMPLES / "gru_coder.py")
    comp = create(spec)
    data = TEXT[:640]
    k, (b, q, _r) = max(data) + 1, layout(len(data), 16)
    streams = np.frombuffer(data, dtype=np.uint8).reshape(b, q).T.astype(np.int64)
    return streams, comp.step_model(k, b), comp.step_model(k, b), comp.config["train_every"]


@pytest.mark.parametrize("spec", [
    *TINY.values(), "gru:hidden=8,embed=4,streams=16,train_every=4",
    "lstm:hidden=16,embed=8,layers=2,streams=16,train_every=8,windows=4,kernel=numba",
    "lstm:hidden=16,embed=8,streams=16,train_every=8,windows=2",
    "gru:hidden=8,embed=4,streams=16,train_every=8,windows=4"])
def test_segment_path_is_the_step_path(spec: str, fresh_registries) -> None:
    """The encoder's `encode_segment` gives, bit for bit, the rows the decoder's `predict` gives
    step by step, across training segments (the weights they learn stay equal), and the ideal
    bits of those rows."""
    from mdlbench.coding.core import ideal_bits

    streams, enc, dec, t_seg = _two_models(spec)
    q, b = streams.shape
    for t0 in range(0, q, t_seg):
        rows = streams[t0:t0 + t_seg]
        p_seg, bits = enc.encode_segment(rows)
        p_step = []
        for row in rows:
            p_step.append(dec.predict().copy())
            dec.update(row)
        np.testing.assert_array_equal(p_seg, np.concatenate(p_step))
        assert bits == pytest.approx(ideal_bits(rows.reshape(-1), p_seg), rel=1e-12)
    assert enc.updates == dec.updates == q // t_seg
    with pytest.raises(ValueError, match="past the end"):
        enc.encode_segment(np.zeros((t_seg + 1, b), dtype=np.int64))


@pytest.mark.parametrize("spec", [*TINY.values(), "gru:hidden=8,embed=4,streams=16,train_every=4"])
def test_several_segments_per_call_are_one_at_a_time(spec: str, fresh_registries) -> None:
    """`encode_segments` over several segments (starting mid-segment, ending in a part of one)
    gives the rows and the per-segment ideal bits, float for float, of one `encode_segment`
    call per segment; and the stream does not depend on how many segments `code_segments`
    hands the model per call."""
    from mdlbench.coding import loop

    streams, one, many, t_seg = _two_models(spec)
    q = len(streams)
    p_one, bits_one = [], []
    for t0, t1 in [(0, 1), (1, t_seg), *((t, t + t_seg) for t in range(t_seg, q, t_seg))]:
        p, bits = one.encode_segment(streams[t0:t1])
        p_one.append(p)
        bits_one.append(bits)
    p_head, bits_head = many.encode_segments(streams[:1])
    p_rest, bits_rest = many.encode_segments(streams[1:])
    np.testing.assert_array_equal(np.concatenate([p_head, p_rest]), np.concatenate(p_one))
    assert bits_head + bits_rest == bits_one
    assert one.updates == many.updates == q // t_seg
    blobs = []
    for values in (1, loop.BATCH_VALUES, 1 << 30):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(loop, "BATCH_VALUES", values)
            blobs.append(create(spec).encode(TEXT[:640]).blob)
    assert blobs[0] == blobs[1] == blobs[2]


def test_lstm_step_follows_the_weights_after_training() -> None:
    """The step path caches the embedding x input-weights table; after an optimiser step it
    must use the new weights (TorchStep calls `refresh()`), not the table of the old ones."""
    comp = create(TINY["lstm"] + ",layers=2")
    model = comp.step_model(30, 3)
    rng = np.random.default_rng(0)
    for _ in range(3 * comp.config["train_every"]):
        model.predict()
        model.update(rng.integers(0, 30, 3))
    assert model.updates == 3
    net, x = model.net, torch.tensor([1, 5, 29])
    with torch.no_grad():
        state = net.initial_state(3, torch.device("cpu"))
        step, _ = net.step(x, state)
        full, _ = net(x[None], state)
    torch.testing.assert_close(step, full[0], atol=1e-5, rtol=1e-4)


def test_fused_step_is_one_path_and_near_torchs() -> None:
    """kernel=numba: `steps` over a segment gives, bit for bit, what `step` gives one row at a
    time (the encoder and the decoder take those two routes), and what the torch step gives up
    to float32 rounding."""
    from mdlbench.models.lstm import LSTMConfig, LSTMModel

    torch.manual_seed(0)
    net = LSTMModel(LSTMConfig(alphabet=20, embed=8, hidden=16, layers=2))
    fused = LSTMModel(LSTMConfig(alphabet=20, embed=8, hidden=16, layers=2, fused=True))
    fused.load_state_dict(net.state_dict())
    x = torch.randint(0, 21, (30, 3))
    with torch.no_grad():
        state = fused.initial_state(3, torch.device("cpu"))
        whole, _ = fused.steps(x, state)
        rows, ref = [], []
        s_fused, s_torch = state, net.initial_state(3, torch.device("cpu"))
        for t in range(30):
            logits, s_fused = fused.step(x[t], s_fused)
            rows.append(logits)
            logits, s_torch = net.step(x[t], s_torch)
            ref.append(logits)
    assert torch.equal(torch.stack(rows), whole)
    torch.testing.assert_close(whole, torch.stack(ref), atol=1e-5, rtol=1e-4)


def test_windows_train_on_the_segment_side_by_side() -> None:
    """windows=W: the loss is the mean cross-entropy of the segment's W windows, each run by
    the training forward from the state the coding path had at its start (by hand here)."""
    from torch.nn import functional as F

    comp = create("lstm:hidden=16,embed=8,streams=3,train_every=12,windows=3,kernel=numba")
    model = comp.step_model(20, 3)
    rng = np.random.default_rng(1)
    seg = torch.from_numpy(rng.integers(0, 20, (12, 3)))
    start = model.x
    for row in seg[:-1]:
        model.predict()
        model.update(row.numpy())
    assert len(model.starts) == 2
    rows = torch.cat((start[None], seg))
    inputs = rows[:-1]
    losses = []
    with torch.no_grad():
        state = model.seg_state
        for w, begin in enumerate((model.seg_state, *model.starts)):
            logits, _ = model.net(inputs[4 * w:4 * w + 4], begin)
            losses.append(F.cross_entropy(logits.reshape(-1, 20), seg[4 * w:4 * w + 4].reshape(-1)))
            _, state = model.net.steps(inputs[4 * w:4 * w + 4], state)
            if w < 2:  # the recorded start of the next window is the coding path's state
                assert np.array_equal(state[0], model.starts[w][0])
        torch.testing.assert_close(model._loss(rows), torch.stack(losses).mean())


def test_bad_windows_are_refused() -> None:
    with pytest.raises(UsageError, match="multiple"):
        create("lstm:train_every=8,windows=3")
    with pytest.raises(UsageError, match="recurrent"):
        create("transformer:windows=2")
    roundtrip("lstm:hidden=16,embed=8,streams=1,train_every=16,windows=4,kernel=numba", TEXT[:500])


def test_device_auto_is_pinned_to_the_device_it_picks(tmp_path):
    """`device=auto` names the device it runs on in the spec and the stream, so the same
    computation costs the same bits and is the same board row however the device is spelled
    (it cost 96 bits more, and a row of its own, as `device=auto`)."""
    import torch

    here = "cuda" if torch.cuda.is_available() else "cpu"
    recs = [api.run(["iid:n=1000"], ["lstm:hidden=8"], results_dir=tmp_path / d,
                    progress=False, repeat=1, overrides={"device": d})[0]
            for d in (here, "auto")]
    assert recs[0].compressor.spec == recs[1].compressor.spec
    assert recs[0].bits == recs[1].bits
    assert create("lstm:hidden=8,device=auto").config["device"] == here
