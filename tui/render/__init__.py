"""Textual-free drawing: cell-grid geometry, rasterizers, tick labels and colours shared by widgets and the CLI."""
