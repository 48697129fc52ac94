// copy(src: Buffer[f32], dst: Buffer[f32]) by hand, in Legionella's launch ABI.
#version 450
layout(local_size_x = 256) in;
layout(std430, set = 0, binding = 0) readonly buffer Src { float src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Dst { float dst[]; };
layout(push_constant) uniform Push {
    layout(offset = 0) uvec3 group_offset;
    layout(offset = 16) uvec3 num_groups;
    layout(offset = 32) int src_n;
    layout(offset = 36) int dst_n;
};
void main() {
    uint i = (gl_WorkGroupID.x + group_offset.x) * 256u + gl_LocalInvocationID.x;
    if (int(i) < dst_n) dst[i] = src[i];
}
