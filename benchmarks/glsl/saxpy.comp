// saxpy(a: f32, x: Buffer[f32], y: Buffer[f32]) by hand, in Legionella's launch ABI
// (push constants: group_offset, num_groups, then a, x.shape0, y.shape0; buffers at bindings 0, 1).
#version 450
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };
layout(push_constant) uniform Push {
    layout(offset = 0) uvec3 group_offset;
    layout(offset = 16) uvec3 num_groups;
    layout(offset = 32) float a;
    layout(offset = 36) int x_n;
    layout(offset = 40) int y_n;
};
void main() {
    uint i = (gl_WorkGroupID.x + group_offset.x) * 256u + gl_LocalInvocationID.x;
    if (int(i) < y_n) y[i] = a * x[i] + y[i];
}
