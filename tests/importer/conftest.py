import pytest

from importer_helpers import SAXPY, write_package


@pytest.fixture
def saxpy_package(tmp_path):
    """``pkg.mod`` holding one marked kernel, ``saxpy``, under ``tmp_path``."""
    write_package(tmp_path, {"mod": SAXPY})
    return tmp_path
