"""Binding globals: a lookup table and a uniform of parameters, declared once, bound by name on the host.

Run: ``python examples/bindings.py``.
"""
import dataclasses

from legionella.lang import Buffer, Uniform, f32, global_id, i32


@dataclasses.dataclass
class Curve:
    gain: f32
    bias: f32
    count: i32


# legionella: binding set=1 binding=0
TABLE = Buffer[f32]

# legionella: binding set=1 binding=1
CURVE = Uniform[Curve]


# legionella: kernel
def apply_curve(out: Buffer[f32], x: Buffer[i32]):
    i = global_id().x
    if i < len(out) and i < CURVE.count:
        out[i] = TABLE[x[i] % len(TABLE)] * CURVE.gain + CURVE.bias


def main(n=100_000):
    import numpy as np
    import legionella as lg

    table = np.linspace(0.0, 1.0, 256, dtype=np.float32)
    x = np.random.default_rng(1).integers(0, 1 << 20, n, dtype=np.int32)
    TABLE.bind(lg.array(table))                      # once, for every kernel that reads TABLE
    CURVE.bind(Curve(gain=2.0, bias=0.5, count=n))
    out = lg.zeros(n)
    apply_curve[n](out, lg.array(x))
    expected = table[x % 256] * np.float32(2.0) + np.float32(0.5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)

    half = lg.zeros(n)                               # a launch keyword binds for that launch only
    apply_curve[n](half, lg.array(x), CURVE=Curve(gain=2.0, bias=0.5, count=n // 2))
    assert not half.numpy()[n // 2:].any()
    emulated = np.zeros(1000, np.float32)            # the emulator binds the same way (TABLE as bound)
    apply_curve.emulate[1000](emulated, x[:1000], CURVE=Curve(gain=2.0, bias=0.5, count=n // 2))
    np.testing.assert_array_equal(half.numpy()[:1000], emulated)
    print(f"bindings on {lg.device().name}: {n:,} elements through TABLE and CURVE, result checked")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked definitions above into kernels and bindings)
    main()
