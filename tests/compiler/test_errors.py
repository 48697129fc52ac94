"""Should-fail snippets: each unsupported construct and common type error gives a CompileError with a
message that says what to do, at the right line and column, and never an internal exception.

Each snippet is written to its own module file (so line numbers are real file lines), imported, and
compiled for the default target (no f64, no i64). Positions are given relative to the snippet's first
line (``def k``); columns are 1-based, like SyntaxError's.
"""
import functools

import pytest

import legionella as lg
import snippets

HEADER = ("import math\nimport numpy as np\nfrom legionella.lang import *\nLIMIT = 4\nARR = np.zeros(3)\n"
          "WEIGHTS = (1.0, 2.0, 1.0)\n")
HEADER_LINES = HEADER.count("\n")

# (id, snippet, expected message fragment, line, column)
CASES = [
    ("dict", """
        def k(a: Buffer[f32]):
            d = {}
        """, "dicts are not supported", 2, 9),
    ("list", """
        def k(a: Buffer[f32]):
            v = [1, 2]
        """, "lists are not supported", 2, 9),
    ("list-comprehension", """
        def k(a: Buffer[f32]):
            v = [i for i in range(3)]
        """, "list comprehensions are not supported", 2, 9),
    ("string", """
        def k(a: Buffer[f32]):
            s = "text"
        """, "strings are not supported", 2, 9),
    ("f-string", """
        def k(a: Buffer[f32]):
            s = f"{a}"
        """, "strings are not supported", 2, 9),
    ("lambda", """
        def k(a: Buffer[f32]):
            f = lambda x: x
        """, "lambdas are not supported", 2, 9),
    ("try", """
        def k(a: Buffer[f32]):
            try:
                a[0] = 1.0
            except IndexError:
                pass
        """, "exceptions (try/except) are not supported", 2, 5),
    ("raise", """
        def k(a: Buffer[f32]):
            if len(a) == 0:
                raise ValueError("empty")
        """, "raising exceptions is not supported", 3, 9),
    ("with", """
        def k(a: Buffer[f32]):
            with open("x"):
                pass
        """, "with-statements are not supported", 2, 5),
    ("assert", """
        def k(a: Buffer[f32]):
            assert len(a) > 0
        """, "assert is not supported", 2, 5),
    ("nested-def", """
        def k(a: Buffer[f32]):
            def inner(x):
                return x
        """, "nested functions (closures) are not supported", 2, 5),
    ("import", """
        def k(a: Buffer[f32]):
            import os
        """, "import statements are not supported inside kernels", 2, 5),
    ("global", """
        def k(a: Buffer[f32]):
            global LIMIT
        """, "global statements are not supported", 2, 5),
    ("del", """
        def k(a: Buffer[f32]):
            x = 1
            del x
        """, "del is not supported", 3, 5),
    ("generator", """
        def k(a: Buffer[f32]):
            g = (i for i in range(3))
        """, "generator expressions are not supported", 2, 9),
    ("walrus", """
        def k(a: Buffer[f32]):
            if (n := len(a)) > 0:
                a[0] = 1.0
        """, "walrus operator", 2, 9),
    ("recursion", """
        def fact(n):
            if n <= 1:
                return 1
            return n * fact(n - 1)
        def k(a: Buffer[i32]):
            a[0] = fact(a[1])
        """, "recursion is not supported", 4, 16),
    ("undefined-name", """
        def k(a: Buffer[f32]):
            a[0] = missing + 1.0
        """, "name 'missing' is not defined", 2, 12),
    ("missing-annotation", """
        def k(a: Buffer[f32], s):
            a[0] = s
        """, "kernel parameter 's' needs a type annotation", 1, 23),
    ("bad-annotation", """
        def k(a: Buffer[f32], s: list):
            a[0] = 1.0
        """, "use a scalar (f32, i32, ...), a vector (vec4, ...) or Buffer[T]", 1, 23),
    ("kernel-returns-value", """
        def k(a: Buffer[f32]):
            return 1
        """, "a kernel cannot return a value", 2, 5),
    ("retype-local", """
        def k(a: Buffer[f32]):
            x = 1
            x = 2.5
            a[0] = x
        """, "'x' is a i32 (from its first assignment); cannot assign a f32", 3, 9),
    ("for-over-buffer", """
        def k(a: Buffer[f32]):
            for v in a:
                pass
        """, "for loops can only run over range(...)", 2, 14),
    ("for-else", """
        def k(a: Buffer[f32]):
            for i in range(3):
                pass
            else:
                pass
        """, "for ... else is not supported", 2, 5),
    ("while-else", """
        def k(a: Buffer[f32]):
            while len(a) > 3:
                pass
            else:
                pass
        """, "while ... else is not supported", 2, 5),
    ("wrong-rank", """
        def k(a: Buffer[f32, 2]):
            a[0] = 1.0
        """, "index it with 2 indexes, like a[i, j]", 2, 5),
    ("float-index", """
        def k(a: Buffer[f32]):
            a[1.5] = 1.0
        """, "indices and range() bounds must be integers", 2, 7),
    ("bool-arithmetic", """
        def k(a: Buffer[i32]):
            a[0] = (a[1] < 3) + (a[2] > 1)
        """, "arithmetic on bool values is not supported", 2, 12),
    ("and-non-bool", """
        def k(a: Buffer[i32]):
            a[0] = a[1] and a[2]
        """, "'and' needs bool operands", 2, 12),
    ("vector-width", """
        def k(a: Buffer[vec4]):
            v = vec2(1.0) + vec3(1.0)
        """, "the widths differ", 2, 9),
    ("bad-swizzle", """
        def k(a: Buffer[vec4]):
            v = a[0]
            w = v.q
        """, "vec4 has no component or swizzle 'q'", 3, 9),
    ("needs-f64", """
        def k(a: Buffer[i32], out: Buffer[f32]):
            out[0] = a[0] / a[1]
        """, "this needs f64, which the device does not support", 2, 14),
    ("needs-i64", """
        def k(a: Buffer[i32], b: Buffer[u32]):
            a[0] = a[1] + b[0]
        """, "this needs i64", 2, 12),
    ("print", """
        def k(a: Buffer[f32]):
            print(a[0])
        """, "print() is not supported", 2, 5),
    ("helper-falls-off-end", """
        def h(x):
            if x > 0:
                return x
        def k(a: Buffer[i32]):
            a[0] = h(a[1])
        """, "can reach its end without returning a value", 1, 1),
    ("helper-return-types", """
        def h(x, y):
            if x > 0:
                return x
            return y
        def k(a: Buffer[i32], b: Buffer[f32]):
            a[0] = h(a[1], b[0])
        """, "this returns a f32, but an earlier return gives a i32", 4, 5),
    ("range-step-zero", """
        def k(a: Buffer[f32]):
            for i in range(0, 10, 0):
                pass
        """, "range() step must not be zero", 2, 27),
    ("is-operator", """
        def k(a: Buffer[f32]):
            if a[0] is None:
                pass
        """, "'is' and 'in' are not supported", 2, 8),
    ("chained-assignment-of-a-vector", """
        def k(a: Buffer[f32]):
            v = w = vec2(1.0, 2.0)
        """, "chained assignment of a vec2: in Python every name would be one object", 2, 5),
    ("chained-assignment-of-a-matrix", """
        def k(a: Buffer[f32]):
            m = n = mat2(1.0)
        """, "chained assignment of a mat2", 2, 5),
    ("chained-assignment-to-a-tuple", """
        def k(a: Buffer[f32]):
            x, y = z = vec2(1.0)
        """, "chained assignment to a tuple", 2, 5),
    ("whole-struct-copy", """
        import dataclasses
        @dataclasses.dataclass
        class P:
            x: f32
            y: f32
        def k(a: Buffer[P]):
            p = a[0]
        """, "a P element cannot be assigned to a variable; read its fields", 7, 9),
    ("numpy-array-global", """
        def k(a: Buffer[f32]):
            a[0] = ARR[0]
        """, "only buffers, shapes and vectors can be indexed; a module-level ndarray is host data: pass it "
             "to the kernel as a Buffer", 2, 12),
    ("math-trunc", """
        def k(a: Buffer[f32]):
            a[0] = math.trunc(a[1])
        """, "math.trunc() is not available in kernels; i32(x) truncates toward zero", 2, 12),
    ("int-power-variable", """
        def k(a: Buffer[i32]):
            a[0] = a[1] ** a[2]
        """, "integer '**' needs a literal exponent", 2, 12),
    ("literal-too-big", """
        def k(a: Buffer[i32]):
            x = 3000000000
        """, "the literal 3000000000 does not fit in i32", 2, 9),
    ("tuple-value", """
        def k(a: Buffer[i32]):
            t = (1, 2)
        """, "tuples can only be returned from helpers or unpacked", 2, 9),
    ("slice", """
        def k(a: Buffer[f32]):
            a[1:3] = 0.0
        """, "slices are not supported", 2, 7),
    ("buffer-as-value", """
        def k(a: Buffer[f32]):
            b = a
        """, "buffer 'a' cannot be assigned to a variable", 2, 9),
    ("float-literal-into-int", """
        def k(a: Buffer[i32]):
            x = 1
            x += 0.5
        """, "cannot assign a f64", 3, 5),
    ("too-many-push-constants", """
        def k(a: Buffer[f32], s0: f32, s1: f32, s2: f32, s3: f32, s4: f32, s5: f32, s6: f32, s7: f32,
              s8: f32, s9: f32, s10: f32, s11: f32, s12: f32, s13: f32, s14: f32, s15: f32, s16: f32,
              s17: f32, s18: f32, s19: f32, s20: f32, s21: f32, s22: f32, s23: f32, s24: f32):
            a[0] = s0
        """, "bytes of push constants, but the device allows 128", 1, 1),
    ("return-annotation", """
        def h(x) -> i32:
            return x * 0.5
        def k(a: Buffer[f32], out: Buffer[f32]):
            out[0] = h(a[0])
        """, "is annotated to return i32 but returns f32", 1, 1),
    ("comparing-vectors", """
        def k(a: Buffer[vec4]):
            if a[0] < a[1]:
                pass
        """, "comparisons need scalars, not vec4", 2, 8),
]



compile_snippet = functools.partial(snippets.compile_snippet, HEADER)


@pytest.mark.parametrize("snippet, message, line, col", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_should_fail_snippet(snippet, message, line, col, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(snippet, tmp_path)
    e = info.value
    assert message in e.message
    assert (e.lineno, e.col) == (line + HEADER_LINES, col), str(e)
    assert e.filename.endswith(".py") and e.text is not None
    rendered = str(e).splitlines()
    assert rendered[0].startswith(f"{e.filename}:{e.lineno}:{e.col}: ")
    assert rendered[2].strip() == "^"


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


def test_no_internal_exception_escapes(tmp_path):
    """Every snippet fails with CompileError only: a KeyError/AttributeError/... would be a bug."""
    for case_id, snippet, *_ in CASES:
        try:
            compile_snippet(snippet, tmp_path)
        except lg.CompileError:
            continue
        except Exception as e:  # noqa: BLE001  (the point of the test)
            pytest.fail(f"{case_id}: internal {type(e).__name__} escaped: {e}")
        pytest.fail(f"{case_id}: compiled without an error")


# One-line kernel bodies that must fail with a CompileError (message fragment only).
MORE_CASES = [
    ("x = a.shape", "use a.shape[k]"), ("x = len(3)", "len() takes a buffer or a vector"),
    ("a.sum()", "buffers have .shape and len()"), ("x = math", "module 'math' cannot be assigned"),
    ("x = f32(1, 2)", "f32() takes 1 argument"), ("x = vec3(1.0, 2.0)", "vec3() takes 3 components, got 2"),
    ("x = range(3)", "range() can only be used as the iterable"),
    ("x = clamp(a[0], lo=0.0, hi=1.0)", "clamp() takes no keyword arguments"),
    ("x = a[0].foo", "a f32 has no attribute 'foo'"), ("x, y, z = global_id().xy", "cannot unpack 2 values"),
    ("x = None", "NoneType constants are not supported"), ("x = -a", "buffer 'a' cannot be used as a value"),
    ("print(a[0], end='')", "print() takes no keyword arguments"),
    ("x = global_id().w", "ivec3 has no component or swizzle 'w'"), ("x = ARR", "ndarray"),
    ("x = LIMIT(3)", "only functions, types and intrinsics can be called"),
    ("x = WEIGHTS[i32(a[0])]", "a tuple constant can only be indexed with a literal in 0..2"),
    ("x = np.sqrt(a[0])", "'sqrt' cannot be called in a kernel; numpy functions and types do not run in kernels"),
    ("x = np.int32(a[0])", "'int32' cannot be called in a kernel; numpy functions and types do not run"),
    ("x = a[global_id()]", "indices and range() bounds must be integers, not ivec3"),
    ("for i in range(1.5): pass", "must be integers"), ("x = ~a[0]", "needs an integer operand"),
    ("x = min(vec2(1.0), 2.0)", "min() compares scalars"), ("x = dot(vec2(1.0), vec3(1.0))", "same type"),
    ("x = 2 ** 100", "does not fit in i32"), ("x = 7 ** 1000000", "is far beyond any integer type"),
    ("x = 1 << 100000000", "far beyond any integer type"), ("x = 2 ** 10000000000 % 7", "far beyond"),
    ("x = (-8.0) ** (1 / 3)", "gives a complex"), ("a[0] = 1e40", "the literal 1e+40 is beyond f32's range"),
    ("x = a[0] * 1e300", "beyond f32's range (largest 3.403e+38); write f64(1e+300)"), ("x = 1 // 0", "division by zero"),
    ("x = vec4(1.0).xyzwx", "no component or swizzle 'xyzwx'"), ("a[0] += vec2(1.0)", "cannot convert vec2"),
    ("x = math.nosuch", "has no attribute 'nosuch'"), ("x = i64(1)", "this needs i64"),
    ("x = vec2(1.0)[i32(a[0])]", "a vec2 index must be a literal"),
    ("for i in range(3000000000): pass", "out of the i32 range"), ("x = a[2**40]", "out of the i32 range"),
    ("x = i32(math.nan)", "cannot convert nan to i32"), ("x = 1 if a[0] > 0 else 2**40", "does not fit in i32"),
    ("x = select(a[0] > 0, 2**40, 1)", "does not fit in i32"),
]


@pytest.mark.parametrize("body, message", MORE_CASES, ids=[c[0] for c in MORE_CASES])
def test_more_mistakes_are_compile_errors(body, message, tmp_path):
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(f"def k(a: Buffer[f32]):\n    {body}\n", tmp_path)
    assert message in info.value.message
    assert info.value.lineno == HEADER_LINES + 2


def test_call_chain_names_helper_and_kernel(tmp_path):
    snippet = """
        def inner(x):
            return {}
        def outer(x):
            return inner(x)
        def k(a: Buffer[f32]):
            a[0] = outer(a[1])
        """
    with pytest.raises(lg.CompileError) as info:
        compile_snippet(snippet, tmp_path)
    chain = info.value.chain
    assert chain[0].startswith("helper 'inner' called from helper 'outer' at ")
    assert chain[1].startswith("helper 'outer' called from kernel 'k' at ")
    assert chain[1].endswith(f":{6 + HEADER_LINES}")
    assert chain[2] == "kernel 'k'"
    assert "in helper 'inner' called from helper 'outer'" in str(info.value)


def test_while_true_with_a_nested_break_needs_a_final_return(tmp_path):
    snippet = """
        def h(x):
            while True:
                if x > 3:
                    break
                x += 1
                if x == 100:
                    return x
        def k(a: Buffer[i32]):
            a[0] = h(a[1])
        """
    with pytest.raises(lg.CompileError, match="can reach its end without returning a value"):
        compile_snippet(snippet, tmp_path)
