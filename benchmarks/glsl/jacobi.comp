// jacobi_step(src: Buffer[f32, 2], dst: Buffer[f32, 2], alpha: f32) of examples/heat.py, by hand.
#version 450
layout(local_size_x = 16, local_size_y = 16) in;
layout(std430, set = 0, binding = 0) readonly buffer Src { float src[]; };
layout(std430, set = 0, binding = 1) buffer Dst { float dst[]; };
layout(push_constant) uniform Push {
    layout(offset = 0) uvec3 group_offset;
    layout(offset = 16) uvec3 num_groups;
    layout(offset = 32) ivec2 src_shape;
    layout(offset = 40) ivec2 dst_shape;
    layout(offset = 48) float alpha;
};
void main() {
    int x = int((gl_WorkGroupID.x + group_offset.x) * 16u + gl_LocalInvocationID.x);
    int y = int((gl_WorkGroupID.y + group_offset.y) * 16u + gl_LocalInvocationID.y);
    int h = src_shape.x, w = src_shape.y;
    if (x >= w || y >= h) return;
    int i = y * w + x;
    if (x == 0 || y == 0 || x == w - 1 || y == h - 1) { dst[i] = src[i]; return; }
    float lap = src[i - w] + src[i + w] + src[i - 1] + src[i + 1] - 4.0 * src[i];
    dst[i] = src[i] + alpha * lap;
}
