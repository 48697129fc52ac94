"""Cold codegen time: kernel source to SPIR-V bytes (no Vulkan, no in-process caches).

Run: ``.venv/bin/python -m pytest benchmarks/bench_codegen.py --benchmark-only``. Targets: saxpy under 2 ms
median on the development machine; the ~100-line kernel is reported for scale. Each round clears the
compiler's source and kernel caches, so parsing, type checking, passes and emission are all timed.
"""
import math

import pytest

import legionella as lg
from legionella.compiler import Target, driver, resolve
from legionella.lang import Buffer, dot, f32, global_id, i32, u32, vec3, vec4


@lg.kernel
def saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]):
    i = global_id().x
    if i < len(y):
        y[i] = a * x[i] + y[i]


def hash32(x):
    x = (x ^ u32(61)) ^ (x >> 16)
    x = x * u32(9)
    x = x ^ (x >> 4)
    x = x * u32(0x27D4EB2D)
    return x ^ (x >> 15)


def rand01(seed):
    return f32(hash32(seed) & u32(0xFFFFFF)) / 16777216.0


def sphere_hit(origin, direction, center, radius):
    oc = origin - center
    b = dot(oc, direction)
    c = dot(oc, oc) - radius * radius
    disc = b * b - c
    if disc < 0.0:
        return -1.0, vec3(0.0)
    t = -b - math.sqrt(disc)
    if t < 0.0:
        t = -b + math.sqrt(disc)
    hit = origin + direction * t
    return t, (hit - center) / radius


def shade(normal, light, albedo):
    lambert = max(dot(normal, light), 0.0)
    return albedo * (0.1 + 0.9 * lambert)


@lg.kernel
def render(image: Buffer[vec4, 2], spheres: Buffer[vec4], colors: Buffer[vec4], samples: i32, seed: u32,
           exposure: f32):
    g = global_id()
    x = g.x
    y = g.y
    height = image.shape[0]
    width = image.shape[1]
    if x >= width or y >= height:
        return
    light = vec3(0.577, 0.577, -0.577)
    total = vec3(0.0)
    for s in range(samples):
        state = seed + u32(x) * u32(1973) + u32(y) * u32(9277) + u32(s) * u32(26699)
        jx = rand01(state)
        jy = rand01(state + u32(1))
        u = (f32(x) + jx) / f32(width) * 2.0 - 1.0
        v = (f32(y) + jy) / f32(height) * 2.0 - 1.0
        direction = vec3(u, v, 1.0)
        direction = direction / math.sqrt(dot(direction, direction))
        origin = vec3(0.0, 0.0, -3.0)
        best = 1.0e30
        color = vec3(0.2, 0.3, 0.5) * (0.5 + 0.5 * v)
        for k in range(len(spheres)):
            sphere = spheres[k]
            t, normal = sphere_hit(origin, direction, sphere.xyz, sphere.w)
            if t > 0.0 and t < best:
                best = t
                color = shade(normal, light, colors[k].xyz)
        bounce = 0
        while bounce < 2 and best < 1.0e30:
            bounce += 1
            color = color * 0.9
            if color.x + color.y + color.z < 0.05:
                break
        total = total + color
    total = total * (exposure / f32(max(samples, 1)))
    r = min(max(total.x, 0.0), 1.0)
    gg = min(max(total.y, 0.0), 1.0)
    b = min(max(total.z, 0.0), 1.0)
    gamma = 1.0 / 2.2
    image[y, x] = vec4(r ** 0.5 if gamma > 0.5 else r, gg, b, 1.0)
    if x == 0 and y == 0:
        image[0, 0] = vec4(f32(samples), f32(seed % u32(1000)), exposure, 0.0)
    checker = (x // 8 + y // 8) % 2
    if checker == 1 and best >= 1.0e30:
        image[y, x] = image[y, x] * 0.95
    edge = x == 0 or y == 0 or x == width - 1 or y == height - 1
    if edge:
        image[y, x] = vec4(0.0, 0.0, 0.0, 1.0)
    vignette = 1.0 - 0.3 * ((f32(x) / f32(width) - 0.5) ** 2 + (f32(y) / f32(height) - 0.5) ** 2)
    image[y, x] = vec4(image[y, x].xyz * vignette, 1.0)


def cold_compile(kernel):
    resolve._sources.clear()
    driver._cache.clear()
    return driver.compile_kernel(kernel, Target())


@pytest.mark.parametrize("kernel", [saxpy, render], ids=["saxpy", "render-100-lines"])
def test_cold_codegen(benchmark, kernel):
    spirv = benchmark(cold_compile, kernel).spirv
    assert spirv[:4] == b"\x03\x02\x23\x07"


@pytest.mark.parametrize("kernel", [saxpy, render], ids=["saxpy", "render-100-lines"])
def test_reference_cpython_compile(benchmark, kernel):
    """The reference for the ratio: CPython compiling the same source to bytecode."""
    benchmark(compile, kernel.source, kernel.filename, "exec")
