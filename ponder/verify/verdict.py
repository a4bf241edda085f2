"""The result every verifier returns."""

from __future__ import annotations

import ast
import threading
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Verdict:
    correct: bool  # raw correctness: never shaped, never weighted
    extracted: str | None = None  # the answer (or program) the verifier judged, if any
    reason: str = ""  # "ok", "wrong", "no answer", "timeout", "too long", ...
    score: float | None = None  # graded verifiers (constraints fraction, judge); None means float(correct)

    @property
    def value(self) -> float:
        return float(self.correct) if self.score is None else float(self.score)

    def to_dict(self) -> dict:
        return asdict(self)


# CPython 3.11 keeps the recursion depth of its parse-tree-to-Python-objects conversion in state every thread
# shares: two threads in ast.parse at once (a garbage collection running a finaliser mid-conversion lets the other
# in) can fail one with "SystemError: AST constructor recursion depth mismatch" (seen in CI with check_code called
# from 4 threads, ~1 in 2,000 parses under a stress). The verifiers parse one at a time.
_AST_LOCK = threading.Lock()


def parse_python(source: str, mode: str = "exec") -> ast.AST:
    """ast.parse(source, mode=mode), one thread at a time (see _AST_LOCK)."""
    with _AST_LOCK:
        return ast.parse(source, mode=mode)
