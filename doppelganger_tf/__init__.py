"""doppelganger_tf: DoppelGANger (Lin et al., IMC 2020) in TensorFlow 2 / Keras."""
__version__ = "0.1.0"
