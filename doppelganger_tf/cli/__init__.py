"""The ``doppelganger`` command: describe, fit, generate, evaluate and demo (docs/cli.md).

    doppelganger describe pages.csv --id page --time day --attributes domain access agent
    doppelganger fit pages.csv --id page --time day --attributes domain access agent \\
        --output run --minutes 20
    doppelganger generate run/model -n 10000 --output generated.csv
    doppelganger evaluate pages.csv generated.csv --config run/settings.toml --output report

Exit status: 0 done, 1 a user error (one line on stderr, no traceback: a missing column, an
unreadable file, an output already there...), 2 a usage error (argparse's), 130 interrupted
(fit saves a checkpoint first). Set DOPPELGANGER_TRACEBACK=1 to see the traceback of an error.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import sys
import warnings
from typing import List, Optional

from . import describe, demo, evaluate, fit, generate
from .common import PROGRAM, error_line

EXIT_USER_ERROR = 1
EXIT_INTERRUPTED = 130
# the errors a user's input causes (a missing column, an unreadable or existing file, a value
# out of range): one line, exit 1. RuntimeError covers TrainingDiverged.
USER_ERRORS = (ValueError, TypeError, KeyError, OSError, ImportError, RuntimeError)
EXAMPLES = """examples:
  doppelganger describe pages.csv --id page --time day --attributes domain access agent
  doppelganger fit pages.csv --id page --time day --attributes domain access agent \\
      --missing interpolate --output run --minutes 20
  doppelganger generate run/model -n 10000 --output generated.csv
  doppelganger evaluate pages.csv generated.csv --config run/settings.toml --output report
  doppelganger demo --output demo_output

'doppelganger COMMAND --help' describes each command. Exit status: 0 done, 1 an error in
the input (one line on stderr), 2 a usage error, 130 interrupted. docs/cli.md has a walk-through.
"""


def parser() -> argparse.ArgumentParser:
    from .. import __version__
    p = argparse.ArgumentParser(
        prog=PROGRAM, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="DoppelGANger (IMC 2020) on your own time series: read a CSV or Parquet "
                    "file, train, generate synthetic series with the same columns, and score "
                    "them against the real ones.", epilog=EXAMPLES)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = p.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    commands.required = True
    for module in (describe, fit, generate, evaluate, demo):
        module.add_parser(commands)
    return p


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line ``argv`` (default: sys.argv[1:]); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # --help (0), a usage error (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USER_ERROR
    args.argv = argv
    debug = os.environ.get("DOPPELGANGER_TRACEBACK", "") not in ("", "0")
    try:
        with _one_line_warnings():
            return args.run(args)
    except KeyboardInterrupt:
        print(f"\n{PROGRAM} {args.command}: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except USER_ERRORS as error:
        if debug:
            raise
        error_line(args.command, error)
        return EXIT_USER_ERROR


@contextlib.contextmanager
def _one_line_warnings():
    """The package's warnings as one line each ("doppelganger: warning: ..."), not Python's
    two lines with a file name and source line."""
    previous = warnings.formatwarning

    def one_line(message, category, filename, lineno, line=None):
        return f"{PROGRAM}: warning: {' '.join(str(message).split())}\n"

    warnings.formatwarning = one_line
    try:
        yield
    finally:
        warnings.formatwarning = previous


if __name__ == "__main__":
    sys.exit(main())
