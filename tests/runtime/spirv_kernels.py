"""Modules for the ``dispatch_spirv`` tests, written in SPIR-V assembly and assembled with ``spirv-as``.

They follow the launch ABI of ``legionella/compiler/artifact.py`` (push-constant header, buffer
bindings, shapes and scalars after the header), independently of Legionella's own compiler. Each module goes through ``hooks.notify``, so the test conftest runs ``spirv-val`` on it.
"""
import os
import subprocess
import tempfile

from legionella.compiler.artifact import CompiledKernel, Param
from legionella.lang.types import Buffer, f32, i32
from legionella.spirv import hooks

WORKGROUP = 64

# element name -> (SPIR-V type id, lang type, array stride)
ELEMENTS = {"int": ("%int", i32, 4), "float": ("%float", f32, 4)}
SCALARS = {"int": i32, "float": f32}

PROLOGUE = """
OpCapability Shader
OpMemoryModel Logical GLSL450
OpEntryPoint GLCompute %main "main" %wgid %lid
OpExecutionMode %main LocalSize {wg} 1 1
OpDecorate %wgid BuiltIn WorkgroupId
OpDecorate %lid BuiltIn LocalInvocationId
OpDecorate %PC Block
OpMemberDecorate %PC 0 Offset 0
OpMemberDecorate %PC 1 Offset 16
{pc_decorations}
{buffer_decorations}
%void = OpTypeVoid
%fn = OpTypeFunction %void
%bool = OpTypeBool
%int = OpTypeInt 32 1
%uint = OpTypeInt 32 0
%float = OpTypeFloat 32
%v3u = OpTypeVector %uint 3
%v4f = OpTypeVector %float 4
%in_v3u = OpTypePointer Input %v3u
%wgid = OpVariable %in_v3u Input
%lid = OpVariable %in_v3u Input
%PC = OpTypeStruct %v3u %v3u {pc_members}
%pc_PC = OpTypePointer PushConstant %PC
%pc = OpVariable %pc_PC PushConstant
%pc_v3u = OpTypePointer PushConstant %v3u
%pc_int = OpTypePointer PushConstant %int
%pc_uint = OpTypePointer PushConstant %uint
%pc_float = OpTypePointer PushConstant %float
%sb_int = OpTypePointer StorageBuffer %int
%sb_uint = OpTypePointer StorageBuffer %uint
%sb_float = OpTypePointer StorageBuffer %float
%sb_v4f = OpTypePointer StorageBuffer %v4f
%u0 = OpConstant %uint 0
%u1 = OpConstant %uint 1
%u2 = OpConstant %uint 2
%u3 = OpConstant %uint 3
%u4 = OpConstant %uint 4
%u5 = OpConstant %uint 5
%uwg = OpConstant %uint {wg}
%i0 = OpConstant %int 0
%i1 = OpConstant %int 1
%f2 = OpConstant %float 2
{buffer_types}
%main = OpFunction %void None %fn
%entry = OpLabel
%wg = OpLoad %v3u %wgid
%go_p = OpAccessChain %pc_v3u %pc %u0
%go = OpLoad %v3u %go_p
%wgs = OpIAdd %v3u %wg %go
%wgx = OpCompositeExtract %uint %wgs 0
%base = OpIMul %uint %wgx %uwg
%l = OpLoad %v3u %lid
%lx = OpCompositeExtract %uint %l 0
%gx = OpIAdd %uint %base %lx
%i = OpBitcast %int %gx
"""

EPILOGUE = """
OpReturn
OpFunctionEnd
"""


def assemble(text):
    """SPIR-V assembly -> binary (Vulkan 1.1 / SPIR-V 1.3), reported to the spirv-val test hook."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "k.spvasm"), os.path.join(tmp, "k.spv")
        with open(src, "w") as f:
            f.write(text)
        subprocess.run(["spirv-as", "--target-env", "vulkan1.1", src, "-o", out], check=True,
                       capture_output=True, text=True)
        with open(out, "rb") as f:
            spirv = f.read()
    hooks.notify(spirv)
    return spirv


def module_text(buffers, scalars, body):
    """A module binding ``buffers`` (element names) at 0..n-1, with push constants: the 32-byte header,
    one i32 shape word per buffer, then ``scalars``; ``body`` runs with ``%i`` = global_id().x (i32).

    Push-constant members are numbered: 2.. for shapes (``%shape0``... loaded for you), then scalars
    (``%s0``, ``%s1``... loaded for you).
    """
    members = ["%int"] * len(buffers) + [f"%{s}" for s in scalars]
    pc_decorations = "\n".join(f"OpMemberDecorate %PC {k + 2} Offset {32 + 4 * k}" for k in range(len(members)))
    buffer_decorations, buffer_types, loads = [], [], []
    for b, element in enumerate(buffers):
        type_id, _, stride = ELEMENTS[element]
        buffer_decorations += [f"OpDecorate %arr{b} ArrayStride {stride}", f"OpDecorate %Buf{b} Block",
                               f"OpMemberDecorate %Buf{b} 0 Offset 0", f"OpDecorate %buf{b} DescriptorSet 0",
                               f"OpDecorate %buf{b} Binding {b}"]
        buffer_types += [f"%arr{b} = OpTypeRuntimeArray {type_id}", f"%Buf{b} = OpTypeStruct %arr{b}",
                         f"%sbBuf{b} = OpTypePointer StorageBuffer %Buf{b}",
                         f"%buf{b} = OpVariable %sbBuf{b} StorageBuffer"]
    for k in range(len(members)):
        name = f"%shape{k}" if k < len(buffers) else f"%s{k - len(buffers)}"
        scalar = "int" if k < len(buffers) else scalars[k - len(buffers)]
        buffer_types.append(f"%member{k} = OpConstant %uint {k + 2}")
        loads += [f"{name}_p = OpAccessChain %pc_{scalar} %pc %member{k}", f"{name} = OpLoad %{scalar} {name}_p"]
    text = PROLOGUE.format(wg=WORKGROUP, pc_decorations="\n".join(pc_decorations.splitlines()),
                           buffer_decorations="\n".join(buffer_decorations), pc_members=" ".join(members),
                           buffer_types="\n".join(buffer_types))
    return text + "\n".join(loads) + "\n" + body + EPILOGUE


def compiled_kernel(name, buffers, scalars, body, writes=None):
    """A :class:`CompiledKernel` for the module, with params ``b0.. s0..`` per the launch ABI."""
    writes = writes or [True] * len(buffers)
    params = [Param(f"b{k}", "buffer", Buffer[ELEMENTS[e][1]], binding=k, shape_offset=32 + 4 * k, writes=w)
              for k, (e, w) in enumerate(zip(buffers, writes))]
    params += [Param(f"s{k}", "scalar", SCALARS[s], offset=32 + 4 * (len(buffers) + k))
               for k, s in enumerate(scalars)]
    size = 32 + 4 * (len(buffers) + len(scalars))
    return CompiledKernel(name=name, spirv=assemble(module_text(buffers, scalars, body)), entry_point="main",
                          workgroup=(WORKGROUP, 1, 1), params=tuple(params), push_constant_size=size)


# --- the kernels the tests use ---------------------------------------------------------------------------
GUARD = """%ok = OpSLessThan %bool %i %shape0
OpSelectionMerge %end None
OpBranchConditional %ok %body %end
%body = OpLabel
{body}
OpBranch %end
%end = OpLabel"""


def axpy():
    """``b0[i] = s0 * b1[i] + b0[i]`` (f32)."""
    return compiled_kernel("axpy", ["float", "float"], ["float"], GUARD.format(body="""
%xp = OpAccessChain %sb_float %buf1 %u0 %i
%x = OpLoad %float %xp
%yp = OpAccessChain %sb_float %buf0 %u0 %i
%y = OpLoad %float %yp
%ax = OpFMul %float %s0 %x
%r = OpFAdd %float %ax %y
OpStore %yp %r"""), writes=[True, False])


def iota():
    """``b0[i] = i``: shows global_id() across dispatches split by the runtime."""
    return compiled_kernel("iota", ["int"], [], GUARD.format(body="""
%dp = OpAccessChain %sb_int %buf0 %u0 %i
OpStore %dp %i"""))
