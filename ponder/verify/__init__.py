"""Verifiers: math answers, sandboxed code, countdown, format, instruction constraints, a rubric judge,
and the reward registry that training, evaluation and test-time selection all share.

Submodules are imported on first use so that `import ponder.verify` stays light.
"""

from .verdict import Verdict

_LAZY = {
    "check_math": "math", "check_math_many": "math", "extract_answer": "math", "answers_equal": "math",
    "check_code": "code", "check_countdown": "countdown", "check_format": "fmt",
    "check_constraints": "constraints", "make_judge": "judge",
    "get_reward": "registry", "Reward": "registry", "RewardResult": "registry", "score_many": "registry",
    "verify_file": "run",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'ponder.verify' has no attribute {name!r}")


def __dir__():
    # the lazy names are not globals until first use: list them for tab completion and help()
    return sorted({*globals(), *_LAZY})


__all__ = ["Verdict", *_LAZY]
