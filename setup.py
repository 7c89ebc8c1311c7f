"""doppelganger_tf: DoppelGANger (Lin et al., IMC 2020) in TensorFlow 2 / Keras."""
from pathlib import Path

from setuptools import find_packages, setup

# Two supported stacks, chosen by the Python version (README, "Supported versions"):
# - reference (Python 3.9-3.11): TensorFlow 2.15 with its Keras 2 and tensorflow-privacy 0.9.0
#   (the latest, which imports only with TensorFlow <= 2.15, numpy 1.x and
#   tensorflow-probability 0.22);
# - current (Python 3.12-3.13): TensorFlow 2.21 with Keras 3 and numpy 2; tensorflow-privacy
#   does not install there, so DP noise is ours and epsilon comes from dp-accounting on both.
REFERENCE = 'python_version < "3.12"'
CURRENT = 'python_version >= "3.12"'
INSTALL_REQUIRES = [
    f"tensorflow>=2.15.0,<2.16; {REFERENCE}",
    f"tensorflow-privacy==0.9.0; {REFERENCE}",
    f"tensorflow-probability>=0.22.0,<0.23; {REFERENCE}",
    f"numpy>=1.23.5,<2; {REFERENCE}",
    f"pandas>=2.0,<2.3; {REFERENCE}",
    f"scipy>=1.10,<1.14; {REFERENCE}",
    f"matplotlib>=3.7,<3.10; {REFERENCE}",
    f"absl-py>=1.0,<2; {REFERENCE}",
    f"tensorflow>=2.21.0,<2.22; {CURRENT}",
    f"keras>=3.10,<4; {CURRENT}",
    # TensorFlow 2.15 brings TensorBoard; 2.21 no longer does (keras.callbacks.TensorBoard)
    f"tensorboard>=2.16,<3; {CURRENT}",
    f"numpy>=2.0,<3; {CURRENT}",
    f"pandas>=2.2,<4; {CURRENT}",
    f"scipy>=1.13,<2; {CURRENT}",
    f"matplotlib>=3.8,<4; {CURRENT}",
    f"absl-py>=1.0,<3; {CURRENT}",
    # epsilon accounting on both stacks (tensorflow-privacy 0.9.0 pins 0.4.3 on the reference)
    "dp-accounting>=0.4.3,<0.7",
    "scikit-learn>=1.3,<1.10",
    "hmmlearn>=0.3,<0.4",
    # the command line's settings files are TOML (tomllib is in the standard library from 3.11)
    'tomli>=1.1; python_version < "3.11"',
]

# generate_to("....parquet") (optional; the tests cover it). pyarrow 26 needs numpy 2; 19.0.1
# runs on the reference stack's numpy 1.26
PARQUET = [f"pyarrow>=14,<20; {REFERENCE}", f"pyarrow>=18; {CURRENT}"]

# the documentation site (mkdocs.yml; `mkdocs build --strict` in .ci/run)
DOCS = ["mkdocs>=1.6,<2", "mkdocs-material>=9.5,<10", "mkdocstrings[python]>=0.26,<2"]

setup(
    name="doppelganger_tf",
    version="0.3.0",
    description="DoppelGANger time-series GAN with metadata, in TensorFlow 2 / Keras",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["doppelganger_tf", "doppelganger_tf.*"]),
    # the fused LSTM's C++ source, compiled on first use (doppelganger_tf/gan/fused_lstm.py)
    package_data={"doppelganger_tf.gan": ["kernels/*.cc"]},
    python_requires=">=3.9,<3.14",
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": ["pytest>=7,<10", *PARQUET], "parquet": PARQUET, "docs": DOCS},
    entry_points={"console_scripts": ["doppelganger=doppelganger_tf.cli:main",
                                    "doppelganger-demo=doppelganger_tf.demo:run_from_command_line"]},
)
