"""doppelganger_tf: DoppelGANger (Lin et al., IMC 2020) in TensorFlow 2 / Keras."""
from pathlib import Path

from setuptools import find_packages, setup

# tensorflow-privacy 0.9.0 (the latest) imports only with TensorFlow <= 2.15 (it needs
# tensorflow-estimator), numpy 1.x and tensorflow-probability 0.22: this set installs cleanly on
# Python 3.11 and is import-tested in CI.
INSTALL_REQUIRES = [
    "tensorflow>=2.15.0,<2.16",
    "tensorflow-privacy==0.9.0",
    "tensorflow-probability>=0.22.0,<0.23",
    "numpy>=1.23.5,<2",
    "pandas>=2.0,<2.3",
    "scipy>=1.10,<1.14",
    "matplotlib>=3.7,<3.10",
    "absl-py>=1.0,<2",
    "scikit-learn>=1.3,<1.10",
    "hmmlearn>=0.3,<0.4",
]

setup(
    name="doppelganger_tf",
    version="0.1.0",
    description="DoppelGANger time-series GAN with metadata, in TensorFlow 2 / Keras",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    packages=find_packages(include=["doppelganger_tf", "doppelganger_tf.*"]),
    # the fused LSTM's C++ source, compiled on first use (doppelganger_tf/fused_lstm.py)
    package_data={"doppelganger_tf": ["kernels/*.cc"]},
    python_requires=">=3.9,<3.12",
    install_requires=INSTALL_REQUIRES,
    extras_require={"test": ["pytest>=7,<10"]},
    entry_points={"console_scripts": ["doppelganger-demo=doppelganger_tf.demo:run_from_command_line"]},
)
