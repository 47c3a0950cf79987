"""Every exception and warning the package raises, in one place.

Messages are written in the domain's words: which table, which column, how many rows and
the first offending ids, so that an evaluator can find the problem in the source data.
"""

from __future__ import annotations

__all__ = [
    "EvaluationError",
    "RegisterError",
    "DefinitionError",
    "EstimationError",
    "DisclosureError",
    "StudyError",
    "EvaluationWarning",
    "DisclosureWarning",
    "ConvergenceWarning",
    "FewClustersWarning",
]


class EvaluationError(Exception):
    """Base class of every error raised by `evaluation`."""


class RegisterError(EvaluationError, ValueError):
    """The registers are malformed.

    ``problems`` holds every problem found (one string each), so that a caller can list
    them all at once instead of fixing one at a time.
    """

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems: list[str] = list(problems) if problems is not None else [message]


class DefinitionError(EvaluationError, ValueError):
    """A relapse or retention definition, or a cohort option, is inconsistent."""


class EstimationError(EvaluationError, ValueError):
    """An estimator was given data it cannot use (missing column, no events, bad codes)."""


class StudyError(EvaluationError, ValueError):
    """A simulation study cannot run or resume: an unknown design, or a results folder
    written by another study (another design, parameters or seed)."""


class DisclosureError(EvaluationError):
    """Output would reveal a count below the disclosure threshold."""


class EvaluationWarning(UserWarning):
    """Base class of every warning issued by `evaluation`."""


class DisclosureWarning(EvaluationWarning):
    """Cells were suppressed for disclosure control."""


class ConvergenceWarning(EvaluationWarning):
    """An iterative fit stopped before it converged."""


class FewClustersWarning(EvaluationWarning):
    """Cluster-robust standard errors rest on too few clusters to be trusted.

    The sandwich variance summed within ``G`` clusters has rank at most ``G - 1`` and is
    biased downwards when ``G`` is small (fewer than about 30); intervals are too narrow.
    """
