"""A module of helpers and constants that kernels in the tests reach through module attributes."""
SCALE = 3
OFFSET = 0.25


def scale(x):
    return x * SCALE + OFFSET


def clamp_index(i, n):
    if i < 0:
        return 0
    if i >= n:
        return n - 1
    return i


K = 2


def times_k(x):
    return x * K
