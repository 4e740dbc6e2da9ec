"""Research experiments built on the coders (they answer a question; they are not coders)."""
