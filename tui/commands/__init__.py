"""One module per `optsim` subcommand: each has ``add_parser(subparsers)`` and ``run(args) -> int``.

Modules import the engine inside ``run`` so that `optsim --help` and
`optsim list` stay fast (no SymPy, no Textual).
"""
