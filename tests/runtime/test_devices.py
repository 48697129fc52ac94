"""Devices: listing, the default choice, LEGIONELLA_DEVICE, set_device/use_device, `legionella devices`."""
import dataclasses
import subprocess
import sys

import pytest

import legionella as lg
import legionella.runtime as rt
from legionella.compiler.target import Target
from legionella.runtime import vkdevice
from subprocess_env import child_env


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter with extra environment variables (the repository and the
    caller's PYTHONPATH importable); returns the completed process."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=child_env(**env),
                          timeout=120)


def test_devices_lists_lavapipe_with_its_target():
    listed = lg.devices()
    assert listed and all(isinstance(d, rt.Device) for d in listed)
    d = lg.device()
    assert d in listed and rt.has_current_device()
    assert isinstance(d.target, Target)
    assert d.target.max_push_constants == d.limits["maxPushConstantsSize"] >= 128
    assert d.target.subgroup_size == d.info.subgroup_size > 0
    if "llvmpipe" in d.name:
        assert d.target.vendor == "llvmpipe" and d.target.float64 and d.target.spirv_version >= (1, 3)


def test_default_prefers_discrete_then_integrated_then_virtual_then_cpu():
    real = lg.device()

    def fake(index, device_type):
        info = dataclasses.replace(real.info, device_type=device_type, name=f"fake {device_type}")
        return rt.Device(index, real.physical, info)

    cpu, virtual, integrated, discrete = fake(0, 4), fake(1, 3), fake(2, 1), fake(3, 2)
    choose = vkdevice.default_device
    assert choose([cpu, virtual, integrated, discrete]) is discrete
    assert choose([cpu, virtual, integrated]) is integrated
    assert choose([cpu, virtual]) is virtual
    assert choose([cpu]) is cpu


def test_set_device_and_use_device():
    first = lg.device()
    assert lg.set_device(0) is lg.devices()[0]
    assert lg.set_device(first.name[:5].upper()) is first  # a case-insensitive name substring
    with lg.use_device(first) as inner:
        assert lg.device() is inner
    with pytest.raises(lg.DeviceError, match="no device name contains 'no such gpu'.*0: "):
        lg.set_device("no such gpu")
    with pytest.raises(lg.DeviceError, match="index 99 is out of range"):
        with lg.use_device(99):
            pass
    for wrong in (None, True, 0.0):  # None read as the name "None", True as "True"
        with pytest.raises(TypeError, match="use_device: pass a Device, a device index or a name substring"):
            with lg.use_device(wrong):
                pass
    assert lg.device() is first


@pytest.mark.parametrize("by", ["index", "name"])
def test_legionella_device_environment_variable(by):
    last = lg.devices()[-1]
    expected = vkdevice.find_device(last.name[-6:]).index  # the first whose name contains the substring
    choice = str(last.index) if by == "index" else last.name[-6:]
    run = run_python("import legionella as lg; print(lg.device().index)", LEGIONELLA_DEVICE=choice)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(last.index if by == "index" else expected)


def test_legionella_device_naming_no_device_is_a_clear_error():
    run = run_python("import legionella as lg; lg.device()", LEGIONELLA_DEVICE="quantum")
    assert "LEGIONELLA_DEVICE: no device name contains 'quantum'" in run.stderr


def test_legionella_devices_command_lists_features():
    run = run_python("from legionella.cli import main; main(['devices'])")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert lg.device().name in out and "(default)" in out
    for word in ("type:", "driver:", "Vulkan 1.", "subgroup size:", "subgroup ops:", "shared memory:", "f64"):
        assert word in out


def test_legionella_devices_without_a_driver_says_how_to_install_one(tmp_path):
    run = run_python("from legionella.cli import main; main(['devices'])", VK_ICD_FILENAMES=str(tmp_path / "none.json"),
                     VK_DRIVER_FILES=str(tmp_path / "none.json"), LEGIONELLA_VALIDATION="0")
    assert run.returncode == 0, run.stderr
    assert "apt-get install mesa-vulkan-drivers" in run.stdout
    assert len(run.stdout.strip().splitlines()) == 1


def test_validation_requested_without_the_layer_names_the_package(tmp_path):
    run = run_python("import legionella as lg; lg.device()", LEGIONELLA_VALIDATION="1", VK_LAYER_PATH=str(tmp_path))
    assert "legionella.errors.DeviceError" in run.stderr
    assert "apt-get install vulkan-validationlayers" in run.stderr


BLOCK_VULKAN = '''
import sys


class NoVulkan:
    """Makes `import vulkan` fail, as on a machine without the binding."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "vulkan":
            raise ImportError("No module named 'vulkan'")


sys.meta_path.insert(0, NoVulkan())
from legionella.cli import main
main(["devices"])
'''


def test_legionella_devices_without_the_binding_is_one_sentence():
    run = run_python(BLOCK_VULKAN)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Vulkan is not usable here: the Python package `vulkan` is missing")
    assert "apt-get install mesa-vulkan-drivers" in run.stdout and len(run.stdout.strip().splitlines()) == 1


def test_use_device_blocks_are_counted_out_again():
    # device() skips the per-thread lookup only while no use_device block is open in any thread.
    first = lg.device()
    with pytest.raises(KeyError):
        with lg.use_device(first):
            with lg.use_device(first) as inner:
                assert vkdevice._overrides == 2 and lg.device() is inner
                raise KeyError("leaves both blocks")
    assert vkdevice._overrides == 0
    assert lg.device() is first


def test_legionella_devices_without_a_driver_gives_the_install_hint_once():
    no_driver = {"VK_DRIVER_FILES": "/nonexistent.json", "VK_ICD_FILENAMES": "/nonexistent.json"}
    run = run_python("from legionella.cli import main; main(['devices'])", **no_driver)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("No usable Vulkan device (")
    assert run.stdout.count("apt-get install mesa-vulkan-drivers") == 1
