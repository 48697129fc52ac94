"""The kernel entry point: parameters to bindings and push constants (the launch ABI), then the frontend.

Layout of the push constants (all offsets in bytes, std430-like alignment):
the 32-byte header, then in parameter order each scalar parameter (aligned to its size; a bool is a
32-bit word) and each buffer's shape (``ndim`` i32 words).
"""
import inspect

from ..errors import CompileError
from ..lang.types import BufferType, ScalarType, VectorType, as_lang_type, boolean, padded_vector_problem
from .artifact import CompiledKernel, Param
from . import matrices
from .bindings import GlobalBuffers, numeric_element
from .frontend import CompilerContext, FunctionCompiler, Static
from .ir import Assign, BufferRef, Expr, Function, Program, Store, Var
from .resolve import kernel_source
from .workgroup import atomic_buffers
from .typerules import TypeRuleError, require_target


def _annotations(kernel, src):
    try:
        return inspect.get_annotations(kernel.py_func, eval_str=True)
    except Exception as e:  # a string annotation that does not evaluate: the user's error, reported
        raise CompileError(f"cannot evaluate the parameter annotations of kernel '{kernel.__name__}': {e}",
                           filename=src.filename, lineno=src.loc(src.tree).line,
                           text=src.line_text(src.loc(src.tree).line)) from None


def param_error(src, arg, message):
    """The located CompileError for kernel parameter ``arg`` (an ``ast.arg``) of the kernel ``src``."""
    loc = src.loc(arg)
    return CompileError(message, filename=loc.filename, lineno=loc.line, col=loc.col, text=src.line_text(loc.line),
                        chain=[f"kernel '{src.name}'"])


def element_problem(element):
    """Why no host array can hold a buffer of ``element`` s (mat3, vec3: std430 pads them), or None."""
    return matrices.buffer_element_problem(element) or padded_vector_problem(element)


def interface(kernel, src, target):
    """Parameters of the kernel: ``(scope, params, buffers, push_members, entry statements)``."""
    annotations = _annotations(kernel, src)
    args = src.tree.args
    if args.vararg or args.kwarg or args.kwonlyargs or args.posonlyargs:
        raise param_error(src, src.tree, "kernel parameters must be plain positional parameters")
    scope, params, buffers, members, entry = {}, [], [], [], []
    offset = CompiledKernel.HEADER_SIZE
    for arg in args.args:
        name = arg.arg
        if name not in annotations:
            raise param_error(src, arg, f"kernel parameter '{name}' needs a type annotation, like "
                                         f"'{name}: f32' or '{name}: Buffer[f32]'")
        try:
            t = as_lang_type(annotations[name])
        except TypeError as e:
            raise param_error(src, arg, str(e)) from None
        if isinstance(t, BufferType):
            if t.uniform or not numeric_element(t.element):
                raise param_error(src, arg, f"{t.name} cannot be a kernel parameter; buffer elements must be "
                                             "numeric scalars, vectors or structs (use Buffer[u32] for flags)")
            problem = element_problem(t.element)
            if problem is not None:
                raise param_error(src, arg, problem)
            offset = -(-offset // 4) * 4
            ref = BufferRef(name, t, len(buffers), len(members) + 2)
            for k in range(t.ndim):
                members.append((f"{name}.shape{k}", as_lang_type(int), offset + 4 * k))
            params.append(Param(name, "buffer", t, binding=ref.binding, shape_offset=offset))
            offset += 4 * t.ndim
            buffers.append(ref)
            scope[name] = Static(ref)
        elif isinstance(t, (ScalarType, VectorType)):
            try:
                require_target(t, target)
            except TypeRuleError as e:
                raise param_error(src, arg, f"parameter '{name}': {e}") from None
            size = 4 if t == boolean else t.size
            align = 4 if t == boolean else t.align
            offset = -(-offset // align) * align
            loc = src.loc(arg)
            var = Var(name, t)
            entry.append(Assign(loc, var, Expr("push", t, attr=len(members) + 2, loc=loc)))
            members.append((name, t, offset))
            params.append(Param(name, "scalar", t, offset=offset))
            offset += size
            scope[name] = var
        else:
            raise param_error(src, arg, f"kernel parameter '{name}' has annotation {annotations[name]!r}; use "
                                         "a scalar (f32, i32, ...), a vector (vec4, ...) or Buffer[T]")
    return scope, params, buffers, members, entry, offset


def check_push_size(src, offset, target):
    """The push-constant size (a multiple of 4); more than the device allows is a CompileError."""
    size = -(-offset // 4) * 4
    if size > target.max_push_constants:
        raise param_error(src, src.tree, f"the kernel's scalar parameters and buffer shapes need {size} bytes of "
                                          f"push constants, but the device allows {target.max_push_constants}; "
                                          "pass fewer scalars (pack them into a Buffer)")
    return size


def written_buffers(functions):
    """The buffers some function stores into (the others are bound read-only)."""
    written = set()

    def visit(stmts):
        """Collect the stores of a statement list, recursively."""
        for s in stmts:
            if isinstance(s, Store):
                written.add(s.buffer)
            for child in ("body", "orelse", "step"):
                visit(getattr(s, child, ()))

    for fn in functions:
        visit(fn.body)
    return written


def build_program(kernel, target, workgroup):
    """Run the frontend over a kernel and its helpers: the typed IR :class:`~.ir.Program`."""
    src = kernel_source(kernel)
    scope, params, buffers, members, entry, offset = interface(kernel, src, target)
    ctx = CompilerContext(target, kernel.__name__, workgroup, GlobalBuffers(buffers, members, offset))
    function = Function(src.name, [], None, [], src.loc(src.tree), is_kernel=True)
    compiler = FunctionCompiler(ctx, src, function, scope, [f"kernel '{src.name}'"])
    function.body = entry + compiler.block(src.tree.body)
    size = check_push_size(src, ctx.global_buffers.offset, target)
    all_functions = [*ctx.helpers, function]
    written = written_buffers(all_functions) | atomic_buffers(all_functions)
    params = [p if p.kind != "buffer" or buffers[p.binding] in written else
              Param(p.name, p.kind, p.type, binding=p.binding, shape_offset=p.shape_offset, writes=False)
              for p in params]
    return Program(function, ctx.helpers, [*buffers, *ctx.global_buffers.refs.values()], members, workgroup, params,
                   size, written, shared=ctx.shared, globals=ctx.global_buffers.artifact(written))
