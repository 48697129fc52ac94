"""Replay of short batches (runtime/stream.py): an identical batch reuses its recording, and only then."""
import gc

import numpy as np

import legionella as lg
import legionella.runtime as rt
import kernels as K
from legionella.runtime.memory import BLOCK_SIZE


def replays():
    return lg.stats()["replays"]


def test_identical_launch_and_sync_is_replayed_and_runs_each_time():
    y = lg.zeros(256, dtype=np.float32)
    x = lg.array(np.arange(256, dtype=np.float32))
    before = replays()
    for _ in range(10):
        K.axpy[256](y, x, 1.0)
        lg.synchronize()
    assert replays() - before >= 8  # the first one or two are recorded
    np.testing.assert_array_equal(y.numpy(), 10 * np.arange(256, dtype=np.float32))


def test_a_new_scalar_value_is_recorded_anew():
    y = lg.zeros(64, dtype=np.float32)
    x = lg.array(np.ones(64, dtype=np.float32))
    for a in (1.0, 2.0, 3.0, 2.0, 1.0):
        K.axpy[64](y, x, a)
        lg.synchronize()
    np.testing.assert_array_equal(y.numpy(), np.full(64, 9.0, np.float32))


def test_other_arrays_and_grids_are_not_taken_for_a_recording():
    a, b = lg.zeros(128, dtype=np.int32), lg.zeros(128, dtype=np.int32)
    for out, grid in ((a, 128), (b, 128), (a, 64), (a, 128)):
        K.iota[grid](out)
        lg.synchronize()
    np.testing.assert_array_equal(a.numpy(), np.arange(128))
    np.testing.assert_array_equal(b.numpy(), np.arange(128))


def test_launch_and_read_back_are_replayed_together():
    dst, src = lg.zeros(64, dtype=np.int32), lg.array(np.arange(64, dtype=np.int32))
    results = []
    for _ in range(4):
        K.inc_into[64](dst, src)
        results.append(dst.numpy())
    for result in results:
        np.testing.assert_array_equal(result, np.arange(64) + 1)


def test_long_batches_are_recorded_as_before():
    dst, src = lg.zeros(64, dtype=np.int32), lg.zeros(64, dtype=np.int32)
    before = replays()
    for _ in range(3):
        for _ in range(10):  # more commands than a batch keeps for replay
            K.inc_into[64](dst, src)
            K.inc_into[64](src, dst)
        lg.synchronize()
    assert replays() == before
    np.testing.assert_array_equal(src.numpy(), np.full(64, 60))


def test_recordings_are_dropped_with_the_memory_they_name():
    device = lg.device()
    stream = device.stream
    for _ in range(2):
        # Larger than any block held: the array gets a block of its own, destroyed when it is freed.
        big = max([block.size for block in device.array_memory.blocks] + [BLOCK_SIZE]) + 4096
        out = lg.zeros(big // 4, dtype=np.int32)
        block = out.allocation.block

        def named():
            return [key for key in stream.recordings for command in key[0]
                    if any(binding[0] == block.buffer for binding in command[-2] + command[-1])]
        K.iota[64](out)
        lg.synchronize()
        assert out.numpy()[:64].tolist() == list(range(64))
        # Again after the read-back: on a discrete GPU, freeing its staging block dropped every recording.
        K.iota[64](out)
        lg.synchronize()
        assert named()
        del out
        gc.collect()
        lg.synchronize()  # frees the block; a recording naming its buffer must not outlive it
        assert block not in device.array_memory.blocks
        assert not named()


def test_a_recording_still_running_is_not_submitted_twice():
    out = lg.zeros(64, dtype=np.uint32)
    stream = lg.device().stream
    for _ in range(3):
        K.spin[64](out, 20000)
        stream.flush()  # submitted, not waited for: the next identical batch must not reuse it yet
    lg.synchronize()
    assert rt.stats()["submits"] > 0


def test_a_recording_dropped_while_its_batch_is_submitted_is_not_reused_in_flight():
    # Retiring finished work in flush() may free a block, which drops every recording: the one being
    # submitted must not become a spare command buffer while the device still runs it.
    device = lg.device()
    stream = device.stream
    big = max([block.size for block in device.array_memory.blocks] + [BLOCK_SIZE]) + 4096
    x = lg.zeros(big // 4, dtype=np.int32)
    y = lg.zeros(64, dtype=np.int32)
    for _ in range(2):  # the batch [iota(y)], recorded while other work is in flight
        K.iota[64](x)
        stream.flush()
        K.iota[64](y)
        stream.flush()
        lg.synchronize()
    K.iota[64](x)
    stream.flush()
    previous = stream.in_flight[-1]
    del x
    gc.collect()
    device.memory_info()  # queues x's release until the batch using it is retired
    assert stream.completion.block(previous, 10**10) == 0  # done, not yet retired
    K.iota[64](y)
    stream.flush()  # replays [iota(y)], retires the batch before it, frees x's block
    assert not {id(s) for s in stream.spare} & {id(s) for s in stream.in_flight}
    for _ in range(6):  # records into a spare command buffer
        K.iota[64](y)
    lg.synchronize()
    assert y.numpy().tolist() == list(range(64))


def test_random_launches_syncs_read_backs_and_frees_match_numpy():
    # Short batches repeat often here (so they replay), interleaved with long ones, read-backs, flushes
    # without waits, arrays freed and made anew, and blocks freed (which drops every recording).
    rng = np.random.default_rng(7)
    stream = lg.device().stream
    host = {k: np.zeros(64, np.int32) for k in range(3)}
    arrays = {k: lg.zeros(64, dtype=np.int32) for k in range(3)}
    before = replays()
    for step in range(400):
        dst, src = rng.choice(3, 2, replace=False)
        action = rng.integers(7)
        if action == 0:
            K.inc_into[64](arrays[dst], arrays[src])
            host[dst] = host[src] + 1
        elif action == 1:
            K.inc_into[64](arrays[dst], arrays[src])
            host[dst] = host[src] + 1
            lg.synchronize()
        elif action == 2:
            np.testing.assert_array_equal(arrays[dst].numpy(), host[dst])
        elif action == 3:
            stream.flush()
        elif action == 4:
            arrays[dst] = lg.array(host[dst])  # the old array is freed once its last batch is done
        elif action == 5:  # a block of its own, freed (dropping every recording) once its batch retires
            big = lg.empty((BLOCK_SIZE + 4096) // 4, dtype=np.int32)
            K.iota[64](big)
            del big
        else:
            K.iota[64](arrays[dst])
            host[dst] = np.arange(64, dtype=np.int32)
            lg.synchronize()
    for k in range(3):
        np.testing.assert_array_equal(arrays[k].numpy(), host[k])
    assert replays() > before
