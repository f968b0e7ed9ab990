"""The built-in scenario library: TOML data files, found with importlib.resources."""
