"""Numba kernels: arrays in, arrays out, no scikit-learn and no Python objects."""
