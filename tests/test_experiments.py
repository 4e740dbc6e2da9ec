"""Research experiments on top of the coders: the seed paper's question."""

from __future__ import annotations

import pytest

from mdlbench.errors import UsageError
from mdlbench.experiments.seed_question import REPORTED, compare_solutions


def test_compare_solutions_rows_are_real_streams():
    """A short run: every row decoded back, figures in bits, accuracy a fraction."""
    r = compare_solutions("parity:n=32,len=3", models=("mlp", "transformer"), steps=20,
                          samples=2, wbits=6)
    assert [(row["model"], row["init"]) for row in r["rows"]] == [
        ("mlp", "handset"), ("mlp", "random"), ("transformer", "handset"),
        ("transformer", "random")]
    for row in r["rows"]:
        assert row["verified"] is True and set(REPORTED) <= set(row)
        assert row["bits"] > row["bitsback_net_bits"] > 0
        assert 0.0 <= row["test_parity_accuracy"] <= 1.0
    rows = r["rows"]
    assert r["handset_wins"] == {
        "mlp": rows[0]["objective_bits"] < rows[1]["objective_bits"],
        "transformer": rows[2]["objective_bits"] < rows[3]["objective_bits"]}
    # untrained, the hand-set transformer predicts every parity symbol of fresh strings
    (hand, _) = compare_solutions("parity:n=32,len=3", models=("transformer",), steps=0,
                                  samples=2, wbits=6)["rows"]
    assert hand["test_parity_accuracy"] == 1.0 and hand["verified"]
    with pytest.raises(UsageError, match="parity"):
        compare_solutions("markov:n=100")
    with pytest.raises(UsageError, match="unknown model"):
        compare_solutions("parity:n=32,len=3", models=("lstm",), steps=1)


@pytest.mark.slow
def test_compare_solutions_end_to_end():
    r = compare_solutions("parity:n=512,len=4", steps=1500)
    assert r["handset_wins"]["mlp"] and all(row["verified"] for row in r["rows"])
    hand, rand = r["rows"]
    # the hand-set solution generalises (fresh strings); the random start is at chance
    assert hand["test_parity_accuracy"] >= 0.99 > rand["test_parity_accuracy"] + 0.3
    assert hand["bitsback_net_bits"] < rand["bitsback_net_bits"]
