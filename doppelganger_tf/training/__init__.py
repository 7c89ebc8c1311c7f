"""Training around the model: the input pipeline, callbacks (checkpoints, stopping, progress,
fidelity tracking), distribution over devices, thread settings, suggested settings and
retraining the attribute generator."""
