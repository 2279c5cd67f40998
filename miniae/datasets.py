"""Data sets, all made locally (no downloads) and deterministic given a seed.

Every loader returns float64 arrays of shape (n_samples, n_features) in a documented range.
"""
import numpy as np


def load_digits(split=None, test_size=0.2, seed=0):
    """scikit-learn's 8x8 handwritten digits, pixels scaled from 0..16 to [0, 1].

    split=None: returns (X, y) with X (1797, 64), y (1797,) ints 0-9.
    split="train" or "test": the matching part of a seeded, stratified split
    (``test_size`` of the samples in the test part); split="both" returns
    (X_train, X_test, y_train, y_test).
    """
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split

    digits = _load()
    X = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    if split is None:
        return X, y
    parts = train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)
    X_train, X_test, y_train, y_test = parts
    if split == "train":
        return X_train, y_train
    if split == "test":
        return X_test, y_test
    if split == "both":
        return X_train, X_test, y_train, y_test
    raise ValueError(f"split must be None, 'train', 'test' or 'both', got {split!r}")
