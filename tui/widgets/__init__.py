"""Widgets of the optsim app: one widget per file, no math."""
