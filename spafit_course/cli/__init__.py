"""The command line `spafit-course`: one parser, one argument and error layer, a module per subcommand.

It sits on top: it may import every other part, and no other part imports it.
"""

from .app import build_parser, main

__all__ = ["build_parser", "main"]
