// saxpy with 128-bit loads and stores: one invocation per 4 elements (launch n/4 invocations; the
// benchmark uses n divisible by 4). Same ABI as saxpy.comp.
#version 450
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer X { vec4 x[]; };
layout(std430, set = 0, binding = 1) buffer Y { vec4 y[]; };
layout(push_constant) uniform Push {
    layout(offset = 0) uvec3 group_offset;
    layout(offset = 16) uvec3 num_groups;
    layout(offset = 32) float a;
    layout(offset = 36) int x_n;
    layout(offset = 40) int y_n;
};
void main() {
    uint i = (gl_WorkGroupID.x + group_offset.x) * 256u + gl_LocalInvocationID.x;
    if (int(i) < y_n / 4) y[i] = a * x[i] + y[i];
}
