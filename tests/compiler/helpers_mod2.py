"""Same helper code as ``helpers_mod.times_k`` but another module constant: must not be confused."""
K = 5


def times_k(x):
    return x * K
