from .emulator import Emulation  # noqa: F401  (kernel.emulate)
