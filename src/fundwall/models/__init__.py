"""Learned models: training, the compiled trees that score online and in bulk, the registry."""
