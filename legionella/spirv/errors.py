"""The builder's one error type."""


class BuilderError(Exception):
    """The caller (the compiler) built a malformed module: the message names the function and block.

    Raised at the call that did it, before any validator sees the module; it is a bug in the caller,
    never a user error, so it is not a ``LegionellaError``.
    """
