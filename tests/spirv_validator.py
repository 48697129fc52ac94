"""``spirv-val`` for the tests: the conftest runs it on every module a test assembles, and subprocess
helpers (tests/cli/checked_cli.py) and the fuzzer call it directly."""
import hashlib
import os
import shutil
import subprocess
import tempfile

_verdicts = {}  # sha256 of the module -> None (valid) or the validator's message


def spirv_target_env(spirv_bytes):
    """The spirv-val target environment for a module's SPIR-V version (header word 1 is 0x00MMmm00,
    little-endian, so byte 6 is the major and byte 5 the minor version)."""
    minor = spirv_bytes[5] if len(spirv_bytes) >= 8 else 0
    return "vulkan1.3" if minor >= 6 else "vulkan1.2"


def spirv_val(spirv_bytes):
    """None when ``spirv-val`` accepts the module, else its message (verdicts are remembered by hash)."""
    key = hashlib.sha256(spirv_bytes).hexdigest()
    if key not in _verdicts:
        if shutil.which("spirv-val") is None:
            raise RuntimeError("spirv-val is not installed (Debian package spirv-tools); run `make test`")
        with tempfile.NamedTemporaryFile(suffix=".spv", delete=False) as f:
            f.write(spirv_bytes)
        try:
            run = subprocess.run(["spirv-val", "--target-env", spirv_target_env(spirv_bytes), f.name],
                                 capture_output=True, text=True)
        finally:
            os.unlink(f.name)
        _verdicts[key] = None if run.returncode == 0 else (run.stdout + run.stderr).strip()
    return _verdicts[key]
