"""Scaling out on the existing engines: Ray actors for rollouts, verification and evaluation
(ray_workers.py), torch.distributed data parallelism for the RL learner (ddp.py).

Both import their heavy dependencies (ray, torch.distributed) only when used; `ray` is optional."""

import importlib

__all__ = ["DataParallel", "init_from_env", "spawn", "train_ddp"]


def __getattr__(name: str):  # ddp.py imports torch: `ponder.distributed.ray_workers` alone (a Ray actor) does not
    if name in __all__:
        value = getattr(importlib.import_module(".ddp", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ponder.distributed' has no attribute {name!r}")
