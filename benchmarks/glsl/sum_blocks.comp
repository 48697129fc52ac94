// sum_blocks(x: Buffer[f32], partial: Buffer[f32]) of benchmarks/kernels.py, by hand, same algorithm:
// grid-strided running sums (four loads per step), a subgroup sum, one slot per subgroup in shared memory.
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Partial { float partial[]; };
layout(push_constant) uniform Push {
    layout(offset = 0) uvec3 group_offset;
    layout(offset = 16) uvec3 num_groups;
    layout(offset = 32) int x_n;
    layout(offset = 36) int partial_n;
};
shared float per_subgroup[256];
void main() {
    uint lid = gl_LocalInvocationID.x;
    int i = int((gl_WorkGroupID.x + group_offset.x) * 256u + lid);
    int stride = int(num_groups.x * 256u);
    float acc = 0.0;
    for (; i + 3 * stride < x_n; i += 4 * stride)
        acc += (x[i] + x[i + stride]) + (x[i + 2 * stride] + x[i + 3 * stride]);
    for (; i < x_n; i += stride) acc += x[i];
    float total = subgroupAdd(acc);
    if (lid % gl_SubgroupSize == 0u) per_subgroup[lid / gl_SubgroupSize] = total;
    barrier();
    if (lid == 0u) {
        float s = 0.0;
        for (uint k = 0u; k < 256u / gl_SubgroupSize; ++k) s += per_subgroup[k];
        partial[gl_WorkGroupID.x + group_offset.x] = s;
    }
}
