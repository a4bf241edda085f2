"""The result every verifier returns."""

from __future__ import annotations

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
