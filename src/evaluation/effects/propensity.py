"""Propensity scores and inverse-probability weights for participants versus comparisons."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import ConvergenceWarning, EstimationError
from evaluation._input import check_choice, counted, numeric_column, rows_text, treatment_column
from evaluation._results import html_repr

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["PropensityResult", "propensity_weights", "ipw"]

Estimand = Literal["ATT", "ATE", "ATO"]
ESTIMANDS: tuple[str, ...] = ("ATT", "ATE", "ATO")


def ipw(
    t: np.ndarray,
    e: np.ndarray,
    estimand: str,
    *,
    stabilize: bool = True,
    freq: np.ndarray | None = None,
) -> np.ndarray:
    """Balancing weights from treatment ``t`` (n,) and scores ``e`` (n,) or (n, B).

    ATT: participants 1, comparisons e/(1-e); ATE: 1/e and 1/(1-e); ATO (overlap weights,
    Li, Morgan & Zaslavsky 2018): 1-e and e. Stabilised ATE and ATT weights multiply by the
    marginal share of the group (Robins, Hernán & Brumback 2000), so that each group's weights
    sum to about its size; stabilised overlap weights are scaled to mean 1 within each group.
    ``freq`` (same shape as ``e``) are bootstrap frequencies used for the marginal shares.

    Examples
    --------
    >>> ipw(np.array([1, 0, 0]), np.array([0.5, 0.5, 0.2]), "ATT", stabilize=False)
    array([1.  , 1.  , 0.25])
    """
    t2 = t.reshape((-1,) + (1,) * (e.ndim - 1)).astype(np.float64)
    f = np.ones_like(e) if freq is None else freq
    n = f.sum(axis=0)
    p1 = (f * t2).sum(axis=0) / n
    if estimand == "ATT":
        w = np.where(t2 == 1, 1.0, e / (1.0 - e))
        if stabilize:
            w = np.where(t2 == 1, w, w * (1.0 - p1) / p1)
    elif estimand == "ATE":
        w = np.where(t2 == 1, 1.0 / e, 1.0 / (1.0 - e))
        if stabilize:
            w = np.where(t2 == 1, w * p1, w * (1.0 - p1))
    elif estimand == "ATO":
        w = np.where(t2 == 1, 1.0 - e, e)
        if stabilize:
            for g in (0, 1):
                m = (t2 == g) * f
                mean = (w * m).sum(axis=0) / m.sum(axis=0)
                w = np.where(t2 == g, w / mean, w)
    else:  # pragma: no cover - validated by the caller
        raise EstimationError(f"estimand must be one of {', '.join(ESTIMANDS)}, not {estimand!r}")
    return w


def _split_formula(formula: str, treatment: str) -> str:
    """A right-hand side; a two-sided formula must name the treatment on the left."""
    if "~" not in formula:
        return formula
    lhs, rhs = formula.split("~", 1)
    if lhs.strip() and lhs.strip() != treatment:
        raise EstimationError(
            f"the formula's left-hand side {lhs.strip()!r} is not the treatment column "
            f"{treatment!r}"
        )
    return rhs


def design_matrix(data: pd.DataFrame, rhs: str) -> pd.DataFrame:
    """The patsy design matrix of ``rhs`` (with intercept) on ``data``; NA rows are an error."""
    import patsy

    try:
        X = patsy.dmatrix(rhs, data, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise EstimationError(
            f"the propensity formula {rhs.strip()!r} cannot be built: {exc}"
        ) from exc
    return X


@dataclass(frozen=True, slots=True, kw_only=True)
class PropensityResult:
    """A fitted propensity model and its balancing weights.

    Attributes
    ----------
    weights, scores
        Series aligned with the input rows (weight 0 for rows removed by trimming).
    coefficients
        One row per ``term``: ``coef, se, z, p`` of the logistic model.
    groups
        One row per group: ``group, n, sum_weights, ess, min_weight, max_weight``.
    """

    n: int
    n_treated: int
    estimand: str
    stabilize: bool
    trim: float | None
    formula: str
    treatment: str
    method: str
    weights: pd.Series
    scores: pd.Series
    coefficients: pd.DataFrame
    groups: pd.DataFrame
    n_trimmed: int
    treat: np.ndarray = field(repr=False)
    design: np.ndarray = field(repr=False)

    @property
    def logit_scores(self) -> pd.Series:
        """The linear predictor log(e / (1 - e)), the scale matching calipers are set on."""
        e = self.scores.to_numpy()
        return pd.Series(np.log(e / (1.0 - e)), index=self.scores.index, name="logit_score")

    @property
    def ess(self) -> dict[str, float]:
        """Effective sample size per group (Kish)."""
        return dict(zip(self.groups["group"], self.groups["ess"], strict=True))

    def summary(self) -> pd.DataFrame:
        """Per group: size, sum of weights, effective sample size, weight range."""
        return self.groups.copy()

    def plot_data(
        self, *, weighted: bool = False, bins: int = 40, min_cell: int = DEFAULT_MIN_CELL
    ) -> pd.DataFrame:
        """The numbers behind :meth:`plot`: binned scores per group, long form.

        Returns
        -------
        DataFrame
            One row per group (``"participants"``, ``"comparisons"``) and score bin:
            ``group, bin_lower, bin_upper, n`` (persons) and ``density`` (weighted with
            ``weighted=True``); ``n`` and ``density`` missing where a bin holds 1 to
            ``min_cell - 1`` persons (see
            :func:`evaluation.presentation.graphics.effects.overlap_data`).
        """
        from evaluation.presentation.graphics.effects import overlap_data

        return overlap_data(
            self.scores.to_numpy(),
            self.treat,
            self.weights.to_numpy() if weighted else None,
            bins=bins,
            min_cell=min_cell,
        )

    def plot_overlap(
        self,
        ax: Axes | None = None,
        *,
        weighted: bool = False,
        bins: int = 40,
        min_cell: int = DEFAULT_MIN_CELL,
    ) -> Axes:
        """Mirrored histograms of the scores: participants above, comparisons below.

        ``weighted=True`` draws the weighted distributions, which should coincide after
        weighting; unweighted, the picture shows where common support is thin. Draws
        :meth:`plot_data` (bins of 1 to ``min_cell - 1`` persons empty).
        """
        from evaluation.presentation.graphics.effects import overlap_plot

        return overlap_plot(self.plot_data(weighted=weighted, bins=bins, min_cell=min_cell), ax=ax)

    #: The overlap figure is the result's picture: ``plot`` is :meth:`plot_overlap`.
    plot = plot_overlap

    def _repr_html_(self) -> str:
        return html_repr(
            f"Propensity weights ({self.estimand}, n = {self.n})",
            self.groups,
            notes=[f"Model: {self.treatment} ~ {self.formula}; {self.method}"],
        )


def propensity_weights(
    data: pd.DataFrame,
    formula: str,
    *,
    treatment: str,
    estimand: Estimand = "ATT",
    stabilize: bool = True,
    trim: float | None = None,
) -> PropensityResult:
    """Fit a logistic propensity model and return balancing weights.

    Parameters
    ----------
    data
        One row per person (or person-trial).
    formula
        Right-hand side of the propensity model in patsy syntax, for example
        ``"age + C(sex) + bs(prior_decisions_5y, df=4)"``; a two-sided formula must have
        the treatment on the left.
    treatment
        The 0/1 column, 1 for participants.
    estimand
        ``"ATT"`` (effect among participants, the default), ``"ATE"`` (whole population) or
        ``"ATO"`` (overlap population, Li et al. 2018).
    stabilize
        Multiply by the marginal group shares (ATE, ATT) or normalise each group to mean 1
        (ATO). It does not change weighted means, only the scale that at-risk counts and
        robust variances see.
    trim
        If given (``0 < trim < 0.5``), rows with a score outside ``[trim, 1 - trim]`` get
        weight 0 (Crump et al. 2009). This changes the estimand to the trimmed population.

    Returns
    -------
    PropensityResult

    Raises
    ------
    EstimationError
        Missing columns, a treatment that is not 0/1, missing covariate values.

    References
    ----------
    Rosenbaum PR, Rubin DB (1983). The central role of the propensity score in
    observational studies for causal effects. Biometrika 70:41-55.
    Li F, Morgan KL, Zaslavsky AM (2018). Balancing covariates via propensity score
    weighting. JASA 113:390-400.
    Crump RK, Hotz VJ, Imbens GW, Mitnik OA (2009). Dealing with limited overlap in
    estimation of average treatment effects. Biometrika 96:187-199.

    Examples
    --------
    >>> df = pd.DataFrame({"treated": [1, 1, 0, 0, 0, 1, 0, 0],
    ...                    "age": [20, 25, 30, 35, 22, 31, 40, 28]})
    >>> ps = propensity_weights(df, "age", treatment="treated")
    >>> ps.weights[df.treated == 1].tolist()
    [1.0, 1.0, 1.0]
    >>> sorted(ps.summary()["group"])
    ['comparisons', 'participants']
    """
    import statsmodels.api as sm

    check_choice(estimand, ESTIMANDS, "estimand")
    if trim is not None and not 0 < trim < 0.5:
        raise EstimationError(f"trim must be between 0 and 0.5, not {trim}")
    t = treatment_column(data, treatment)
    rhs = _split_formula(formula, treatment)
    X = design_matrix(data, rhs)
    if len(X) != len(data):
        raise EstimationError("the propensity design lost rows; covariates have missing values")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = sm.GLM(t, X, family=sm.families.Binomial()).fit()
    for msg in caught:
        text = str(msg.message).lower()
        if "converge" in text or "separation" in text:
            warnings.warn(
                f"the propensity model may not have converged ({msg.message}); a covariate may "
                "separate participants from comparisons",
                ConvergenceWarning,
                stacklevel=2,
            )
    e = np.clip(np.asarray(fit.fittedvalues, dtype=np.float64), 1e-12, 1 - 1e-12)
    w = ipw(t, e, estimand, stabilize=stabilize)
    n_trimmed = 0
    if trim is not None:
        out = (e < trim) | (e > 1 - trim)
        n_trimmed = int(out.sum())
        w = np.where(out, 0.0, w)
        if (w[t == 1] > 0).sum() == 0 or (w[t == 0] > 0).sum() == 0:
            raise EstimationError(f"trimming at {trim} removes a whole group")
    groups = []
    for g, name in ((1, "participants"), (0, "comparisons")):
        wg = w[t == g]
        groups.append(
            {
                "group": name,
                "n": int((t == g).sum()),
                "sum_weights": float(wg.sum()),
                "ess": ess(wg),
                "min_weight": float(wg.min()),
                "max_weight": float(wg.max()),
            }
        )
    coefs = pd.DataFrame(
        {
            "term": list(X.columns),
            "coef": fit.params.to_numpy(),
            "se": fit.bse.to_numpy(),
            "z": fit.tvalues.to_numpy(),
            "p": fit.pvalues.to_numpy(),
        }
    )
    return PropensityResult(
        n=len(data),
        n_treated=int(t.sum()),
        estimand=estimand,
        stabilize=stabilize,
        trim=trim,
        formula=rhs.strip(),
        treatment=treatment,
        method="logistic regression (statsmodels GLM, IRLS)",
        weights=pd.Series(w, index=data.index, name="weight"),
        scores=pd.Series(e, index=data.index, name="score"),
        coefficients=coefs,
        groups=pd.DataFrame(groups),
        n_trimmed=n_trimmed,
        treat=t,
        design=X.to_numpy(dtype=np.float64),
    )


def check_scores(data: pd.DataFrame, column: str) -> np.ndarray:
    """A column of propensity scores strictly between 0 and 1, or an error naming the rows."""
    s = numeric_column(data, column, "score", minimum=None)
    bad = (s <= 0) | (s >= 1)
    if bad.any():
        raise EstimationError(
            f"score column {column!r} must hold propensity scores strictly between 0 and 1; "
            f"{counted(int(bad.sum()), 'row does', 'rows do')} not ({rows_text(data, bad)})"
        )
    return s


def ess(w: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum w^2."""
    s2 = float(np.sum(w**2))
    return float(np.sum(w) ** 2 / s2) if s2 > 0 else 0.0
