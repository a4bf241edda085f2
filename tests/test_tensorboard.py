"""Our hand-written event files read back with tensorboard's own reader."""

import os
import re

import pytest

from ponder.tensorboard import SummaryWriter, crc32c, scalar_tags


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283  # the standard CRC-32C check value


def test_every_held_out_measurement_is_filed_under_eval():
    # sft's held-out loss is val_loss: it sat at sft/val_loss, among the training curves
    for kind, row in (("sft", {"step": 2, "loss": 1.0, "lr": 0.1, "val_loss": 2.0}),
                      ("pretrain", {"step": 2, "loss": 1.0, "heldout_loss": 2.0}),
                      ("train", {"step": 2, "loss": 1.0, "heldout_accuracy": 0.5})):
        tags = scalar_tags(kind, row)
        assert {t for t in tags if t.startswith("eval/")} == {f"eval/{k}" for k in row if "val" in k or "heldout" in k}
        assert {t for t in tags if t.startswith(f"{kind}/")} == {f"{kind}/{k}" for k in ("loss", "lr") if k in row}


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


def test_a_value_beyond_float32_is_logged_as_infinity(tmp_path):
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    w = SummaryWriter(tmp_path)
    w.add_scalars(1, {"big": 1e39, "small": -1e39, "ok": 2.0})  # (OverflowError from struct.pack before)
    w.close()
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [acc.Scalars(t)[0].value for t in ("big", "small", "ok")] == [float("inf"), float("-inf"), 2.0]


def test_an_int_beyond_float_range_is_logged_as_infinity(tmp_path):
    """An int past float64's range (10 ** 400, a product of counts) failed the whole step with a bare
    OverflowError from float(); it is +-inf, as a float past float32's range is."""
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    w = SummaryWriter(tmp_path)
    w.add_scalars(1, {"big": 10**400, "small": -(10**400), "ok": 3})
    w.close()
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [acc.Scalars(t)[0].value for t in ("big", "small", "ok")] == [float("inf"), float("-inf"), 3.0]


def _logged_to_4_then_resumed_at_3(tmp_path, between=None) -> SummaryWriter:
    """A run that logged loss 1-4 and was killed after its step-2 checkpoint, resumed: it logs 13-15 at steps 3-5.
    `between(writer)` runs on the stopped run's writer before the resumed one starts; returns the resumed one."""
    w = SummaryWriter(tmp_path)
    for step in range(1, 5):
        w.add_scalars(step, {"loss": float(step)})
    w.close()
    if between is not None:
        between(w)
    w = SummaryWriter(tmp_path, purge_step=3)
    for step in range(3, 6):
        w.add_scalars(step, {"loss": 10.0 + step})
    w.close()
    return w


def test_a_resumed_writer_purges_the_steps_it_logs_again(tmp_path):
    """A run killed after its last checkpoint (step 2) logged steps 3-4; resumed, it logs them again. TensorBoard
    shows the resumed values only, as metrics.jsonl does once trimmed."""
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    _logged_to_4_then_resumed_at_3(tmp_path)
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(1, 1.0), (2, 2.0), (3, 13.0), (4, 14.0), (5, 15.0)]


def test_numpy_scalars_are_logged_not_dropped(tmp_path):
    """A metric computed with numpy (np.float32 mean, np.int64 count) was silently missing from TensorBoard:
    only Python int and float passed the number check. Booleans stay out."""
    np = pytest.importorskip("numpy")
    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    w = SummaryWriter(tmp_path)
    w.add_scalars(1, {"f32": np.float32(0.5), "i64": np.int64(3), "f64": np.float64(0.25), "b": np.bool_(True)})
    w.close()
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert sorted(acc.Tags()["scalars"]) == ["f32", "f64", "i64"]
    assert [acc.Scalars(t)[0].value for t in ("f32", "i64", "f64")] == [0.5, 3.0, 0.25]


def test_a_writer_started_in_the_same_second_sorts_after_the_stopped_one(tmp_path):
    """TensorBoard reads event files in name order; a run resumed within the second it was stopped in named its
    file by the same timestamp, and by its pid (compared as text) it could sort first: the old steps won."""
    import time

    ea_mod = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    def late_name(w):  # the stopped run's file named by the same second and a pid sorting late
        w.path.rename(w.path.with_name(f"events.out.tfevents.{int(time.time()) + 5}.host.99999"))

    w = _logged_to_4_then_resumed_at_3(tmp_path, late_name)
    assert sorted(p.name for p in tmp_path.iterdir())[-1] == w.path.name
    acc = ea_mod.EventAccumulator(str(tmp_path))
    acc.Reload()
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(1, 1.0), (2, 2.0), (3, 13.0), (4, 14.0), (5, 15.0)]


def test_tensorboard_servers_reader_purges_the_steps_a_resumed_run_logs_again(tmp_path):
    """`tensorboard --logdir` without its Rust data server (--load_fast=false, or where the binary does not run)
    reads with plugin_event_accumulator, which takes a run's first SessionLog.START for the session's start, not a
    restart: a START written only on resume purged nothing there, and the plot went 1, 2, 3, 4, 3, 4, 5."""
    pea = pytest.importorskip("tensorboard.backend.event_processing.plugin_event_accumulator")
    from tensorboard.util import tensor_util
    _logged_to_4_then_resumed_at_3(tmp_path)
    acc = pea.EventAccumulator(str(tmp_path))
    acc.Reload()
    seen = [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors("loss")]
    assert seen == [(1, 1.0), (2, 2.0), (3, 13.0), (4, 14.0), (5, 15.0)]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_is_one_line_naming_the_event_file(tmp_path):
    """A full disk failed the flush with an OSError naming no file ("error: No space left on device"), and closing
    the writer in a trainer's `finally` raised it again over whatever error had stopped the run."""
    from ponder.errors import PonderError

    w = SummaryWriter(tmp_path)
    w._f.close()
    w._f = open("/dev/full", "ab")  # the disk fills
    with pytest.raises(PonderError, match=rf"^{re.escape(str(w.path))}: cannot write \(No space left on device\)$"):
        w.add_scalars(1, {"train/loss": 2.5})
    w.close()
