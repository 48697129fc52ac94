"""Finding ``# legionella:`` markers in a module's source and parsing their options (DESIGN 2.2).

A marker is a comment token whose text starts with exactly ``# legionella:``, alone on its line. Markers are
found with :mod:`tokenize`, so the same text inside a string or docstring is not a marker. Option values
are Python literals read by :func:`ast.literal_eval`: nothing in a marker is ever evaluated.

>>> [m.kind for m in find_markers(b"# legionella: kernel workgroup=(16, 16)\\ndef f(): pass\\n", "m.py")]
['kernel']
>>> find_markers(b"# legionella: kernel workgroup=(16, 16)\\ndef f(): pass\\n", "m.py")[0].options
{'workgroup': (16, 16)}
"""
import ast
import dataclasses
import io
import tokenize

from ..errors import MarkerError
from ..kernel import normalize_workgroup

MARKER_PREFIX = "# legionella:"
MARKER_BYTES = MARKER_PREFIX.encode()  # the finder's bail-out: a module without these bytes is not touched


def _workgroup(value, key):
    try:
        return normalize_workgroup(value)
    except ValueError as e:
        raise MarkerError(str(e)) from None


def _descriptor_index(value, key):
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MarkerError(f"{key} must be a non-negative int, like set=0 binding=1; got {value!r}")
    return value


@dataclasses.dataclass(frozen=True)
class MarkerKind:
    """What a marker kind stands above (``marks``), its options and which are required.

    ``options`` maps each key to a checker ``(value, key) -> value`` that raises :class:`MarkerError`."""
    marks: str
    options: dict
    required: tuple = ()


KINDS = {
    "kernel": MarkerKind("def", {"workgroup": _workgroup}),
    "binding": MarkerKind("declaration", {"set": _descriptor_index, "binding": _descriptor_index},
                          required=("set", "binding")),
}
RESERVED_KINDS = ("vertex", "fragment")  # graphics stages, DESIGN 2.2 "(later)"


@dataclasses.dataclass(frozen=True)
class Marker:
    """One marker: its ``kind``, checked ``options`` and the 1-based ``lineno`` of the comment."""
    kind: str
    options: dict
    lineno: int


def comment_markers(source):
    """Yield ``(lineno, text, own_line)`` for each comment token of ``source`` (bytes) that starts with
    ``# legionella:``; ``own_line`` is False for a marker that trails code on its line."""
    for token in tokenize.tokenize(io.BytesIO(source).readline):
        if token.type == tokenize.COMMENT and token.string.startswith(MARKER_PREFIX):
            own_line = not token.line[:token.start[1]].strip()
            yield token.start[0], token.string, own_line


def find_markers(source, filename):
    """Every marker in ``source`` (bytes, any PEP 263 encoding), parsed and checked, in line order.

    Raises :class:`MarkerError` naming ``filename`` and the line for a malformed marker."""
    markers = []
    for lineno, text, own_line in comment_markers(source):
        if not own_line:
            raise MarkerError("a marker must be a comment line of its own, directly above the statement it "
                              "marks; move it to the line above", filename=filename, lineno=lineno)
        try:
            markers.append(parse_marker(text, lineno))
        except MarkerError as e:
            raise MarkerError(str(e), filename=filename, lineno=lineno) from None
    return markers


def parse_marker(text, lineno):
    """Parse one marker comment, ``# legionella: KIND [key=value ...]``, into a :class:`Marker`."""
    kind, rest = (text[len(MARKER_PREFIX):].split(None, 1) + ["", ""])[:2]
    if kind in RESERVED_KINDS:
        raise MarkerError(f"'{kind}' markers (graphics stages) are not supported yet; only "
                          f"{' and '.join(KINDS)} markers are")
    if kind not in KINDS:
        raise MarkerError(f"unknown marker kind {kind!r}; expected one of: {', '.join(KINDS)} "
                          f"(like '# legionella: kernel workgroup=(256,)')")
    spec = KINDS[kind]
    options = {}
    for key, value_text in split_options(rest):
        if key not in spec.options:
            expected = ", ".join(spec.options) or "none"
            raise MarkerError(f"unknown option {key!r} for a {kind} marker; expected: {expected}")
        if key in options:
            raise MarkerError(f"option {key!r} is given twice")
        try:
            value = ast.literal_eval(value_text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise MarkerError(f"the value of {key} must be a Python literal, like {key}=(256,); "
                              f"got {value_text.strip()!r}") from None
        options[key] = spec.options[key](value, key)
    missing = [key for key in spec.required if key not in options]
    if missing:
        raise MarkerError(f"a {kind} marker needs {' and '.join(f'{k}=' for k in missing)}, "
                          f"like '# legionella: binding set=0 binding=1'")
    return Marker(kind, options, lineno)


def split_options(text):
    """Split ``key=value key=value`` into ``[(key, value_text)]``; a value may hold spaces inside brackets.

    >>> split_options("workgroup=(16, 16) set=0")
    [('workgroup', '(16, 16) '), ('set', '0')]
    """
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        raise MarkerError(f"cannot read the options {text.strip()!r}; write key=value pairs "
                          "separated by spaces") from None
    keys, depth = [], 0  # (key, column of the key, column where its value starts)
    for i, token in enumerate(tokens):
        if token.type == tokenize.OP and token.string in ("(", "[", "{"):
            depth += 1
        elif token.type == tokenize.OP and token.string in (")", "]", "}"):
            depth -= 1
        elif (depth == 0 and token.type == tokenize.NAME and i + 1 < len(tokens)
              and tokens[i + 1].string == "="):
            keys.append((token.string, token.start[1], tokens[i + 1].end[1]))
    if not keys or text[:keys[0][1]].strip():
        if text.strip():
            raise MarkerError(f"cannot read the options {text.strip()!r}; write key=value pairs separated "
                              "by spaces, like workgroup=(256,)")
        return []
    ends = [start for _, start, _ in keys[1:]] + [len(text)]
    return [(key, text[value_start:end]) for (key, _, value_start), end in zip(keys, ends)]
