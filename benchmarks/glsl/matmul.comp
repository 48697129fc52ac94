// matmul(a, b, c: Buffer[f32, 2]) of examples/matmul.py, by hand, same algorithm: 16x16 tiles in
// shared memory, one output per invocation.
#version 450
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
shared float tile_a[16][16];
shared float tile_b[16][16];
void main() {
    int lx = int(gl_LocalInvocationID.x), ly = int(gl_LocalInvocationID.y);
    int col = int((gl_WorkGroupID.x + group_offset.x) * 16u) + lx;
    int row = int((gl_WorkGroupID.y + group_offset.y) * 16u) + ly;
    int n = a_shape.y;
    float acc = 0.0;
    for (int t = 0; t < n; t += 16) {
        tile_a[ly][lx] = (row < a_shape.x && t + lx < n) ? a[row * n + t + lx] : 0.0;
        tile_b[ly][lx] = (col < b_shape.y && t + ly < n) ? b[(t + ly) * b_shape.y + col] : 0.0;
        barrier();
        for (int k = 0; k < 16; ++k) acc += tile_a[ly][k] * tile_b[k][lx];
        barrier();
    }
    if (row < c_shape.x && col < c_shape.y) c[row * c_shape.y + col] = acc;
}
