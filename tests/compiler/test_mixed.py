"""Differential tests that combine constructs the way real kernels do: helpers returning vectors and
tuples from loops, calls inside chained comparisons, nested loops with break/continue, wrapping
arithmetic, reassigned parameters."""
import numpy as np

import legionella as lg
from legionella.lang import Buffer, f32, global_id, i32, u32, vec2, vec3
from differential import run_both

N = 33


def rotate(v, c, s):
    return vec2(v.x * c - v.y * s, v.x * s + v.y * c)


def find_pair(a, target):
    for p in range(len(a)):
        for q in range(p + 1, len(a)):
            if a[p] + a[q] == target:
                return p, q
    return -1, -1


def triple(x):
    return x * 3


@lg.kernel
def mixed(a: Buffer[i32], f: Buffer[f32], out: Buffer[i32, 2], fout: Buffer[f32, 2], scale: f32):
    i = global_id().x
    if i >= len(a):
        return
    scale = scale * 2.0
    v = rotate(vec2(f[i], 1.0), 0.6, 0.8) * scale
    fout[i, 0] = v.x
    fout[i, 1] = v.y if v.x > 0.0 else -v.y
    p, q = find_pair(a, i)
    out[i, 0] = p * 100 + q
    out[i, 1] = i32(-5 < triple(a[i]) <= 40)
    total = 0
    k = i
    while k > 0:
        k -= 1
        if k % 3 == 0:
            continue
        j = 0
        while True:
            j += 1
            if j * j > k:
                break
        total += j
    out[i, 2] = total
    big = a[i] * 1000003 * 7919
    out[i, 3] = big
    u = u32(a[i]) - u32(100)
    out[i, 4] = i32(u >> 1)
    acc = 0
    m = 0  # read after the loop, which the compiler cannot prove runs (docs/language.md, Locals)
    for m in range(i, -1, -3):
        if m < i - 20:
            break
        acc += m
    out[i, 5] = acc + m
    fout[i, 2] = f[i] % -1.5 + f[i] // -0.75


def test_constructs_together():
    a = (np.arange(N, dtype=np.int32) * 7) % 23 - 5
    f = np.linspace(-5, 5, N).astype(np.float32)
    run_both(mixed, N + 3, a, f, np.zeros((N, 6), np.int32), np.zeros((N, 3), np.float32), 0.75,
             rtol=1e-5, atol=1e-5)
