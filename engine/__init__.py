"""optsim engine: pure NumPy optimization on loss surfaces. Never imports a UI library."""
