# ``python -m data_prep.gcut --task_events DIR --task_usage DIR --output OUT`` (the command line
# of the GCUT converter; see docs/data_prep_gcut.md)
import sys

from absl import flags

from data_prep import cli, gcut
from data_prep.conversion import Conversion
from data_prep.gcut import DEFAULT_END_TIME_TOLERANCE_S, MISSING_VALUE_POLICIES, convert

__doc__ = gcut.__doc__  # what --help prints


@cli.define_once
def define_flags() -> None:
    """Define this script's absl flags (only when run as a script, so that several converters
    can be imported in one process)."""
    flags.DEFINE_string("task_events", None, "task_events parts: a directory, a glob or a "
                        "comma-separated list (part-NNNNN-of-00500.csv.gz).")
    flags.DEFINE_string("task_usage", None, "task_usage parts: a directory, a glob or a "
                        "comma-separated list.")
    cli.define_common_flags(
        outputs="train/, report.json, tasks.csv", noun="Tasks", num_samples=100000,
        seed="Seed of the uniform task sampling.",
        test_fraction=(0.0, "Hold out this fraction of the sampled tasks as <output>/test "
                            "(same scaling and T as train). Default: train only."))
    flags.DEFINE_integer("max_length", None, "Drop tasks with more usage records than this "
                         "(counted as longer_than_max_length); also sets T. Default: no cap, "
                         "T = the longest sampled task.")
    flags.DEFINE_integer("sample_len", None, "Round T up to a multiple of this (padding).")
    flags.DEFINE_float("end_time_tolerance_s", DEFAULT_END_TIME_TOLERANCE_S,
                       "Keep a task only when its end event lies within this many seconds of "
                       "its last usage record's end.")
    flags.DEFINE_enum("missing_values", "drop", list(MISSING_VALUE_POLICIES),
                      "A task with an empty field in a used usage column: drop it, or read the "
                      "field as 0.")
    flags.mark_flags_as_required(["task_events", "task_usage", "output"])


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _convert_flags(values) -> Conversion:
    return convert(values.task_events, values.task_usage, num_samples=values.num_samples,
                   seed=values.seed, max_length=values.max_length, sample_len=values.sample_len,
                   end_time_tolerance=values.end_time_tolerance_s,
                   missing_values=values.missing_values, test_fraction=values.test_fraction,
                   progress=_progress)


def _summary(conversion: Conversion) -> str:
    return (f"kept {conversion.report.kept} tasks ({conversion.sizes()}; "
            f"T={conversion.datasets['train'].max_length})")


if __name__ == "__main__":
    cli.run("data_prep.gcut", define_flags, _convert_flags, _summary)
