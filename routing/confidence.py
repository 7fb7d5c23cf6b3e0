"""Whether the categorizer is unsure: a small margin between its two best candidates, shown with both scores.

LOW_CONFIDENCE_MARGIN was chosen on the categorization corpora the tests use (README, "Categorization and
abuse"): cue scores move in steps of 0.125, and below a margin of one plain cue (1.0) the chosen category was
right 74% of the time against 97% above it, on 11% of the messages.
"""

from __future__ import annotations

from contracts.decision import TraceStep

LOW_CONFIDENCE_MARGIN = 1.0


def low_confidence(candidates: tuple[tuple[str, float], tuple[str, float] | None]) -> TraceStep | None:
    """The trace step that says the category is unsure (both candidates and their scores), or None when the
    winner leads the runner-up by at least LOW_CONFIDENCE_MARGIN."""
    (first, top), runner = candidates
    if runner is None:
        return None
    second, score = runner
    margin = top - score
    if margin >= LOW_CONFIDENCE_MARGIN:
        return None
    return TraceStep(rule="categorize.low_confidence", outcome="review",
                     detail=f"margin {margin:.3g} < {LOW_CONFIDENCE_MARGIN:g}: {first} {top:.3g}, {second} {score:.3g}")
