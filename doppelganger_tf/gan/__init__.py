"""The GAN: the configuration, the Keras model and its train step, the networks (with the fused
LSTM and its C++ kernels), WGAN-GP, mixed precision and generation (plain, conditional and
observed)."""
