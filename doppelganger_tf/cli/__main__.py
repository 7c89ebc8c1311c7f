"""python -m doppelganger_tf.cli: the doppelganger command."""
import sys

from . import main

sys.exit(main())
