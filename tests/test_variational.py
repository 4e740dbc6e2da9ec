"""Variational MDL: bits-back and two-part streams, their accounting in bits, the adaptive
mixture prior, the algorithmic datasets and the hand-set vs random-init question."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mdlbench.coding import container
from mdlbench.coding.core import ideal_bits
from mdlbench.compressors import create
from mdlbench.compressors.variational import Variational
from mdlbench.datasets import load
from mdlbench.errors import CorruptStreamError, UsageError
from mdlbench.models.bayes import (
    MixturePrior,
    Net,
    NetConfig,
    Posterior,
    evaluate,
    nll_bits,
    train,
)
from mdlbench.models.handset import parity_mlp as handset_parity

TINY = "context=4,hidden=6,steps=60,samples=8"
TASKS = ["parity:n=50,len=5", "addition:n=20,digits=3", "copy:n=20,len=5,mode=reverse",
         "counting:n=300,m=7,step=3"]


def _parity(n=64, length=3, seed=0):
    ds = load(f"parity:n={n},len={length},seed={seed}")
    return ds, np.frombuffer(ds.data, np.uint8)


# ----------------------------------------------------------------------------- datasets
@pytest.mark.parametrize("spec", TASKS + ["rational:n=200,p=3,q=11"])
def test_algorithmic_datasets_are_deterministic_per_seed(spec):
    a, b = load(spec), load(spec)
    assert a.data == b.data and a.kind == "algorithmic"
    assert max(a.data) < a.alphabet
    assert a.meta["program_bits"] > 0 and a.limit_bits >= 0
    if not spec.startswith("rational"):                  # rational has no randomness
        assert load(spec + ",seed=1").data != a.data


def test_algorithmic_contents():
    x = np.frombuffer(load("parity:n=200,len=6,seed=3").data, np.uint8).reshape(200, 7)
    assert np.array_equal(x[:, :6].sum(axis=1) % 2 + 2, x[:, 6])
    r = np.frombuffer(load("rational:n=12,p=1,q=3").data, np.uint8)
    assert r.tolist() == [0, 1] * 6                     # 1/3 = 0.010101...b
    add = np.frombuffer(load("addition:n=50,digits=3,seed=2").data, np.uint8).reshape(50, 13)
    pw = np.array([100, 10, 1])
    s = add[:, 8:12] @ np.array([1, 10, 100, 1000])       # sum written LSD first
    assert np.array_equal(add[:, :3] @ pw + add[:, 4:7] @ pw, s)
    assert load("parity:n=100,len=4").limit_bits == 400
    with pytest.raises(UsageError):
        load("counting:m=5,step=10")


@pytest.mark.parametrize("length", [2, 4, 7])
def test_handset_parity_network_is_exact(length):
    ds, x = _parity(200, length, seed=1)
    cfg = NetConfig("mlp", 4, length + 1, length + 2)
    w = handset_parity(length, cfg)
    bits = nll_bits(Net(cfg), w, x)
    assert ds.limit_bits <= bits < ds.limit_bits * 1.001   # random bits only, parity free


@pytest.mark.parametrize("length,context,heads", [(2, 2, 1), (4, 4, 2), (4, 8, 1), (7, 7, 1)])
def test_handset_parity_transformer_is_exact(length, context, heads):
    """The hand-set one-layer transformer predicts every parity symbol (argmax, on the coding
    path) and each costs ~0 bits: the sample costs its random bits, as the source does."""
    from mdlbench.models.bayes import windows
    from mdlbench.models.handset import parity_transformer

    ds, x = _parity(300, length, seed=2)
    cfg = NetConfig("transformer", 4, context, length + 2, 16, heads)
    net = Net(cfg)
    w = parity_transformer(length, cfg)
    assert ds.limit_bits <= nll_bits(net, w, x) < ds.limit_bits * 1.0001
    p = net.numpy_params(w)
    ctx = windows(x, context, 4)
    pos = np.flatnonzero(x >= 2)
    assert all(np.argmax(net.step_probs(p, ctx[i])) == x[i] for i in pos)
    bits = np.array([net.step_probs(p, ctx[i])[:2] for i in range(len(x)) if x[i] < 2])
    assert np.array_equal(bits[:, 0], bits[:, 1]) and bits.min() > 0.498  # an even guess
    with pytest.raises(ValueError, match="width"):
        parity_transformer(length, NetConfig("transformer", 4, context, length + 2, 8, 1))


def test_handset_counting_mlp_is_exact():
    from mdlbench.models.handset import counting_step, for_data

    ds = load("counting:n=400,m=7,step=3,seed=5")
    x = np.frombuffer(ds.data, np.uint8)
    cfg = NetConfig("mlp", 7, 2, 8)
    assert counting_step(x, 7) == 3
    assert ds.limit_bits <= nll_bits(Net(cfg), for_data(x, cfg), x) < ds.limit_bits + 0.05
    with pytest.raises(ValueError, match="no hand-set"):
        for_data(np.array([0, 1, 1, 0, 2]), NetConfig("mlp", 3, 2, 8))


@pytest.mark.parametrize("spec", [
    "variational:model=transformer,context=3,hidden=5,embed=16,steps=5,samples=2,wbits=6,"
    "init=handset",
    "variational:context=1,hidden=7,steps=5,samples=2,wbits=6,init=handset"])
def test_handset_starts_round_trip(spec):
    """init=handset reads the task off the data on both sides: parity for the transformer,
    counting for the mlp."""
    data = load("parity:n=40,len=3").data if "transformer" in spec else \
        load("counting:n=200,m=7").data
    comp = create(spec)
    enc = comp.encode(data)
    assert create(spec).decode(enc.blob) == data
    _check_accounting(enc)


# ----------------------------------------------------------------------------- bits-back stream
def _check_accounting(enc):
    ex = enc.extras
    # the real stream: container = header + meta + ANS words; ANS words = initial + net
    assert enc.bits == 8 * len(enc.blob) >= ex["bitsback_stream_bits"]
    assert ex["bitsback_net_bits"] == ex["bitsback_stream_bits"] - ex["initial_bits"]
    # net stream vs the drawn w's ideal length: ANS state (<= 64) + whole 32-bit words
    assert abs(ex["bitsback_net_bits"] - ex["bitsback_ideal_bits"]) <= 96
    # the drawn w's length vs KL + E[NLL] of the discretised q and prior on the stream's grid:
    # a single draw scatters by disc_sample_sd_bits around it
    se = math.hypot(ex["kl_disc_se_bits"], ex["nll_disc_se_bits"])
    slack = 5 * ex["disc_sample_sd_bits"] + 5 * se + 96
    assert abs(ex["bitsback_net_bits"] - (ex["kl_disc_bits"] + ex["nll_disc_bits"])) <= slack
    assert ex["objective_bits"] == pytest.approx(ex["kl_bits"] + ex["nll_bits"]
                                             + ex["prior_param_bits"])
    assert enc.bits_ideal == pytest.approx(ex["initial_bits"] + ex["bitsback_ideal_bits"])
    # only the initial words the draw touched are sent: what popping w took (-log2 Q(w)),
    # rounded up to words, and the 64-bit coder head; the untouched spare words are cut
    assert ex["initial_bits"] <= ex["weight_posterior_bits"] + 64 + 2 * 32
    assert ex["initial_words_cut"] >= 1


@pytest.mark.parametrize("prior,wbits", [("mixture", 0), ("gaussian", 0), ("mixture", 9)])
def test_bitsback_round_trip_and_length(prior, wbits):
    ds, _ = _parity()
    spec = f"variational:{TINY},prior={prior},wbits={wbits}"
    enc = create(spec).encode(ds.data)
    assert create(spec).decode(enc.blob) == ds.data
    _check_accounting(enc)
    ex = enc.extras
    if wbits:
        # a grid much finer than q: the discretised KL is the continuous one
        assert ex["kl_disc_bits"] == pytest.approx(ex["kl_bits"], abs=5 * ex["kl_se_bits"] + 20)
        assert ex["wbits"] == wbits
    else:
        # the automatic grid keeps the shortest stream of those tried
        assert 8 * len(enc.blob) - ex["bitsback_stream_bits"] >= 0
        best = min(ex["wbits_tried"].values())
        assert ex["wbits_tried"][str(ex["wbits"])] == best
        assert abs(ex["bitsback_stream_bits"] - best) <= 96
        # binning both q and p can only lower the KL (data processing inequality)
        assert ex["kl_disc_bits"] <= ex["kl_bits"] + 5 * ex["kl_se_bits"] + 5
    # deterministic: the same input and config give the same stream, bit for bit
    assert create(spec).encode(ds.data).blob == enc.blob


def test_bitsback_transformer_round_trip():
    data = b"abracadabra, abracadabra! " * 12
    comp = create("variational:model=transformer,context=4,hidden=8,embed=8,heads=2,steps=20,"
                  "samples=4")
    enc = comp.encode(data)
    assert comp.decode(enc.blob) == data
    _check_accounting(enc)


def test_twopart_round_trip_and_parts():
    ds, _ = _parity()
    comp = create(f"vtwopart:{TINY}")
    enc = comp.encode(ds.data)
    assert comp.decode(enc.blob) == ds.data
    ex = enc.extras
    # the stream holds weight bits + data bits; the container adds header and prior params
    assert ex["twopart_weight_bits"] + ex["twopart_data_bits"] <= enc.bits
    assert abs(ex["twopart_data_bits"] - ex["twopart_data_bits_ideal"]) <= 64
    assert abs(ex["twopart_weight_bits"] - ex["twopart_weight_bits_ideal"]) <= 64
    assert ex["adjusted_bits"] == ex["twopart_data_bits"] + 16 * ex["params"]


def test_a_stream_whose_data_cannot_have_trained_is_corrupt():
    """init=handset retrains on the decoded data: data without parity symbols (here a stream
    written with init=random, relabelled) is a damaged stream, not a usage error."""
    bits = bytes(b & 1 for b in _parity()[0].data)
    header, payload = container.unwrap(create(f"variational:{TINY},wbits=6").encode(bits).blob)
    handset = create(f"variational:{TINY},wbits=6,init=handset")
    forged = container.wrap(handset.spec, bits, payload, header.meta)
    with pytest.raises(CorruptStreamError, match="decoded data"):
        handset.decode(forged)


def test_bad_specs():
    with pytest.raises(UsageError):
        create("variational:init=handset,embed=4")  # the hand-set mlp reads one-hot inputs
    with pytest.raises(UsageError):
        create("variational:model=transformer,embed=10,heads=3")
    with pytest.raises(UsageError, match="parity"):
        create("variational:init=handset,steps=1").encode(b"hello world")


# ----------------------------------------------------------------------------- bits, not nats
def test_figures_are_bits_not_nats():
    ds, x = _parity()
    cfg = NetConfig("mlp", 4, 4, 6)
    net = Net(cfg)
    post = Posterior(torch.zeros(net.size), torch.full((net.size,), -11.0),
                     MixturePrior(1, 1.0))
    ev = evaluate(net, post, x, 4, 0)
    # all-zero weights predict uniformly: exactly log2(4) = 2 bits a symbol (nats: 1.386)
    assert ev.nll_bits == pytest.approx(2.0 * len(x), rel=1e-5)
    # closed-form KL of N(0, e^-22) against N(0, 1): per weight -ln σ - 1/2 + σ²/2, in bits
    per = (11.0 - 0.5 + math.exp(-22) / 2) / math.log(2)
    assert ev.kl_bits == pytest.approx(per * net.size, rel=1e-5)
    # the realised data part of the bits-back stream equals Σ -log2 p on the coded probs
    comp = Variational(context=4, hidden=6, steps=30, samples=4)
    fit = comp.fit(ds.data)
    enc = comp.encode_fit(ds.data, fit)
    assert enc.blob == comp.encode(ds.data).blob  # the same training, once
    w = fit.post.mu.double().numpy()
    probs = comp._code_data(net, w, x)
    assert nll_bits(net, w, x) == pytest.approx(ideal_bits(x, probs), rel=1e-6)
    assert enc.extras["nll_bits"] >= len(x) * 0.5      # parity data: >= 3 random bits / 4 syms


# ----------------------------------------------------------------------------- the prior
def test_mixture_prior_stays_valid_and_separated():
    _, x = _parity(128, 3)
    cfg = NetConfig("mlp", 4, 4, 5)
    post = train(Net(cfg), x, components=5, steps=200, lr=0.02, seed=1, init="handset",
                 handset=handset_parity(3, cfg))
    pr = post.prior
    pi = torch.softmax(pr.logit_pi, 0).detach().numpy()
    mu = pr.mu.detach().numpy()
    sigma = pr.log_sigma.exp().detach().numpy()
    assert mu[0] == 0.0                                   # pinned
    assert np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))
    assert pi.sum() == pytest.approx(1.0) and pi.min() > 1e-4
    assert sigma.min() >= math.exp(-8) - 1e-9
    gaps = np.abs(mu[:, None] - mu[None, :])[np.triu_indices(len(mu), 1)]
    assert gaps.min() > 1e-3                              # no two components merged
    # the hyper-priors: the Gamma term penalises a collapsing precision, Dirichlet a dying π
    p = MixturePrior(3, 1.0).requires_grad_(False)
    base = float(p.hyper_log_prob())
    with torch.no_grad():
        p.log_sigma[1] = -9.0
    assert float(p.hyper_log_prob()) < base - 1e3
    with torch.no_grad():
        p.log_sigma[1] = math.log(0.25 / 12)
        p.logit_pi[2] = -30.0
    assert float(p.hyper_log_prob()) < base - 20


def test_prior_export_rebuilds_the_coded_prior():
    p = MixturePrior(4, 2.0)
    v = p.export()
    assert v.dtype == np.float16 and len(v) == MixturePrior.n_exported(4) == 11
    comp = create("variational:components=4")
    assert comp._parse_meta(comp._meta(4, v, b"\x05"))[1].tobytes() == v.tobytes()


# ----------------------------------------------------------------------------- the seed question
def test_handset_solution_is_shorter_than_random_init():
    ds, x = _parity(256, 4)
    cfg = NetConfig("mlp", 4, 5, 6)
    net = Net(cfg)
    totals = {}
    for init in ("handset", "random"):
        post = train(net, x, components=4, steps=700, lr=0.01, seed=0, init=init,
                     handset=handset_parity(4, cfg))
        ev = evaluate(net, post, x, 8, 0)
        totals[init] = ev.kl_bits + ev.nll_bits
    assert totals["handset"] < totals["random"]
    assert totals["handset"] > ds.limit_bits               # no free lunch: above the limit
