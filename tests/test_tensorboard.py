"""Our hand-written event files read back with tensorboard's own reader."""

import pytest

from ponder.tensorboard import SummaryWriter, crc32c


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value


def test_tensorboard_reads_our_scalars(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    w = SummaryWriter(tmp_path)
    for step in range(1, 4):
        w.add_scalars(step, {"train/reward": step / 10, "train/length": 50.0 + step, "flag": True})
    w.close()
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert set(acc.Tags()["scalars"]) == {"train/reward", "train/length"}
    ev = acc.Scalars("train/reward")
    assert [e.step for e in ev] == [1, 2, 3]
    assert [round(e.value, 5) for e in ev] == [0.1, 0.2, 0.3]
