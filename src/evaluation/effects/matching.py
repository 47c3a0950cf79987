"""Greedy nearest-neighbour matching on the propensity score, as R's MatchIt ``"nearest"``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import EstimationError
from evaluation._input import group_codes, treatment_column
from evaluation._results import html_repr
from evaluation.effects.propensity import PropensityResult, check_scores, ess, propensity_weights

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["MatchResult", "match"]


def _find(parent: np.ndarray, i: int) -> int:
    """Union-find root with path halving: the nearest still-available slot from ``i``."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = int(parent[i])
    return i


def greedy_nearest(
    distance: np.ndarray,
    treat: np.ndarray,
    stratum: np.ndarray,
    order: np.ndarray,
    *,
    k: int,
    caliper: float | None,
    replace: bool,
) -> np.ndarray:
    """Greedy 1:k nearest-neighbour matching on a scalar distance.

    Follows MatchIt's ``nn_matchC_vec``: all units are sorted by distance (stable, ties in
    data order); in round ``r = 1..k`` each participant, in ``order``, takes the closest
    available comparison in its stratum to the left or right in that sorted order (the left
    one on a tie), unless it lies beyond the caliper; without replacement a comparison is
    used once, with replacement never twice by the same participant.

    Returns
    -------
    ndarray
        (n_treated, k) row positions (into ``distance``) of the matched comparisons, -1 where
        none; participants are in data order.
    """
    n = len(distance)
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(distance, kind="stable")] = np.arange(n)
    t_idx = np.flatnonzero(treat == 1)
    out = np.full((len(t_idx), k), -1, dtype=np.int64)
    t_of = {int(p): j for j, p in enumerate(t_idx)}
    for s in np.unique(stratum):
        c_rows = np.flatnonzero((treat == 0) & (stratum == s))
        if len(c_rows) == 0:
            continue
        c_rows = c_rows[np.argsort(rank[c_rows], kind="stable")]
        c_rank = rank[c_rows]
        c_dist = distance[c_rows]
        m = len(c_rows)
        # right[i]: first available slot >= i (m = none); left[i + 1]: last available <= i.
        right = np.arange(m + 1)
        left = np.arange(m + 1)
        s_treated = [int(p) for p in order if stratum[p] == s]
        ins = {p: int(np.searchsorted(c_rank, rank[p])) for p in s_treated}
        for r in range(k):
            for p in s_treated:
                row = t_of[p]
                if r > 0 and out[row, r - 1] < 0:
                    continue
                own = set(out[row, :r].tolist())
                d = distance[p]
                j_r = _find(right, ins[p])
                while j_r < m and int(c_rows[j_r]) in own:
                    j_r = _find(right, j_r + 1)
                j_l = _find(left, ins[p]) - 1
                while j_l >= 0 and int(c_rows[j_l]) in own:
                    j_l = _find(left, j_l) - 1
                best = -1
                dl = abs(c_dist[j_l] - d) if j_l >= 0 else np.inf
                dr = abs(c_dist[j_r] - d) if j_r < m else np.inf
                if caliper is not None:
                    dl = np.inf if dl > caliper else dl
                    dr = np.inf if dr > caliper else dr
                if np.isfinite(dl) and dl <= dr:
                    best = j_l
                elif np.isfinite(dr):
                    best = j_r
                if best < 0:
                    continue
                out[row, r] = c_rows[best]
                if not replace:
                    right[best] = best + 1
                    left[best + 1] = best
    return out


def matching_weights(pairs: np.ndarray, treat: np.ndarray) -> np.ndarray:
    """MatchIt's ATT weights: matched participants 1; a comparison gets the sum over its
    participants of 1 / (that participant's number of matches), rescaled so that the
    comparison weights sum to the number of matched comparisons."""
    n = len(treat)
    w = np.zeros(n)
    t_idx = np.flatnonzero(treat == 1)
    n_m = (pairs >= 0).sum(axis=1)
    w[t_idx[n_m > 0]] = 1.0
    rows, cols = np.nonzero(pairs >= 0)
    np.add.at(w, pairs[rows, cols], 1.0 / n_m[rows])
    c = treat == 0
    total = w[c].sum()
    if total > 0:
        w[c] = w[c] * (w[c] > 0).sum() / total
    return w


@dataclass(frozen=True, slots=True, kw_only=True)
class MatchResult:
    """Matched sets of participants and comparisons.

    Attributes
    ----------
    pairs
        One row per match: ``treated`` and ``control`` (row labels of the input),
        ``round`` (1..k), ``distance`` (absolute difference on the matching scale).
    weights
        MatchIt's ATT matching weights aligned with the input rows (0 = unmatched).
    groups
        Per group: ``group, n, n_matched, n_unmatched, ess``.
    """

    n: int
    n_treated: int
    k: int
    caliper: float | None
    caliper_width: float | None
    replace: bool
    exact: tuple[str, ...]
    distance_scale: str
    method: str
    pairs: pd.DataFrame
    weights: pd.Series
    scores: pd.Series
    groups: pd.DataFrame
    treat: np.ndarray = field(repr=False)

    @property
    def matched(self) -> pd.Series:
        """True for every row in a matched set."""
        return self.weights > 0

    def matched_data(self, data: pd.DataFrame) -> pd.DataFrame:
        """The matched rows of ``data`` with a ``weight`` column."""
        return data.loc[self.matched].assign(weight=self.weights[self.matched])

    def summary(self) -> pd.DataFrame:
        """Per group: size, matched, unmatched, effective sample size of the matched."""
        return self.groups.copy()

    def plot_data(self, *, bins: int = 40, min_cell: int = DEFAULT_MIN_CELL) -> pd.DataFrame:
        """The numbers behind :meth:`plot`: binned scores of the matched, long form.

        Returns
        -------
        DataFrame
            One row per group (``"participants"``, ``"comparisons"``) and score bin:
            ``group, bin_lower, bin_upper, n`` (persons, matched or not) and ``density`` (of
            the scores weighted by the matching weights); ``n`` and ``density`` missing where
            a bin holds 1 to ``min_cell - 1`` persons (see
            :func:`evaluation.presentation.graphics.effects.overlap_data`).
        """
        from evaluation.presentation.graphics.effects import overlap_data

        return overlap_data(
            self.scores.to_numpy(),
            self.treat,
            self.weights.to_numpy(),
            bins=bins,
            min_cell=min_cell,
        )

    def plot_overlap(
        self, ax: Axes | None = None, *, bins: int = 40, min_cell: int = DEFAULT_MIN_CELL
    ) -> Axes:
        """Score histograms of the matched participants (above) and comparisons (below)."""
        from evaluation.presentation.graphics.effects import overlap_plot

        return overlap_plot(self.plot_data(bins=bins, min_cell=min_cell), ax=ax)

    #: The overlap figure is the result's picture: ``plot`` is :meth:`plot_overlap`.
    plot = plot_overlap

    def _repr_html_(self) -> str:
        return html_repr(
            f"Nearest-neighbour matching 1:{self.k}",
            self.groups,
            notes=[
                f"caliper {self.caliper} SD of the {self.distance_scale}; "
                f"{'with' if self.replace else 'without'} replacement"
            ],
        )


def match(
    data: pd.DataFrame,
    *,
    treatment: str,
    score: str | PropensityResult,
    k: int = 1,
    caliper: float | None = 0.2,
    replace: bool = False,
    exact: str | Sequence[str] | None = None,
    order: Literal["largest", "smallest", "data", "random"] = "largest",
    distance: Literal["logit", "score"] = "logit",
    rng: np.random.Generator | int | None = None,
) -> MatchResult:
    """Greedy nearest-neighbour 1:k matching of participants to comparisons.

    Parameters
    ----------
    data
        One row per person (or person-trial).
    treatment
        The 0/1 column, 1 for participants (who are matched, ATT).
    score
        A column of propensity scores in (0, 1), a propensity formula (fitted with
        :func:`propensity_weights`), or a fitted ``PropensityResult``.
    k
        Comparisons per participant, 1 to 5.
    caliper
        Largest allowed distance in standard deviations of the matching distance over all
        rows (MatchIt's ``std.caliper = TRUE``); None for no caliper.
    replace
        Whether a comparison may serve several participants.
    exact
        Columns matched exactly (for example ``sex``, a municipality group).
    order
        Order in which participants choose: ``"largest"`` score first (MatchIt's default
        for the ATT), ``"smallest"``, ``"data"`` or ``"random"`` (uses ``rng``).
    distance
        ``"logit"`` (the default: the linear predictor, on which the 0.2 SD caliper of
        Austin 2011 is defined) or ``"score"`` (the probability, MatchIt's default).
    rng
        Seed or generator for ``order="random"``.

    Returns
    -------
    MatchResult

    Notes
    -----
    With the same distance, order, caliper and exact strata this reproduces MatchIt
    4.5 ``matchit(method = "nearest", distance = <vector>)`` match for match (tested
    against R in ``tests/reference/matching/``).

    References
    ----------
    Ho DE, Imai K, King G, Stuart EA (2011). MatchIt: nonparametric preprocessing for
    parametric causal inference. Journal of Statistical Software 42(8).
    Austin PC (2011). Optimal caliper widths for propensity-score matching when estimating
    differences in means and differences in proportions in observational studies.
    Pharmaceutical Statistics 10:150-161.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 1, 0, 0, 0, 0], "ps": [0.8, 0.3, 0.75, 0.2, 0.5, 0.31]})
    >>> m = match(df, treatment="t", score="ps", caliper=None, distance="score")
    >>> m.pairs[["treated", "control"]].values.tolist()
    [[0, 2], [1, 5]]
    """
    if not isinstance(k, int | np.integer) or not 1 <= k <= 5:
        raise EstimationError(f"k must be a whole number from 1 to 5, not {k!r}")
    if caliper is not None and not caliper > 0:
        raise EstimationError(f"caliper must be positive or None, not {caliper}")
    if order not in ("largest", "smallest", "data", "random"):
        raise EstimationError(f"order must be largest, smallest, data or random, not {order!r}")
    t = treatment_column(data, treatment)
    if isinstance(score, PropensityResult):
        e = score.scores.to_numpy()
        if len(e) != len(data):
            raise EstimationError(f"the propensity result has {len(e)} rows, data has {len(data)}")
    elif isinstance(score, str) and score in data.columns:
        e = check_scores(data, score)
    elif isinstance(score, str):
        e = propensity_weights(data, score, treatment=treatment).scores.to_numpy()
    else:
        raise EstimationError("score must be a column name, a formula or a PropensityResult")
    d = np.log(e / (1.0 - e)) if distance == "logit" else e.astype(np.float64)
    exact_cols: tuple[str, ...] = (
        () if exact is None else ((exact,) if isinstance(exact, str) else tuple(exact))
    )
    # Strata are matched independently, so only which rows share one matters.
    stratum_codes = group_codes(data, list(exact_cols) or None, "exact").codes
    width = None if caliper is None else float(caliper * np.std(d, ddof=1))
    t_idx = np.flatnonzero(t == 1)
    if order == "largest":
        ord_ = t_idx[np.argsort(-d[t_idx], kind="stable")]
    elif order == "smallest":
        ord_ = t_idx[np.argsort(d[t_idx], kind="stable")]
    elif order == "random":
        ord_ = np.random.default_rng(rng).permutation(t_idx)
    else:
        ord_ = t_idx
    pairs = greedy_nearest(d, t, stratum_codes, ord_, k=k, caliper=width, replace=replace)
    w = matching_weights(pairs, t)
    rows, rounds = np.nonzero(pairs >= 0)
    treated_rows = t_idx[rows]
    control_rows = pairs[rows, rounds]
    pair_table = (
        pd.DataFrame(
            {
                "treated": data.index[treated_rows],
                "control": data.index[control_rows],
                "round": rounds + 1,
                "distance": np.abs(d[treated_rows] - d[control_rows]),
            }
        )
        .sort_values(["round", "treated"], kind="stable")
        .reset_index(drop=True)
    )
    n_m1 = int(((pairs >= 0).sum(axis=1) > 0).sum())
    n_m0 = int((w[t == 0] > 0).sum())
    groups = pd.DataFrame(
        [
            {
                "group": "participants",
                "n": int(t.sum()),
                "n_matched": n_m1,
                "n_unmatched": int(t.sum()) - n_m1,
                "ess": ess(w[t == 1]),
            },
            {
                "group": "comparisons",
                "n": int((t == 0).sum()),
                "n_matched": n_m0,
                "n_unmatched": int((t == 0).sum()) - n_m0,
                "ess": ess(w[t == 0]),
            },
        ]
    )
    if n_m1 == 0:
        raise EstimationError(
            "no participant found a comparison within the caliper; widen the caliper or "
            "check the exact-matching columns"
        )
    return MatchResult(
        n=len(data),
        n_treated=int(t.sum()),
        k=int(k),
        caliper=caliper,
        caliper_width=width,
        replace=replace,
        exact=exact_cols,
        distance_scale="logit of the propensity score"
        if distance == "logit"
        else "propensity score",
        method=f"greedy nearest neighbour ({order} first), as MatchIt method='nearest'",
        pairs=pair_table,
        weights=pd.Series(w, index=data.index, name="weight"),
        scores=pd.Series(e, index=data.index, name="score"),
        groups=groups,
        treat=t,
    )
