"""doppelganger demo: the end-to-end demo on synthetic WWT-schema data (doppelganger_tf.demo)."""
from __future__ import annotations

import argparse

HELP = "train, generate and plot on synthetic page views (a demo, no data needed)"
EXAMPLES = """examples:
  doppelganger demo --output demo_output
  doppelganger demo --output demo_output --num-samples 200 --length 56 --epochs 50 --sample-len 7
"""


def add_parser(subparsers):
    p = subparsers.add_parser("demo", help=HELP, description=HELP + ": writes the model, "
                              "checkpoints, generated.csv, history.json and demo.png into "
                              "--output (rerunning resumes).", epilog=EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--output", "-o", default="demo_output", help="directory for everything "
                   "the demo writes (default demo_output)")
    p.add_argument("--num-samples", type=int, default=1000, help="synthetic pages (default 1000)")
    p.add_argument("--length", type=int, default=550, help="days per page (default 550)")
    p.add_argument("--epochs", type=int, default=200, help="training epochs (default 200)")
    p.add_argument("--sample-len", type=int, default=10, help="records per LSTM step "
                   "(default 10; must divide --length)")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from ..demo import run as demo
    from ..training.runtime import set_cpu_threads
    set_cpu_threads()
    demo(args.output, args.num_samples, args.length, args.epochs, args.sample_len, args.seed,
         verbose=2)
    return 0
