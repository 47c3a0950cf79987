"""Disclosure-safe curves: estimates recomputed from rounded counts on a coarse time grid.

A Kaplan–Meier or Aalen–Johansen curve drawn from the data steps at every event: each step
is one person, and with the risk set beside it every relapse day can be read off. The
report therefore never draws curves from the data. It follows OpenSAFELY's
disclosure-safe Kaplan–Meier (Hulme et al.):

1. time is cut into a grid (months for the report's curves): an exit on day ``d`` belongs
   to grid point ``ceil(d / step)``;
2. for every group, cause and grid point the *cumulative* number of exits by that cause
   (and of censorings) is rounded to the midpoint of its block of ``min_cell`` values
   (:func:`~evaluation.presentation.ledger.round_midpoint`: 1–5 become 3, 6–10 become 8, ...);
   rounding is monotone, so the rounded cumulative counts never decrease;
3. the curve, its confidence band and the number at risk are recomputed by the package's
   own estimators from pseudo-data built from the rounded counts alone (the rounded
   increments at each grid point; the persons still followed at the end of the grid are
   censored after it, so the number at the start is the group's true size).

Every number a curve publishes is then a function of the group sizes and the rounded
counts. The rounded counts are registered in the report's ledger (``rounded``), so the
audit checks that no other published number narrows them. Rounding, not suppression,
because a curve needs every step: suppressing steps would move the curve, while rounding
moves it by at most ``(min_cell - 1) / 2`` persons at any point; the cost is a curve that
steps once a month and may be off by that much, which the captions say.

References
----------
OpenSAFELY (2023). *kaplan-meier-function*: disclosure-safe Kaplan–Meier estimates
(cumulative counts rounded to the midpoint of blocks, curves recomputed from them).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation.presentation.ledger import Ledger, Publication, round_midpoint

__all__ = ["RoundedCurve", "rounded_curve"]

#: One month in days (the report's grid).
MONTH = 30.4375


@dataclass(frozen=True, slots=True)
class RoundedCurve:
    """Rounded cumulative counts on a grid and the pseudo-data rebuilt from them.

    ``counts`` has one row per group and grid point: ``group``, ``step``, ``time`` (days),
    ``n`` (the group's size), and per cause ``cum_<code>`` (rounded cumulative exits by
    that cause, ``cum_0`` the censorings). ``pseudo`` has the columns ``group``,
    ``duration`` and ``event`` and reproduces those counts exactly; any estimator run on it
    publishes nothing beyond them.
    """

    counts: pd.DataFrame
    pseudo: pd.DataFrame
    step: float
    last_step: int
    base: int
    causes: tuple[int, ...]


def grid_columns(
    data: pd.DataFrame, *, duration: str, event: str, step: float, last: int, prefix: str
) -> pd.DataFrame:
    """Each unit's grid point of exit and kind of exit, as columns for its universe.

    An exit on day ``d`` belongs to grid point ``ceil(d / step)``; exits after the last grid
    point get ``last + 1`` (still followed at the grid's end).
    """
    d = data[duration].to_numpy(dtype="float64")
    exit_step = np.minimum(np.ceil(d / step - 1e-9), last + 1).astype(np.int64)
    return pd.DataFrame(
        {
            f"{prefix}step": exit_step,
            f"{prefix}kind": data[event].to_numpy(dtype=np.int64),
        }
    )


def curve_universe(name: str) -> str:
    """The name of a curve's own universe (its units' grid point and kind of exit)."""
    return f"curve:{name}"


def curve_frame(
    data: pd.DataFrame,
    *,
    group: str | None,
    duration: str,
    event: str,
    step: float,
    last: int,
    prefix: str,
) -> pd.DataFrame:
    """A curve's universe: each unit's group (as text) and grid point and kind of exit."""
    grid = grid_columns(data, duration=duration, event=event, step=step, last=last, prefix=prefix)
    if group:
        grid.insert(0, group, data[group].astype("string").fillna("<NA>").astype(str).to_numpy())
    return grid


def rounded_curve(
    ledger: Ledger,
    universe: str,
    data: pd.DataFrame,
    *,
    name: str,
    duration: str,
    event: str,
    group: str | None = None,
    step: float = MONTH,
    last_step: int = 60,
    file: str = "",
    groups: Sequence[Hashable] | None = None,
) -> RoundedCurve:
    """Register a curve's rounded counts in ``ledger`` and build its pseudo-data.

    Parameters
    ----------
    ledger : Ledger
        The report's ledger.
    universe : str
        The universe whose units the curve follows (for example the entry events of a
        cohort); its frame holds the ``group`` column. The groups' sizes are published as
        counts of it. The rounded counts are counts of the curve's own universe
        (:func:`curve_universe`: the same units with their grid point and kind of exit),
        attacked with each other and the group sizes; their links to the other counts of
        the parent universe run through the definitions (a relapse within the first
        twelve months and a relapse within the Brå 1-year window, say) and are not
        modelled: every rounded count keeps its block of ``min_cell`` values.
    data : DataFrame
        The universe's rows (same order), with the duration and event columns.
    name : str
        The curve's name: the prefix of its cells and grid columns.
    duration, event : str
        Exit time in days and exit code (0 censored, 1, 2, ... causes).
    group : str, optional
        Column (in the universe) of the curves' groups.
    step : float
        Grid step in days (a month by default).
    last_step : int
        Last grid point published (60 months: five years).
    file : str
        The file the counts are written to (for the ledger).
    groups : sequence, optional
        Groups to publish (default: every group present, sorted); the others' rows are
        not part of the curve.

    Returns
    -------
    RoundedCurve

    Raises
    ------
    DisclosureError
        If a count of the curve would have to be hidden (a group smaller than
        ``min_cell``): a curve is published whole or not at all.
    """
    prefix = f"{name}:"
    child = curve_universe(name)
    if child not in ledger.universes:
        ledger.add_universe(
            child,
            curve_frame(
                data,
                group=group,
                duration=duration,
                event=event,
                step=step,
                last=last_step,
                prefix=prefix,
            ),
        )
    frame = ledger.universes[child]
    base = ledger.min_cell
    levels = frame[group].astype(str).to_numpy() if group else np.full(len(frame), "all")
    names = [str(g) for g in groups] if groups is not None else sorted(set(levels.tolist()))
    member = np.isin(levels, names)
    kinds = sorted(set(frame.loc[member, f"{prefix}kind"].tolist()) | {0})
    causes = tuple(k for k in kinds if k != 0)
    rows = []
    pseudo: list[tuple[str, float, int, int]] = []
    batch: list[Publication] = []
    steps = np.arange(last_step + 1)
    exit_step = frame[f"{prefix}step"].to_numpy()
    exit_kind = frame[f"{prefix}kind"].to_numpy()
    for g in names:
        in_group = levels == g
        where_group = [(group, "==", g)] if group else []
        n = int(in_group.sum())
        # The group's size is a count of the parent universe's units too: published there
        # as well, so that it is attacked with every other count of those units.
        total = ledger.cell(f"{universe}/{name}/{g}/n", universe, where_group)
        batch.append(
            Publication(total.key, "exact", file=file, location={"group": g, "column": "n"})
        )
        own = ledger.cell(f"{child}/{g}/n", child, where_group)
        batch.append(Publication(own.key, "exact", file=file, location={"group": g}))
        row = {"group": g, "n": n}
        cum_by_kind = {}
        for k in kinds:
            x = exit_step[in_group & (exit_kind == k)]
            true_cum = np.searchsorted(np.sort(x), steps, side="right")
            cum_by_kind[k] = round_midpoint(true_cum, base)
            for j in steps:
                c = ledger.cell(
                    f"{child}/{g}/cum_{k}/{j}",
                    child,
                    [*where_group, (f"{prefix}kind", "==", k), (f"{prefix}step", "<=", int(j))],
                )
                batch.append(
                    Publication(
                        c.key,
                        "rounded",
                        file=file,
                        location={"group": g, "step": int(j), "column": f"cum_{k}"},
                        base=base,
                    )
                )
        for j in steps:
            rows.append(
                {**row, "step": int(j), "time": j * step}
                | {f"cum_{k}": int(cum_by_kind[k][j]) for k in kinds}
            )
        # Pseudo-data: the rounded increments at each grid point; the rest censored after it.
        placed = 0
        for k in kinds:
            inc = np.diff(np.concatenate([[0], cum_by_kind[k]]))
            for j in np.flatnonzero(inc):
                pseudo.append((str(g), float(j * step), int(k), int(inc[j])))
                placed += int(inc[j])
        rest = n - placed
        if rest > 0:
            pseudo.append((str(g), float((last_step + 1) * step), 0, rest))
        elif rest < 0:
            # Rounding up placed more exits than there are units: drop the excess from the
            # latest censorings, so that the pseudo-data keep the group's true size.
            pseudo.append((str(g), float((last_step + 1) * step), -1, rest))
    ledger.protect(batch, whole=True)
    counts = pd.DataFrame(rows)
    return RoundedCurve(
        counts=counts,
        pseudo=_expand(pseudo, last_step, step),
        step=step,
        last_step=last_step,
        base=base,
        causes=causes,
    )


def _expand(pseudo: list[tuple[str, float, int, int]], last_step: int, step: float) -> pd.DataFrame:
    """Rows from (group, time, event, count); a negative count trims end censorings."""
    out = []
    for g in dict.fromkeys(p[0] for p in pseudo):
        parts = [p for p in pseudo if p[0] == g]
        trim = -sum(c for _, _, k, c in parts if k == -1)
        rows = []
        for _, t, k, c in parts:
            if k == -1:
                continue
            rows.append((t, k, c))
        # Trim the excess from the latest censorings (rounding placed too many exits).
        if trim > 0:
            rows.sort(key=lambda r: (r[1] != 0, -r[0]))
            kept = []
            for t, k, c in rows:
                if k == 0 and trim > 0:
                    take = min(c, trim)
                    c -= take
                    trim -= take
                if c > 0:
                    kept.append((t, k, c))
            rows = kept
        for t, k, c in rows:
            out.append(
                pd.DataFrame(
                    {
                        "group": [g] * c,
                        "duration": np.full(c, t),
                        "event": np.full(c, k, dtype=np.int64),
                    }
                )
            )
    if not out:
        return pd.DataFrame({"group": [], "duration": [], "event": []})
    return pd.concat(out, ignore_index=True)
