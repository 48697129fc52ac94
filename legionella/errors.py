"""The exceptions a user of Legionella can meet.

Policy: every failure a user can cause is one of these (or a plain ``TypeError``/``ValueError`` for a
wrong argument on the host), with a message that says what to change. Any other exception escaping the
package is a bug in Legionella.
"""


class LegionellaError(Exception):
    """Base class of Legionella's own errors."""


class CompileError(LegionellaError):
    """A kernel (or a function it calls) uses something the kernel language does not support.

    Carries the location like ``SyntaxError`` does: ``filename``, ``lineno``, ``col`` (1-based) and the
    source ``text`` of the line; ``chain`` lists the calls that reached the failing function, innermost
    first, as ``"helper 'f' called from kernel 'k' at file.py:12"`` strings.

    Rendered as::

        k.py:3:9: dicts are not supported; use a Buffer or separate variables
            d = {}
                ^
          in kernel 'k'
    """

    def __init__(self, message, *, filename=None, lineno=None, col=None, text=None, chain=()):
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.text = text
        self.chain = list(chain)
        super().__init__(self._render())

    def _render(self):
        where = ""
        if self.filename is not None:
            where = f"{self.filename}:{self.lineno}" + (f":{self.col}" if self.col else "") + ": "
        lines = [where + self.message]
        if self.text is not None:
            stripped = self.text.rstrip("\n")
            indent = len(stripped) - len(stripped.lstrip())
            lines.append("    " + stripped.strip())
            if self.col:
                lines.append("    " + " " * max(self.col - 1 - indent, 0) + "^")
        lines.extend(f"  in {link}" for link in self.chain)
        return "\n".join(lines)

    def with_link(self, link):
        """Return a copy of this error with one more call-chain entry (outermost last)."""
        return CompileError(self.message, filename=self.filename, lineno=self.lineno, col=self.col,
                            text=self.text, chain=[*self.chain, link])


class MarkerError(ImportError, LegionellaError):
    """A ``# legionella:`` marker is malformed: unknown kind or key, a non-literal value, or it marks nothing."""

    def __init__(self, message, *, filename=None, lineno=None):
        self.filename = filename
        self.lineno = lineno
        where = f"{filename}:{lineno}: " if filename is not None else ""
        super().__init__(where + message)


class DeviceError(LegionellaError):
    """A Vulkan call failed in a way the user can act on (no device, missing feature...)."""


class OutOfMemoryError(DeviceError, MemoryError):
    """The device could not allocate memory; the message gives the size asked and what is available."""


class DeviceLostError(DeviceError):
    """The device was lost; every later launch on it raises this too."""
