"""A dependency-free TensorBoard scalar writer (event files: TFRecord framing of `Event` protobufs).

Scalars are all training runs log, and the format is small: writing it by hand keeps tensorboard,
protobuf and grpc out of Ponder's runtime dependencies. `tensorboard --logdir RUN_DIR` reads the files;
tests/test_tensorboard.py checks that with tensorboard's own reader.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import socket
import struct
import time
from pathlib import Path

from .fileio import _write_error


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _masked(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(num: int, payload: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def _f32(v) -> bytes:
    """A scalar as float32; beyond its range (a float64 metric of 1e39, an int of 10 ** 400 that float() refuses)
    it is +-inf, as TensorFlow's writer records it, where struct.pack raised OverflowError and lost the whole event."""
    try:
        return struct.pack("<f", float(v))
    except OverflowError:
        return struct.pack("<f", math.inf if v > 0 else -math.inf)


def _event(wall_time: float, step: int, *, file_version: str | None = None, scalars: dict | None = None,
           session_start: bool = False) -> bytes:
    msg = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(step)
    if file_version is not None:
        msg += _field_bytes(3, file_version.encode())
    if session_start:  # Event.session_log = SessionLog(status=START)
        msg += _field_bytes(7, b"\x08\x01")
    if scalars:
        values = b"".join(
            _field_bytes(1, _field_bytes(1, tag.encode()) + b"\x15" + _f32(v))
            for tag, v in scalars.items()
        )
        msg += _field_bytes(5, values)
    return msg


def scalar_tags(kind: str, row: dict) -> dict:
    """A step's metrics row as TensorBoard tags: a held-out measurement (heldout_accuracy, heldout_loss, sft's
    val_loss) is an evaluation, under eval/ (under the run's kind it sat among the training curves, read as one);
    the rest under `kind`/ (train, pretrain, sft)."""
    return {f"{'eval' if k.startswith('heldout_') or k == 'val_loss' else kind}/{k}": v
            for k, v in row.items() if k != "step"}


class SummaryWriter:
    """`add_scalars(step, {"train/reward": 0.4, ...})`; flushes every write (runs are slow, files small).

    `purge_step`: a resumed run's first step. TensorBoard drops what earlier files logged at this step and
    after (a run killed after its last checkpoint logged steps that the resumed run logs again), as
    metrics.jsonl is trimmed (train.trim_metrics)."""

    def __init__(self, logdir: str | os.PathLike, purge_step: int | None = None):
        d = Path(logdir)
        d.mkdir(parents=True, exist_ok=True)
        # TensorBoard reads a directory's event files in name order, later files winning: a resumed run's file
        # must sort after the stopped one's, also when it starts within the same second (the pid, compared as
        # text, could put it first and let the old steps win)
        stamps = [int(m.group(1)) for f in d.glob("events.out.tfevents.*")
                  if (m := re.match(r"events\.out\.tfevents\.(\d+)\.", f.name))]
        stamp = max([int(time.time()), *(t + 1 for t in stamps)])
        self.path = d / f"events.out.tfevents.{stamp}.{socket.gethostname()}.{os.getpid()}"
        self._f = open(self.path, "ab")
        self._write(_event(time.time(), 0, file_version="brain.Event:2"))
        # every session starts with a SessionLog.START, a fresh one too: TensorBoard's Python reader (its server
        # without the Rust data server) takes a run's first START for the start, only later ones for restarts
        # that purge, so a START written on resume alone purged nothing there
        self._write(_event(time.time(), 0 if purge_step is None else int(purge_step), session_start=True))

    def _write(self, data: bytes):
        header = struct.pack("<Q", len(data))
        try:
            self._f.write(header + struct.pack("<I", _masked(header)) + data + struct.pack("<I", _masked(data)))
            self._f.flush()
        except OSError as e:  # a full disk fails at the flush, with an OSError that names no file
            raise _write_error(self.path, e) from e

    def add_scalars(self, step: int, scalars: dict):
        # numbers.Real: numpy's scalars too (an np.float32 mean is not a float); NaN and inf are logged as they are
        nums = {k: v for k, v in scalars.items() if isinstance(v, numbers.Real) and not isinstance(v, bool)}
        if nums:
            self._write(_event(time.time(), int(step), scalars=nums))

    def close(self):
        try:
            self._f.close()
        except OSError:  # only what a failed _write left unflushed (every write flushes): that error was raised
            pass
