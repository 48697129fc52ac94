// sgemm(a, b, c: Buffer[f32, 2]) of examples/sgemm.py, by hand, same algorithm: 128x128 blocks of C per
// 16x16 workgroup, 8x8 per invocation in 16 vec4 accumulators, 8-deep tiles (A transposed) in shared
// memory, double-buffered through registers, one barrier per step, bounds checks only at C's edges.
#version 450
#extension GL_EXT_control_flow_attributes : enable
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer C { float c[]; };
layout(push_constant) uniform Push {
    layout(offset = 0) uvec3 group_offset;
    layout(offset = 16) uvec3 num_groups;
    layout(offset = 32) ivec2 a_shape;
    layout(offset = 40) ivec2 b_shape;
    layout(offset = 48) ivec2 c_shape;
};
const int TILE = 128, DEPTH = 8, QUADS = 32, PAD = 1;
shared vec4 tile_a[2 * DEPTH][QUADS + PAD];  // tile_a[k][q] = A[row0 + 4q .. row0 + 4q + 3][t + k]
shared vec4 tile_b[2 * DEPTH][QUADS];        // tile_b[k][q] = B[t + k][col0 + 4q .. col0 + 4q + 3]

float load_a(int row, int k) {
    return row < a_shape.x && k < a_shape.y ? a[row * a_shape.y + k] : 0.0;
}

float load_b(int k, int col) {
    return k < b_shape.x && col < b_shape.y ? b[k * b_shape.y + col] : 0.0;
}

vec4 column_of_four(int row, int k, bool unchecked) {
    if (unchecked) {
        int i = row * a_shape.y + k, n = a_shape.y;
        return vec4(a[i], a[i + n], a[i + 2 * n], a[i + 3 * n]);
    }
    return vec4(load_a(row, k), load_a(row + 1, k), load_a(row + 2, k), load_a(row + 3, k));
}

vec4 row_of_four(int k, int col, bool unchecked) {
    if (unchecked) {
        int i = k * b_shape.y + col;
        return vec4(b[i], b[i + 1], b[i + 2], b[i + 3]);
    }
    return vec4(load_b(k, col), load_b(k, col + 1), load_b(k, col + 2), load_b(k, col + 3));
}

void store_row(int row, int col, vec4 v, bool unchecked) {
    int n = c_shape.y, i = row * n + col;
    if (unchecked) {
        c[i] = v.x; c[i + 1] = v.y; c[i + 2] = v.z; c[i + 3] = v.w;
    } else if (row < c_shape.x) {
        if (col < n) c[i] = v.x;
        if (col + 1 < n) c[i + 1] = v.y;
        if (col + 2 < n) c[i + 2] = v.z;
        if (col + 3 < n) c[i + 3] = v.w;
    }
}

void main() {
    int lx = int(gl_LocalInvocationID.x), ly = int(gl_LocalInvocationID.y);
    int tid = ly * 16 + lx;
    int row0 = int(gl_WorkGroupID.y + group_offset.y) * TILE;
    int col0 = int(gl_WorkGroupID.x + group_offset.x) * TILE;
    int depth = a_shape.y;
    bool inside = row0 + TILE <= a_shape.x && col0 + TILE <= b_shape.y;
    int ka = tid % DEPTH, qa = tid / DEPTH, kb = tid / QUADS, qb = tid % QUADS;
    tile_a[ka][qa] = column_of_four(row0 + 4 * qa, ka, inside && DEPTH <= depth);
    tile_b[kb][qb] = row_of_four(kb, col0 + 4 * qb, inside && DEPTH <= depth);
    barrier();
    vec4 acc[8][2];
    [[unroll]] for (int i = 0; i < 8; ++i) acc[i][0] = acc[i][1] = vec4(0.0);
    int current = 0;
    for (int t = 0; t < depth; t += DEPTH) {
        int following = t + DEPTH;
        bool more = following < depth;
        vec4 next_a = vec4(0.0), next_b = vec4(0.0);
        if (more) {
            bool unchecked = inside && following + DEPTH <= depth;
            next_a = column_of_four(row0 + 4 * qa, following + ka, unchecked);
            next_b = row_of_four(following + kb, col0 + 4 * qb, unchecked);
        }
        [[unroll]] for (int k = 0; k < DEPTH; ++k) {
            vec4 a_lo = tile_a[current + k][ly], a_hi = tile_a[current + k][ly + 16];
            vec4 b_lo = tile_b[current + k][lx], b_hi = tile_b[current + k][lx + 16];
            [[unroll]] for (int i = 0; i < 4; ++i) {
                acc[i][0] += a_lo[i] * b_lo;
                acc[i][1] += a_lo[i] * b_hi;
                acc[i + 4][0] += a_hi[i] * b_lo;
                acc[i + 4][1] += a_hi[i] * b_hi;
            }
        }
        current = DEPTH - current;
        if (more) {
            tile_a[current + ka][qa] = next_a;
            tile_b[current + kb][qb] = next_b;
        }
        barrier();
    }
    int row = row0 + 4 * ly, col = col0 + 4 * lx;
    [[unroll]] for (int i = 0; i < 4; ++i) {
        store_row(row + i, col, acc[i][0], inside);
        store_row(row + i, col + 64, acc[i][1], inside);
        store_row(row + 64 + i, col, acc[i + 4][0], inside);
        store_row(row + 64 + i, col + 64, acc[i + 4][1], inside);
    }
}
