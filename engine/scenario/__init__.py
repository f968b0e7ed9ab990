"""Scenario files: load and validate, write back, the analysis tables, the built-in catalog, trajectory I/O."""
