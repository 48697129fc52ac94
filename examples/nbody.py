"""One step of an all-pairs gravitational n-body simulation. Run: ``python examples/nbody.py``."""
import math

from legionella.lang import Buffer, dot, f32, global_id, vec3, vec4


# legionella: kernel workgroup=(64,)
def nbody_step(pos: Buffer[vec4], vel: Buffer[vec4], out: Buffer[vec4], dt: f32, softening: f32):
    i = global_id().x
    if i < len(pos):
        p = pos[i]
        acc = vec3(0.0, 0.0, 0.0)
        for j in range(len(pos)):
            q = pos[j]
            d = q.xyz - p.xyz
            r2 = dot(d, d) + softening
            inv = 1.0 / math.sqrt(r2 * r2 * r2)
            acc = acc + d * (q.w * inv)
        v = vel[i].xyz + acc * dt
        vel[i] = vec4(v, 0.0)
        out[i] = vec4(p.xyz + v * dt, p.w)


def main(n=512, dt=0.01, softening=0.01):
    import numpy as np
    import legionella as lg

    rng = np.random.default_rng(1)
    pos = rng.standard_normal((n, 4)).astype(np.float32)
    pos[:, 3] = rng.uniform(0.5, 1.0, n)
    vel = np.zeros((n, 4), dtype=np.float32)
    d_pos, d_vel, d_out = lg.array(pos), lg.array(vel), lg.empty((n, 4), dtype=np.float32)
    nbody_step[n](d_pos, d_vel, d_out, dt, softening)

    d = pos[None, :, :3] - pos[:, None, :3]
    r2 = (d * d).sum(-1) + softening
    acc = (d * (pos[None, :, 3] / np.sqrt(r2 ** 3))[..., None]).sum(1)
    v = vel[:, :3] + acc * dt
    np.testing.assert_allclose(d_vel.numpy()[:, :3], v, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(d_out.numpy()[:, :3], pos[:, :3] + v * dt, rtol=1e-3, atol=1e-4)
    print(f"n-body step, {n} bodies on {lg.device().name}: matches numpy")


if __name__ == "__main__":
    import legionella.auto  # noqa: F401  (turns the marked functions above into kernels)
    main()
