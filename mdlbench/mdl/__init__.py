"""MDL formulas that are not streams: the maximum-likelihood code length of a sample in a model
class, the minimax regret of the class (NML, exact and Fisher asymptotic) and the Laplace code
length of a parametric class. Datasets state them (they depend only on the data and the class),
and the leaderboard shows them as formula rows beside the real streams. numpy only."""
