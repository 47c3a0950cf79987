"""Effect measures, curves, the hazard ratio, IPCW and the design grade from replicates.

Private helpers of :func:`evaluation.effects.estimate_programme_effect`: each turns the
bootstrap replicates (column 0 the estimate) into tidy rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.effects.bootstrap import Replicates

DAYS_PER_YEAR = 365.25
PP_FORMULA = "age + np.log1p(prior_decisions_5y) + prior_custody_5y + C(sex)"
"""Dropout model for the inverse-probability-of-censoring weights of the per-protocol arm."""


def _interval(est: float, reps: np.ndarray, alpha: float, log: bool = False):
    """Percentile interval and a Wald p-value from the bootstrap standard error."""
    reps = reps[np.isfinite(reps)]
    lo, hi = np.quantile(reps, [alpha / 2, 1 - alpha / 2])
    if log:
        se = float(np.std(np.log(reps[reps > 0]), ddof=1))
        z = np.log(est) / se if se > 0 else np.nan
    else:
        se = float(np.std(reps, ddof=1))
        z = est / se if se > 0 else np.nan
    return float(lo), float(hi), se, float(2 * stats.norm.sf(abs(z)))


def _measures(
    rep: Replicates,
    *,
    analysis: str,
    estimand: str,
    times: tuple[int, ...],
    tau: float,
    alpha: float,
) -> list[dict[str, Any]]:
    rows = []
    for y in times:
        day = int(np.floor(y * DAYS_PER_YEAR))
        f1, f0 = rep.cif[1][day], rep.cif[0][day]
        rd = f1 - f0
        with np.errstate(divide="ignore", invalid="ignore"):
            rr = f1 / f0
        lo, hi, se, p = _interval(rd[0], rd[1:], alpha)
        rows.append(
            dict(
                analysis=analysis,
                estimand=estimand,
                measure=f"risk_difference_{y}y",
                time=y,
                estimate=float(rd[0]),
                se=se,
                ci_lower=lo,
                ci_upper=hi,
                p=p,
            )
        )
        lo, hi, se, p = _interval(rr[0], rr[1:], alpha, log=True)
        rows.append(
            dict(
                analysis=analysis,
                estimand=estimand,
                measure=f"risk_ratio_{y}y",
                time=y,
                estimate=float(rr[0]),
                se=se,
                ci_lower=lo,
                ci_upper=hi,
                p=p,
            )
        )
        for g, name in ((1, "participants"), (0, "comparisons")):
            lo, hi, se, _ = _interval(rep.cif[g][day][0], rep.cif[g][day][1:], alpha)
            rows.append(
                dict(
                    analysis=analysis,
                    estimand=estimand,
                    measure=f"risk_{name}_{y}y",
                    time=y,
                    estimate=float(rep.cif[g][day][0]),
                    se=se,
                    ci_lower=lo,
                    ci_upper=hi,
                    p=np.nan,
                )
            )
    d = rep.rmst[1] - rep.rmst[0]
    lo, hi, se, p = _interval(d[0], d[1:], alpha)
    rows.append(
        dict(
            analysis=analysis,
            estimand=estimand,
            measure=f"rmst_difference_{round(tau / 365.25)}y",
            time=tau / DAYS_PER_YEAR,
            estimate=float(d[0]),
            se=se,
            ci_lower=lo,
            ci_upper=hi,
            p=p,
        )
    )
    return rows


def _curves(rep: Replicates, analysis: str, alpha: float) -> pd.DataFrame:
    parts = []
    for g, name in ((1, "participant"), (0, "comparison")):
        c = rep.cif[g]
        lo, hi = np.quantile(c[:, 1:], [alpha / 2, 1 - alpha / 2], axis=1)
        parts.append(
            pd.DataFrame(
                {
                    "analysis": analysis,
                    "group": name,
                    "time": np.arange(c.shape[0]),
                    "estimate": c[:, 0],
                    "ci_lower": lo,
                    "ci_upper": hi,
                    "n_at_risk": np.round(rep.at_risk[g]).astype(np.int64),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _hazard_ratio(
    data: pd.DataFrame,
    w: np.ndarray,
    *,
    analysis: str,
    estimand: str,
    alpha: float,
    treatment: str,
    duration: str,
    event: str,
    cluster: str,
) -> dict[str, Any]:
    """The marginal hazard ratio of ``treatment``: a weighted Cox model of relapse with a
    cluster-robust variance (rows of weight 0 left out)."""
    from evaluation.survival.cox import cox

    frame = pd.DataFrame(
        {
            "duration": data[duration].to_numpy(dtype=np.float64),
            "event": data[event].to_numpy(),
            "treated": data[treatment].to_numpy(dtype=np.float64),
            "w": w,
            "cluster": data[cluster].to_numpy(),
        }
    )[w > 0]
    fit = cox(
        frame,
        "treated",
        duration="duration",
        event="event",
        weights="w",
        cluster="cluster",
        alpha=alpha,
    )
    row = fit.summary().iloc[0]
    return dict(
        analysis=analysis,
        estimand=estimand,
        measure="hazard_ratio",
        time=np.nan,
        estimate=float(row.hr),
        se=float(row.robust_se),
        ci_lower=float(row.ci_lower),
        ci_upper=float(row.ci_upper),
        p=float(row.p),
    )


def _ipcw(
    part: pd.DataFrame, horizon: int, *, duration: str, event: str, dropout: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Participants' per-protocol follow-up (censored at dropout) and 1 / P(no dropout by
    day t - 1 | covariates) from a Cox model of dropout (Robins & Finkelstein 2000)."""
    from evaluation.survival.cox import cox

    drop = part[dropout].to_numpy(dtype=np.float64)
    dur = part[duration].to_numpy()
    dropped = np.isfinite(drop) & (drop < dur)
    pp = part.copy()
    pp[duration] = np.where(dropped, drop, dur).astype(np.int64)
    pp[event] = np.where(dropped, 0, part[event].to_numpy())
    pp["_drop_event"] = dropped.astype(np.int64)
    g = np.ones((len(part), horizon + 1))
    if dropped.sum() >= 5:
        fit = cox(pp, PP_FORMULA, duration=duration, event="_drop_event")
        K = fit.predict_survival(pp.reset_index(drop=True), times=np.arange(horizon + 1))
        K = K.to_numpy().T  # (n1, T + 1): P(no dropout by day t)
        K_before = np.hstack([np.ones((len(part), 1)), K[:, :-1]])
        # Weights above 20 are truncated: a few near-certain dropouts would else dominate.
        g = np.minimum(1.0 / np.maximum(K_before, 1e-12), 20.0)
    return g, pp.drop(columns="_drop_event")


def _msms(balanced: bool, method: str) -> tuple[int, dict[str, str]]:
    sv_method = "viktning" if method == "weighting" else "matchning"
    if balanced:
        level = 3
        en = (
            "Maryland Scientific Methods Scale level 3: participants are compared with a "
            "comparison group from the same registers, followed from the same kind of time "
            f"zero and made comparable on measured pre-programme characteristics ({method}; "
            "every standardised difference below 0.1). Not level 4: who joins is not as good "
            "as random, and unmeasured differences such as motivation can remain."
        )
        sv = (
            "Nivå 3 på Maryland Scientific Methods Scale: deltagarna jämförs med en "
            "jämförelsegrupp ur samma register, följd från samma slags startpunkt och gjord "
            f"jämförbar på mätta bakgrundsfaktorer ({sv_method}; "
            "alla standardiserade skillnader under 0,1). Inte nivå 4: vem som deltar är inte "
            "slumpmässigt, och omätta skillnader som motivation kan finnas kvar."
        )
    else:
        level = 2
        en = (
            "Maryland Scientific Methods Scale level 2: there is a comparison group, but "
            "after adjustment the groups still differ on measured characteristics (a "
            "standardised difference of 0.1 or more), so the comparison is not like with like."
        )
        sv = (
            "Nivå 2 på Maryland Scientific Methods Scale: det finns en jämförelsegrupp, men "
            "grupperna skiljer sig fortfarande åt i mätta bakgrundsfaktorer efter justering "
            "(en standardiserad skillnad på 0,1 eller mer)."
        )
    return level, {"en": en, "sv": sv}
