"""Neural networks and classifiers used by the model-based coders (torch; imported lazily)."""
