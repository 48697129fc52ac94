"""The kernel language: types and intrinsics. Importable without a GPU or Vulkan.

``from legionella.lang import f32, Buffer, global_id`` in a module of kernels keeps that module plain
Python: without Legionella it imports and runs like any other.
"""
from .types import (Buffer, Uniform, bvec2, bvec3, bvec4, f16, f32, f64, i32, i64, ivec2, ivec3, ivec4,
                    mat2, mat3, mat4, u32, u64, uvec2, uvec3, uvec4, vec2, vec3, vec4)
from .types import boolean as bool_  # noqa: F401  (``bool`` itself also works in annotations)
from .intrinsics import *  # noqa: F401,F403
