"""Design effects: how much weighting and clustering inflate the variance of an estimate.

A design effect is the factor by which a variance grows compared with a simple random
sample of the same size; an analysis with design effect ``D`` is as precise as one with
``n / D`` independent, equally weighted persons. The closed forms of
:mod:`evaluation.design` take design effects as inputs and say which they applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from evaluation._errors import EstimationError

__all__ = [
    "DesignEffect",
    "clustering_design_effect",
    "kish_effective_size",
    "weighting_design_effect",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class DesignEffect:
    """A variance inflation factor and where it comes from.

    Attributes
    ----------
    kind
        ``"weighting"`` (applies to the weighted group: the comparisons under ATT
        weights, whose sample size is replaced by its Kish effective size) or
        ``"clustering"`` (applies to every variance of the analysis).
    value
        The factor (at least 1 for clustering; weighting's is at least 1 too, since
        ``n_eff <= n``).
    detail
        How it was computed, in words (sizes, intraclass correlation).
    """

    kind: Literal["weighting", "clustering"]
    value: float
    detail: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("weighting", "clustering"):
            raise EstimationError(
                f"a design effect is 'weighting' or 'clustering', not {self.kind!r}"
            )
        if not (np.isfinite(self.value) and self.value > 0):
            raise EstimationError(f"a design effect must be positive, got {self.value}")


def kish_effective_size(weights: Iterable[float] | np.ndarray | pd.Series) -> float:
    """Kish's effective sample size of a weighted group, ``(sum w)^2 / sum w^2``.

    Parameters
    ----------
    weights
        The weights of the group's persons (for example the comparisons' ATT weights of
        :func:`evaluation.effects.propensity_weights`); weight 0 means left out.

    Returns
    -------
    float
        The number of equally weighted persons that would give the same precision of a
        weighted mean; equal to the number of persons when all weights are equal.

    Raises
    ------
    EstimationError
        For negative or missing weights, or when every weight is 0.

    References
    ----------
    Kish L (1965). *Survey Sampling*. Wiley, New York (section 11.7).

    Examples
    --------
    >>> kish_effective_size([1, 1, 1, 1])
    4.0
    >>> round(kish_effective_size([1, 1, 1, 5]), 3)  # (8)^2 / 28
    2.286
    """
    w = np.asarray(list(weights) if not isinstance(weights, np.ndarray) else weights, float)
    if w.size == 0 or not np.isfinite(w).all() or (w < 0).any():
        raise EstimationError("weights must be finite and non-negative (and at least one)")
    s2 = float(np.sum(w**2))
    if s2 == 0:
        raise EstimationError("every weight is 0: the group has no effective size")
    return float(np.sum(w) ** 2 / s2)


def weighting_design_effect(
    weights: Iterable[float] | np.ndarray | pd.Series, *, group: str = "comparisons"
) -> DesignEffect:
    """The design effect of weighting a group: ``n / n_eff`` with Kish's effective size.

    Parameters
    ----------
    weights
        The group's weights (persons with weight 0 are not counted in ``n``).
    group
        Which group the weights belong to, for the record.

    Returns
    -------
    DesignEffect
        ``kind="weighting"``, ``value = n Σw² / (Σw)²``.

    References
    ----------
    Kish L (1965). *Survey Sampling*. Wiley, New York (section 11.7).

    Examples
    --------
    >>> weighting_design_effect([1, 1, 1, 5]).value  # 4 / (64 / 28)
    1.75
    """
    w = np.asarray(list(weights) if not isinstance(weights, np.ndarray) else weights, float)
    n_eff = kish_effective_size(w)
    n = int((w > 0).sum())
    return DesignEffect(
        kind="weighting",
        value=n / n_eff,
        detail=f"Kish: {n} {group} weighted, effective size {n_eff:.1f}",
    )


def clustering_design_effect(
    icc: float,
    *,
    mean_cluster_size: float | None = None,
    cluster_sizes: Sequence[int] | np.ndarray | None = None,
) -> DesignEffect:
    """The design effect of clustering, ``1 + (m - 1) ρ``.

    Parameters
    ----------
    icc
        The intraclass correlation ρ of the outcome within clusters (for example persons
        with several entry events, or municipalities).
    mean_cluster_size
        The mean cluster size m̄ (``1 + (m̄ - 1) ρ``).
    cluster_sizes
        The actual cluster sizes instead: m = Σm² / Σm, which allows for unequal clusters
        (Kerry and Bland 2001).

    Returns
    -------
    DesignEffect
        ``kind="clustering"``.

    Raises
    ------
    EstimationError
        Unless exactly one of ``mean_cluster_size`` and ``cluster_sizes`` is given, or when
        ``icc`` is outside [0, 1].

    References
    ----------
    Kish L (1965). *Survey Sampling*. Wiley, New York (section 5.4).
    Kerry SM, Bland JM (2001). Unequal cluster sizes for trials in English and Welsh
    general practice: implications for sample size calculations. Statistics in Medicine
    20:377-390.

    Examples
    --------
    >>> clustering_design_effect(0.05, mean_cluster_size=21).value
    2.0
    >>> round(clustering_design_effect(0.05, cluster_sizes=[10, 10, 40]).value, 3)
    2.45
    """
    if not 0 <= icc <= 1:
        raise EstimationError(f"the intraclass correlation must be in [0, 1], got {icc}")
    if (mean_cluster_size is None) == (cluster_sizes is None):
        raise EstimationError("give either mean_cluster_size or cluster_sizes")
    if cluster_sizes is not None:
        m_arr = np.asarray(cluster_sizes, dtype=float)
        if m_arr.size == 0 or (m_arr <= 0).any():
            raise EstimationError("cluster sizes must be positive")
        m = float(np.sum(m_arr**2) / np.sum(m_arr))
        detail = f"{m_arr.size} clusters, Σm²/Σm = {m:.2f}, ICC {icc:g}"
    else:
        assert mean_cluster_size is not None
        if mean_cluster_size < 1:
            raise EstimationError(f"a mean cluster size is at least 1, got {mean_cluster_size}")
        m = float(mean_cluster_size)
        detail = f"mean cluster size {m:.2f}, ICC {icc:g}"
    return DesignEffect(kind="clustering", value=1.0 + (m - 1.0) * icc, detail=detail)


def combined(design_effects: Sequence[DesignEffect]) -> tuple[float, float]:
    """The product of the weighting and of the clustering design effects."""
    w = float(np.prod([d.value for d in design_effects if d.kind == "weighting"]))
    c = float(np.prod([d.value for d in design_effects if d.kind == "clustering"]))
    return w, c
