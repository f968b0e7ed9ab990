"""What the app writes to a real terminal: a driver that sends only the cells that changed.

Textual 8 resends each changed span of a row from its widget's left edge and writes every run
of cells as "whole style, text, reset"; `shadow` keeps a copy of what the terminal shows and
rewrites each write as the cells that differ, with styles as changes (Textual-free, tested
through a terminal emulator); `driver` plugs it into Textual's public driver API.
"""
