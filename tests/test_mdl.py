"""MDL figures (issue #16): the NML normaliser and its Fisher asymptotic, maximum-likelihood code
lengths, the SNML coder, the Laplace code of the logistic class, and how records and the
leaderboard show regret, compression and the formula rows (never as streams)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from mdlbench import api, datasets
from mdlbench.compressors import create
from mdlbench.datasets.labelled import LAPLACE_ROW, LabelledData
from mdlbench.mdl import laplace, regret
from mdlbench.results import leaderboard as lb
from mdlbench.results import tables


# ----------------------------------------------------------------------------- NML and Fisher
def _brute_complexity(k: int, n: int) -> float:
    """log2 Σ over all K^n sequences of their maximised likelihood."""
    total = 0.0
    for seq in itertools.product(range(k), repeat=n):
        counts = np.bincount(seq, minlength=k)
        total += math.prod((c / n) ** c for c in counts if c)
    return math.log2(total)


@pytest.mark.parametrize("k,n", [(1, 5), (2, 1), (2, 6), (3, 5), (4, 5), (5, 4)])
def test_linear_time_recurrence_matches_enumeration(k, n):
    assert regret.log2_complexity(k, n) == pytest.approx(_brute_complexity(k, n), abs=1e-12)


def test_reference_values_at_n_50000():
    """REFERENCE §9: exact 8.134 and 29.655, Fisher asymptotic 8.131 and 29.634."""
    assert regret.log2_complexity(2, 50_000) == pytest.approx(8.134, abs=5e-4)
    assert regret.fisher_complexity(2, 50_000) == pytest.approx(8.131, abs=5e-4)
    assert regret.log2_complexity(5, 50_000) == pytest.approx(29.655, abs=5e-4)
    assert regret.fisher_complexity(5, 50_000) == pytest.approx(29.634, abs=5e-4)
    # the asymptotic converges: the gap shrinks as n grows
    gaps = [regret.log2_complexity(4, n) - regret.fisher_complexity(4, n) for n in (100, 10_000)]
    assert 0 < gaps[1] < gaps[0]


def test_ml_bits_and_contexts_by_hand():
    x = np.array([0, 1, 1, 0, 1, 2, 1, 1])
    counts = regret.context_counts(x, 1, 3)  # the first symbol's context is the pad 0
    by_hand = np.zeros((3, 3), int)
    for prev, cur in zip([0, *x[:-1]], x, strict=True):
        by_hand[prev, cur] += 1
    assert np.array_equal(counts, by_hand)
    ml = sum(-c * math.log2(c / row.sum()) for row in by_hand for c in row if c)
    assert regret.ml_bits(counts) == pytest.approx(ml)
    nml = sum(regret.log2_complexity(3, int(v)) for v in by_hand.sum(axis=1) if v)
    assert regret.nml_regret(counts, 3) == pytest.approx(nml)


def test_synthetic_sources_state_their_class():
    ds = datasets.load("markov:order=2,k=4,n=20000")
    ref = ds.reference
    x = np.frombuffer(ds.data, np.uint8)
    counts = regret.context_counts(x, 2, 4)
    assert ref.model_class.startswith("order-2 Markov, 4 symbols")
    assert ref.ml_bits == pytest.approx(regret.ml_bits(counts))
    assert ref.formulas[regret.NML_ROW] - ref.ml_bits == pytest.approx(
        regret.nml_regret(counts, 4))
    # the best model in hindsight beats the true source; the NML code pays the minimax regret
    assert ref.ml_bits < ds.limit_bits < ref.formulas[regret.NML_ROW]
    assert datasets.load("hmm:n=1000").reference.ml_bits is None  # no finite class stated


# ----------------------------------------------------------------------------- SNML coder
def test_snml_predictor_is_the_normalised_maximised_likelihood():
    """Σ -log2 p of snml:order=0, recomputed from its definition: p(a | past) ∝ the maximised
    likelihood of past + a."""
    x = bytes([0, 2, 2, 1, 0, 2, 2, 2, 1, 0, 0, 2])
    bits = 0.0
    for t in range(len(x)):
        counts = np.bincount(np.frombuffer(x[:t], np.uint8), minlength=3)
        w = []
        for a in range(3):
            c = counts.copy()
            c[a] += 1
            w.append(2.0 ** -regret.ml_bits(c))
        bits -= math.log2(w[x[t]] / sum(w))
    enc = create("snml:order=0").encode(x)
    assert enc.bits_ideal == pytest.approx(bits, rel=1e-9)
    assert create("snml:order=0").decode(enc.blob) == x


@pytest.mark.parametrize("source,order,slack", [
    ("iid:k=2,n=50000", 0, 1.0), ("iid:k=5,n=50000", 0, 1.0),
    ("markov:order=2,k=4,n=100000", 2, 16 * 0.5)])
def test_snml_regret_is_close_to_the_minimax_regret(source, order, slack):
    ds = datasets.load(source)
    enc = create(f"snml:order={order}").encode(ds.data)
    ref = ds.reference
    minimax = ref.formulas[regret.NML_ROW] - ref.ml_bits
    assert abs((enc.bits_ideal - ref.ml_bits) - minimax) < slack
    assert create(f"snml:order={order}").decode(enc.blob) == ds.data


def test_snml_refuses_a_table_that_does_not_fit():
    from mdlbench.errors import UsageError

    with pytest.raises(UsageError, match="contexts"):
        create("snml:order=3").encode(bytes(range(256)))


# ----------------------------------------------------------------------------- Laplace
def test_laplace_by_hand_on_a_bias_only_class():
    """K = 2, one constant feature (standardised to 0: its weight only meets the prior), so the
    class is p(y = 0) = sigmoid(b); the MAP b solves a scalar equation, found here by bisection,
    and every term of the formula is written out."""
    n0, n1, sd = 13, 7, 1.0
    y = np.array([0] * n0 + [1] * n1)
    X = np.ones((n0 + n1, 1))
    lo, hi = -10.0, 10.0
    for _ in range(200):  # d/db [n0 ln σ(b) + n1 ln(1 - σ(b)) - b²/2] = n0 - n σ(b) - b
        b = (lo + hi) / 2
        if n0 - (n0 + n1) * (1 / (1 + math.exp(-b))) - b / sd**2 > 0:
            lo = b
        else:
            hi = b
    n = n0 + n1
    p0 = 1 / (1 + math.exp(-b))
    nll = -(n0 * math.log(p0) + n1 * math.log(1 - p0))
    prior = b * b / (2 * sd**2) + 2 * 0.5 * math.log(2 * math.pi * sd**2)  # w = 0
    volume = math.log(n / (2 * math.pi)) + 0.5 * math.log(
        (1 / (n * sd**2)) * (p0 * (1 - p0) + 1 / (n * sd**2)))
    code = laplace.logistic_laplace(X, y, 2, sds=(sd,))
    assert code.params == 2 and code.choice_bits == 0
    assert code.nll_bits == pytest.approx(nll / math.log(2), rel=1e-9)
    assert code.prior_bits == pytest.approx(prior / math.log(2), rel=1e-9)
    assert code.volume_bits == pytest.approx(volume / math.log(2), rel=1e-9)
    assert code.bits == pytest.approx((nll + prior + volume) / math.log(2), rel=1e-9)


def test_laplace_approximates_the_bayes_mixture():
    """One feature and a bias, K = 2, n = 200: the formula against -log2 ∫ p(y|X,θ) w(θ) dθ
    by quadrature on a grid around the MAP."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 1))
    y = (rng.random(200) < 1 / (1 + np.exp(-(1.5 * X[:, 0] - 0.3)))).astype(int)
    code = laplace.logistic_laplace(X, y, 2, sds=(2.0,))
    Z = laplace.design(X)
    theta, ok = laplace.fit(Z, y, 2, 1 / 4.0)
    assert ok
    grid = [np.linspace(t - 1.2, t + 1.2, 241) for t in theta[0]]
    W, B = np.meshgrid(*grid, indexing="ij")
    logit = W[..., None] * Z[None, None, :, 0] + B[..., None]  # class 0's logit; class 1: 0
    loglik = np.where(y == 0, -np.logaddexp(0, -logit), -np.logaddexp(0, logit)).sum(axis=-1)
    logprior = -(W**2 + B**2) / 8 - math.log(2 * math.pi * 4)
    f = loglik + logprior
    top = f.max()
    cell = (grid[0][1] - grid[0][0]) * (grid[1][1] - grid[1][0])
    exact = -(top + math.log(np.exp(f - top).sum() * cell)) / math.log(2)
    assert code.bits == pytest.approx(exact, abs=0.05)


def test_labelled_datasets_state_the_laplace_row():
    ds = datasets.load("logistic:n=400,d=3,k=3,seed=1")
    ref = ds.reference
    code = laplace.logistic_laplace(ds.labelled.X, ds.labelled.y, 3)
    assert ref.formulas[LAPLACE_ROW] == pytest.approx(code.bits)
    # the logistic source states its class: the ML code is below the truth, Laplace above it
    assert ref.ml_bits < ds.limit_bits < ref.formulas[LAPLACE_ROW]
    too_big = LabelledData(np.zeros((3, laplace.MAX_PARAMS)), np.array([0, 1, 1]), 2)
    assert too_big.reference().formulas == {}  # no figure rather than a made-up one


# ----------------------------------------------------------------------------- records and tables
def test_records_and_the_board_show_regret_and_formula_rows(tmp_path):
    recs = api.run(["markov:order=1,k=3,n=5000", "hmm:n=2000"], ["kt:order=1", "zstd"],
                   results_dir=tmp_path)
    ds = datasets.load("markov:order=1,k=3,n=5000")
    by = {(r.dataset.name, r.compressor.spec): r for r in recs}
    kt = by["markov:order=1,k=3,n=5000", "kt:order=1"]
    assert kt.regret_bits == pytest.approx(kt.bits - ds.reference.ml_bits)
    assert by["hmm:n=2000", "kt:order=1"].regret_bits is None
    assert kt.to_dict()["regret_bits"] == kt.regret_bits
    board = lb.leaderboard(recs, "regret")
    col = "markov:order=1,k=3,n=5000"
    ref = ds.reference
    assert board.loc["kt:order=1", col] == pytest.approx(kt.regret_bits)
    assert board.loc[regret.NML_ROW, col] == pytest.approx(ref.formulas[regret.NML_ROW]
                                                           - ref.ml_bits)
    assert board.loc[lb.LIMIT_ROW, col] == pytest.approx(ds.limit_bits - ref.ml_bits)
    assert np.isnan(board.loc["kt:order=1", "hmm:n=2000"])  # no class stated: blank
    assert "order-1 Markov, 3 symbols" in board.attrs["caption"]
    ideal = lb.leaderboard(recs, "bits_ideal")
    assert np.isnan(ideal.loc["zstd", col])  # a classical codec has no Σ -log2 p
    assert ideal.loc["kt:order=1", col] == pytest.approx(kt.bits_ideal)
    md = tables.markdown(board)
    assert md.startswith("regret: bits of the stream, container included, above the best model")
    assert "| (NML) |" in md and "| (NML, Fisher asymptotic) |" in md


def test_labelled_board_reads_bits_per_label_and_shows_the_laplace_row(tmp_path):
    recs = api.run(["digits"], ["uniform"], results_dir=tmp_path)
    (rec,) = recs
    uniform = 1797 * math.log2(10)
    assert rec.compression == pytest.approx(uniform / rec.bits)
    assert LAPLACE_ROW in rec.dataset.formulas and rec.bits > uniform  # a stream, headers too
    board = lb.leaderboard(recs, "bpb")
    assert board.attrs["caption"] == ("bpb: bits per label. " + lb.FORMULA_NOTE)
    assert board.loc[LAPLACE_ROW, "digits"] == pytest.approx(rec.dataset.formulas[LAPLACE_ROW]
                                                             / 1797)
    comp = lb.leaderboard(recs, "compression")
    assert comp.loc["uniform", "digits"] == pytest.approx(rec.compression)
    assert comp.loc[LAPLACE_ROW, "digits"] > 5  # the formula row compresses ~9 times
    assert comp.index[0] == LAPLACE_ROW  # higher is better for compression
    files = lb.leaderboard(api.run(["canterbury:head=2000"], ["zlib"], results_dir=tmp_path))
    assert files.attrs["caption"] == "bpb: bits per byte"


# ----------------------------------------------------------------------------- the n-sweep
def test_sweep_plot_from_records(tmp_path, mdl):
    """A miniature of suites/sweep.toml through the ordinary runner, then `plot --kind sweep`."""
    from mdlbench.errors import UsageError
    from mdlbench.harness.suite import Group
    from mdlbench.results import plots

    tiny = "variational:context=4,hidden=5,steps=3,samples=2,wbits=6"
    sizes = ["parity:n=16,len=3", "parity:n=32,len=3", "parity:n=8,len=3"]
    recs = api.run(suite=[Group(sizes, [tiny, tiny + ",init=handset", "zlib"]),
                          Group(["iid:n=300"], ["zlib"])], results_dir=tmp_path / "runs")
    assert all(r.verified for r in recs)
    fams = plots.swept(recs)
    assert list(fams) == ["parity:len=3"] and len(fams["parity:len=3"]) == 9
    assert ("sweep", "parity:len=3") in plots.available(recs)
    rec = next(r for r in recs if r.compressor.name == "variational")
    assert rec.extras["objective_bits"] > 0
    assert rec.dataset.formulas[plots.PROGRAM_ROW] == pytest.approx(
        rec.dataset.limit_bits + datasets.load(rec.dataset.name).meta["program_bits"])
    p = mdl("plot", str(tmp_path / "runs"), "--kind", "sweep", "--out", str(tmp_path / "p"))
    assert p.code == 0, p.err
    assert (tmp_path / "p" / "sweep.png").stat().st_size > 10_000
    with pytest.raises(UsageError, match="several sizes"):
        plots.sweep([r for r in recs if r.dataset.name == "iid:n=300"])
    with pytest.raises(UsageError, match="several sizes"):
        plots.sweep(recs, "counting")
