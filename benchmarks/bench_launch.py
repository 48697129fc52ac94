"""Launch overhead of a tiny kernel, next to a raw submit+wait through the ``vulkan`` binding.

Run: ``python -m pytest benchmarks/bench_launch.py`` (or ``python benchmarks/bench_launch.py`` for the
figures alone). Three figures, all of one 64-invocation dispatch that writes one small array:

* ``enqueue``: ``kernel[64](a)``: check the arguments, pack push constants, record into the open command
  buffer; timed in batches of ``BATCH`` launches that fit one command buffer, with the device drained
  (untimed) between batches, so the figure is the host's cost and not the device's throughput.
  Target on the H200: under 10 us.
* ``launch_sync``: ``kernel[64](a); lg.synchronize()``: one launch, its submit, and the fence wait.
  Target on the H200: under 30 us.
* ``raw_submit_wait`` (the reference, measured in the same run): a command buffer recorded once with the
  same dispatch, then ``vkQueueSubmit`` + ``vkWaitForFences`` + ``vkResetFences`` through the binding's
  wrapper, as a program without Legionella would do it. ``launch_sync`` over it is the ratio to watch.
* ``cupy_enqueue`` and ``cupy_launch_sync`` (where CuPy and a CUDA GPU are present): the same two figures
  for CuPy and an element-wise kernel doing the same work, in blocks of rounds between blocks of ours. The
  host's speed varies between machines of one kind (1.7x between two H200 leases), so these ratios say
  more than microseconds do. Not in the same rounds: CUDA work between Vulkan submits slows every submit
  on the H200 (launch + sync 56 us interleaved round by round, 21 us without CUDA work in between).

Validation is off here (``LEGIONELLA_VALIDATION=0``): the layer costs more than the launch.
"""
import os
import statistics
import sys
import time

os.environ["LEGIONELLA_VALIDATION"] = "0"

import numpy as np  # noqa: E402

import legionella as lg  # noqa: E402
from legionella.lang import Buffer, global_id, i32  # noqa: E402

ROUNDS = 40  # rounds of the three batches
BLOCKS = 4  # CuPy's rounds come in this many blocks between ours (see the module docstring)
BATCH = 200  # below stream.MAX_COMMANDS: an enqueue batch never submits


@lg.kernel(workgroup=(64,))
def touch(a: Buffer[i32]):
    i = global_id().x
    if i < len(a):
        a[i] = a[i] + 1


class RawSubmit:
    """The reference: ``touch`` recorded once into its own command buffer, resubmitted through the wrapper."""

    def __init__(self, array):
        from legionella.runtime import _vk
        vk = _vk.vk
        device = lg.device()
        self.vk, self.device = vk, device.handle
        pipeline, layout = device.pipeline(touch.compile(device.target).spirv, "main", 1,
                                           touch.compile(device.target).push_constant_size)
        ranges = ((array.allocation.block.buffer, array.allocation.offset, array.nbytes),)
        p_set = layout.descriptor_set(ranges)
        self.pool = vk.vkCreateCommandPool(self.device, vk.VkCommandPoolCreateInfo(
            queueFamilyIndex=device.queue_family), None)
        self.cmd = vk.vkAllocateCommandBuffers(self.device, vk.VkCommandBufferAllocateInfo(
            commandPool=self.pool, level=vk.VK_COMMAND_BUFFER_LEVEL_PRIMARY, commandBufferCount=1))[0]
        vk.vkBeginCommandBuffer(self.cmd, vk.VkCommandBufferBeginInfo())
        vk.vkCmdBindPipeline(self.cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, pipeline)
        vk.vkCmdBindDescriptorSets(self.cmd, vk.VK_PIPELINE_BIND_POINT_COMPUTE, layout.handle, 0, 1, [p_set[0]],
                                   0, None)
        push = np.zeros(layout.push_size // 4, np.uint32)
        push[4:7] = 1, 1, 1
        push[8] = array.size
        self.push = push.tobytes()
        vk.vkCmdPushConstants(self.cmd, layout.handle, vk.VK_SHADER_STAGE_COMPUTE_BIT, 0, len(self.push),
                              vk.ffi.from_buffer(self.push))
        vk.vkCmdDispatch(self.cmd, 1, 1, 1)
        vk.vkEndCommandBuffer(self.cmd)
        self.fence = vk.vkCreateFence(self.device, vk.VkFenceCreateInfo(), None)
        self.submit_info = vk.VkSubmitInfo(commandBufferCount=1, pCommandBuffers=[self.cmd])
        self.queue = device.queue

    def __call__(self):
        vk = self.vk
        vk.vkQueueSubmit(self.queue, 1, [self.submit_info], self.fence)
        vk.vkWaitForFences(self.device, 1, [self.fence], vk.VK_TRUE, 10**10)
        vk.vkResetFences(self.device, 1, [self.fence])


def batch_us(fn, calls, before=None):
    """Microseconds per call of ``fn`` over ``calls`` calls; ``before()`` runs untimed first."""
    if before is not None:
        before()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def cupy_touch():
    """``(enqueue, synchronize)`` of a CuPy kernel doing ``touch``'s work, or None without CuPy or a GPU."""
    try:
        import cupy
        kernel = cupy.ElementwiseKernel("", "int32 a", "a = a + 1", "touch")
        a = cupy.zeros(64, dtype=cupy.int32)
        kernel(a)
        cupy.cuda.Device().synchronize()
    except (ImportError, RuntimeError):  # no CuPy, or no CUDA device (CUDARuntimeError is a RuntimeError)
        return None
    return (lambda: kernel(a)), cupy.cuda.Device().synchronize


def measure(rounds=ROUNDS):
    """Median microseconds of ``enqueue``, ``launch_sync`` and ``raw_submit_wait`` (and CuPy's two figures
    where it runs), and the median per-round ratios. All are timed back to back in every round, so drift
    in a shared machine's speed cancels out of the ratios."""
    a = lg.zeros(64, dtype=np.int32)
    touch[64](a)
    lg.synchronize()
    raw = RawSubmit(a)
    raw()

    def enqueue():
        touch[64](a)

    def launch_sync():
        touch[64](a)
        lg.synchronize()

    samples = {"enqueue": [], "launch_sync": [], "raw_submit_wait": []}
    cupy = cupy_touch()
    if cupy is not None:
        cupy_enqueue, cupy_sync = cupy
        samples.update(cupy_enqueue=[], cupy_launch_sync=[])

        def cupy_launch_sync():
            cupy_enqueue()
            cupy_sync()
    for _ in range(BLOCKS):
        for _ in range(rounds // BLOCKS):
            samples["raw_submit_wait"].append(batch_us(raw, BATCH // 4))
            samples["enqueue"].append(batch_us(enqueue, BATCH, before=lg.synchronize))
            samples["launch_sync"].append(batch_us(launch_sync, BATCH // 4, before=lg.synchronize))
        for _ in range(rounds // BLOCKS if cupy is not None else 0):
            samples["cupy_enqueue"].append(batch_us(cupy_enqueue, BATCH, before=cupy_sync))
            samples["cupy_launch_sync"].append(batch_us(cupy_launch_sync, BATCH // 4, before=cupy_sync))
    lg.synchronize()
    figures = {name: statistics.median(values) for name, values in samples.items()}
    for name in ("enqueue", "launch_sync"):
        figures[f"{name}_over_raw_submit_wait"] = statistics.median(
            x / r for x, r in zip(samples[name], samples["raw_submit_wait"]))
        if cupy is not None:
            figures[f"{name}_over_cupy_{name}"] = figures[name] / figures[f"cupy_{name}"]
    return figures


def test_launch_overhead(benchmark):
    figures = measure()
    benchmark.extra_info.update(figures)
    a = lg.zeros(64, dtype=np.int32)

    def launch_sync():
        touch[64](a)
        lg.synchronize()

    benchmark(launch_sync)
    print_figures(figures)


def print_figures(figures):
    print(f"\n{lg.device().name}")
    for name in ("enqueue", "launch_sync", "raw_submit_wait", "cupy_enqueue", "cupy_launch_sync"):
        if name in figures:
            print(f"  {name:16s} {figures[name]:8.2f} us")
    for name, value in figures.items():
        if "_over_" in name:
            print(f"  {name}: {value:.2f}x")


if __name__ == "__main__":
    print_figures(measure())
    sys.exit(0)
