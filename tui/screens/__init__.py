"""Screens of the optsim app: one mode each."""
