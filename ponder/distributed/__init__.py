"""Scaling out on the existing engines: Ray actors for rollouts, verification and evaluation
(ray_workers.py), torch.distributed data parallelism for the RL learner (ddp.py).

Both import their heavy dependencies (ray, torch.distributed) only when used; `ray` is optional."""

from .ddp import DataParallel, init_from_env, spawn, train_ddp

__all__ = ["DataParallel", "init_from_env", "spawn", "train_ddp"]
