"""The converters' command line: shared flags, one-line errors, and the run itself (convert,
write, print what was kept)."""
from __future__ import annotations

import contextlib
import functools
from typing import Callable, Optional, Tuple

from pathlib import Path

from absl import app, flags

from doppelganger_tf.atomic import check_parents

from data_prep.conversion import Conversion

# the flags defined below belong to the converter script that asks for them (its --help)
flags.disclaim_key_flags()


def define_once(define: Callable[[], None]) -> Callable[[], None]:
    """Make a converter's ``define_flags`` idempotent.  Flags are defined on demand, not at
    import, so that several converters can be imported in one process."""
    done = []

    @functools.wraps(define)
    def wrapper() -> None:
        if not done:
            define()
            done.append(True)
    return wrapper


def define_common_flags(*, outputs: str, seed: str, noun: str, num_samples: int,
                        splits: str = "<split>",
                        test_fraction: Optional[Tuple[float, str]] = None) -> None:
    """``--output`` (``outputs`` lists what it receives), ``--seed``, ``--num_samples`` (of
    ``noun``), ``--original_layout`` and, given as (default, help), ``--test_fraction``."""
    flags.DEFINE_string("output", None, f"Output directory: {outputs}.")
    flags.DEFINE_integer("seed", 0, seed)
    flags.DEFINE_integer("num_samples", num_samples, f"{noun} to sample after the filters (all "
                                                     "when fewer remain).")
    if test_fraction is not None:
        flags.DEFINE_float("test_fraction", *test_fraction)
    flags.DEFINE_bool("original_layout", False, f"Also write <output>/original/{splits} in the "
                                                "original release's layout.")


@contextlib.contextmanager
def command_line_errors(program: str):
    """Bad input or an unreadable file ends a converter run with one clear line, not a trace."""
    try:
        yield
    except (ValueError, OSError) as exc:
        raise SystemExit(f"{program}: error: {exc}") from None


def check_output(output) -> None:
    """``--output`` must be a folder, or a path where one can be made."""
    path = Path(output)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"--output {output} is a file: give a folder (made when "
                                 "missing), e.g. a new name, or move the file away")
    check_parents(path)


def run(program: str, define_flags: Callable[[], None],
        convert: Callable[[flags.FlagValues], Conversion],
        summary: Callable[[Conversion], str]) -> None:
    """A converter script: parse the flags, ``convert(FLAGS)``, write the result to
    ``--output``, then print ``summary(conversion)``, the drops and the report's notes."""
    def main(argv) -> None:
        if len(argv) > 1:
            raise app.UsageError(f"unexpected arguments: {argv[1:]}")
        flag_values = flags.FLAGS
        with command_line_errors(program):
            check_output(flag_values.output)  # before a conversion that may take minutes
            conversion = convert(flag_values)
        with command_line_errors(program):
            output_dir = conversion.write(flag_values.output, flag_values.original_layout)
        report = conversion.report
        print(f"{summary(conversion)}; dropped {report.nonzero_drops()}; wrote {output_dir}")
        for note in report.facts.get("notes", []):
            print(f"note: {note}")

    define_flags()
    app.run(main)
