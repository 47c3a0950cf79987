"""The report's universes and the protected versions of its count tables.

Each function registers the counts of one table or figure in the report's
:class:`~evaluation.presentation.ledger.Ledger`, lets the ledger decide what is shown (together
with everything published before), and returns the table with ``NaN`` where a number is
withheld. The units of every count are rows of a *universe* frame built here from the
cohorts: persons of the registers, entry events of a cohort, relapse offences of a cohort,
programme episodes, the effect design's rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evaluation.presentation.graphics.cohort import wilson_interval
from evaluation.presentation.ledger import Cell, Ledger, Publication

__all__ = [
    "entries_universe",
    "median_ok",
    "offences_universe",
    "persons_universe",
    "protect_counts",
    "protect_flow",
    "protect_milestones",
    "protect_relapse_table",
]

NA = "<NA>"


def _level(col: pd.Series) -> np.ndarray:
    return col.astype("string").fillna(NA).astype(str).to_numpy()


def entries_universe(cohort: Any, by: Sequence[str]) -> pd.DataFrame:
    """One row per entry event: breakdown levels, window flags and window status."""
    data = cohort.data
    out = pd.DataFrame(index=range(len(data)))
    out["person_id"] = data["person_id"].astype(str).to_numpy()
    for b in dict.fromkeys(["group", *by]):
        if b in data.columns:
            out[b] = _level(data[b])
    labels = getattr(cohort.definition, "window_labels", ())
    for w in labels:
        flag = data[f"relapse_{w}"]
        out[f"m_{w}"] = flag.notna().to_numpy()
        out[f"r_{w}"] = flag.fillna(False).astype(bool).to_numpy() & out[f"m_{w}"].to_numpy()
        if cohort.window_status is not None:
            out[f"status_{w}"] = cohort.window_status[w].to_numpy()
    return out


def offences_universe(cohort: Any, by: Sequence[str]) -> pd.DataFrame:
    """One row per relapse offence counted in some window, with its entry's levels.

    An entry with ``n`` offences in its widest measured window gives ``n`` rows; row ``k``
    counts in window ``w`` when ``k < n_relapse_offences_w`` and ``w`` is measured (the
    windows are nested, so the offences of a shorter window are the first ones).
    """
    data = cohort.data
    labels = list(getattr(cohort.definition, "window_labels", ()))
    counts = {}
    for w in labels:
        n = data[f"n_relapse_offences_{w}"].fillna(0).to_numpy(dtype=np.int64)
        counts[w] = np.where(data[f"relapse_{w}"].notna().to_numpy(), n, 0)
    widest = np.max(np.column_stack(list(counts.values())), axis=1) if counts else np.zeros(0)
    rows = np.repeat(np.arange(len(data)), widest.astype(np.int64))
    k = np.arange(len(rows)) - np.repeat(np.cumsum(widest) - widest, widest.astype(np.int64))
    out = pd.DataFrame(index=range(len(rows)))
    for b in dict.fromkeys(["group", *by]):
        if b in data.columns:
            out[b] = _level(data[b])[rows]
    for w in labels:
        out[f"in_{w}"] = k < counts[w][rows]
    return out


def persons_universe(registers: Any, cohorts: Sequence[tuple[str, Any]]) -> pd.DataFrame:
    """One row per person in the registers: each cohort's flow reason and window statuses."""
    ids = registers.persons["person_id"].astype(str).to_numpy()
    out = pd.DataFrame({"person_id": ids})
    for name, cohort in cohorts:
        out[f"reason_{name}"] = cohort.person_reasons.reindex(ids).astype(str).to_numpy()
        if cohort.window_status is None:
            continue
        persons = cohort.data["person_id"].astype(str).to_numpy()
        for w in cohort.window_status.columns:
            status = cohort.window_status[w].to_numpy()
            for s in pd.unique(status):
                have = set(persons[status == s])
                out[f"{name}_{w}_{s}"] = np.isin(ids, list(have))
    return out


def protect_counts(
    ledger: Ledger,
    cells: Sequence[tuple[str, str, Sequence[tuple[str, str, Any]]]],
    *,
    file: str,
    hidden: Sequence[tuple[str, str, Sequence[tuple[str, str, Any]]]] = (),
) -> dict[str, float]:
    """Protect plain counts: ``(key, universe, where)``; returns key -> value or NaN.

    ``hidden`` lists cells that are registered but never published (complements), so the
    audit protects them too.
    """
    batch = []
    for key, universe, where in cells:
        ledger.cell(key, universe, where)
        batch.append(Publication(key, "exact", file=file, location={"cell": key}))
    for key, universe, where in hidden:
        ledger.cell(key, universe, where)
        batch.append(Publication(key, "hidden", file=file))
    shown = ledger.protect(batch)
    return {
        p.cell: float(ledger.value(p.cell)) if s else np.nan
        for p, s in zip(batch, shown, strict=True)
        if p.kind == "exact"
    }


def protect_flow(
    ledger: Ledger, cohort: Any, *, name: str, entries: str, file: str
) -> pd.DataFrame:
    """A cohort's flow table protected through the ledger (persons and window rows).

    Returns the columns of :func:`evaluation.presentation.graphics.cohort.flow_data`:
    ``stage``, ``window``, ``reason``, ``n_persons``, ``n_entries`` (NaN where withheld),
    ``suppressed``.
    """
    flow = cohort.flow
    persons = flow[flow["stage"] == "persons"].reset_index(drop=True)
    batch: list[Publication] = []
    rows: list[dict[str, Any]] = []
    for i, reason in enumerate(persons["reason"].astype(str)):
        if i == 0:
            key = ledger.cell("persons/all", "persons").key
        else:
            key = ledger.cell(
                f"persons/{name}/{reason}", "persons", [(f"reason_{name}", "==", reason)]
            ).key
        where_row = {"stage": "persons", "reason": reason}
        batch.append(
            Publication(key, "exact", file=file, location=where_row | {"column": "n_persons"})
        )
        entry_key = None
        if reason == "included":
            entry_key = ledger.cell(f"{entries}/all", entries).key
            batch.append(
                Publication(
                    entry_key, "exact", file=file, location=where_row | {"column": "n_entries"}
                )
            )
        rows.append({"stage": "persons", "window": "", "reason": reason, "p": key, "e": entry_key})
    if cohort.window_status is not None:
        for w in cohort.window_status.columns:
            window_rows = flow[(flow["stage"] == "window") & (flow["window"] == w)]
            for reason in window_rows["reason"].astype(str):
                pkey = (
                    ledger.cell(
                        f"persons/{name}/{w}/{reason}",
                        "persons",
                        [(f"{name}_{w}_{reason}", "==", True)],
                    ).key
                    if f"{name}_{w}_{reason}" in ledger.universes["persons"]
                    else None
                )
                ekey = ledger.cell(
                    f"{entries}/{w}/{reason}", entries, [(f"status_{w}", "==", reason)]
                ).key
                loc = {"stage": "window", "window": w, "reason": reason}
                if pkey is not None:
                    batch.append(
                        Publication(
                            pkey, "exact", file=file, location=loc | {"column": "n_persons"}
                        )
                    )
                batch.append(
                    Publication(ekey, "exact", file=file, location=loc | {"column": "n_entries"})
                )
                rows.append(
                    {"stage": "window", "window": w, "reason": reason, "p": pkey, "e": ekey}
                )
    shown = ledger.protect(batch)
    visible = {p.cell for p, s in zip(batch, shown, strict=True) if s}

    def val(key: str | None) -> float:
        if key is None:
            return 0.0  # a status nobody has: no person, no entry
        return float(ledger.value(key)) if key in visible else np.nan

    out = pd.DataFrame(
        [
            {
                "stage": r["stage"],
                "window": r["window"],
                "reason": r["reason"],
                "n_persons": val(r["p"]),
                "n_entries": val(r["e"]) if r["e"] is not None else np.nan,
                "suppressed": (r["p"] is not None and r["p"] not in visible)
                or (r["e"] is not None and r["e"] not in visible),
            }
            for r in rows
        ]
    )
    # Reasons nobody has are listed in the flow with zero persons and entries.
    zero = out["stage"].eq("window") & out["n_persons"].isna() & out["n_entries"].eq(0)
    out.loc[zero, "n_persons"] = 0.0
    out.loc[zero, "suppressed"] = False
    return out


def median_ok(values: np.ndarray, min_cell: int) -> bool:
    """True when at least ``min_cell`` values lie strictly below and above the median."""
    v = values[~np.isnan(values)]
    if len(v) == 0:
        return False
    med = np.median(v)
    return bool((v < med).sum() >= min_cell and (v > med).sum() >= min_cell)


def window_cells(
    ledger: Ledger, entries: str, tag: str, where: list[tuple[str, str, Any]], window: str
) -> tuple[Cell, Cell, Cell]:
    """Entries followed through ``window``, those relapsing, and those not (the complement).

    One definition for the Brå tables and the milestone figures, so that the same count is
    the same cell wherever it is printed (and withheld everywhere once withheld).
    """
    followed = [*where, (f"m_{window}", "==", True)]
    return (
        ledger.cell(f"{tag}/n", entries, followed),
        ledger.cell(f"{tag}/relapsed", entries, [*followed, (f"r_{window}", "==", True)]),
        ledger.cell(f"{tag}/not_relapsed", entries, [*followed, (f"r_{window}", "==", False)]),
    )


def protect_relapse_table(
    ledger: Ledger,
    result: Any,
    cohort: Any,
    *,
    entries: str,
    offences: str,
    file: str,
) -> Any:
    """A :class:`~evaluation.cohorts.RelapseTable` with the ledger's suppression.

    For each row and window: followed (``n``), recidivists and their complement (hidden,
    protected), the share (whole per cent of ``n``), relapse offences (offence units), the
    offences per person followed (with both counts shown and ``min_cell`` followed), the
    offences per recidivist (shown only with both counts and at least ``min_cell``
    recidivists) and the median days (only with ``min_cell`` recidivists on each side).
    """
    m = ledger.min_cell
    raw = result.raw
    batch: list[Publication] = []
    index: list[tuple[int, str, int]] = []  # (raw row, measure, batch position)
    offence_pubs: list[tuple[int, Publication]] = []
    for i, row in raw.iterrows():
        b, lv, w = str(row["breakdown"]), str(row["level"]), str(row["window"])
        where = [] if b == "all" else [(b, "==", lv)]
        tag = f"{entries}/{w}/{b}={lv}"
        n, r, rest = window_cells(ledger, entries, tag, where, w)
        o = ledger.cell(f"{offences}/{w}/{b}={lv}", offences, [*where, (f"in_{w}", "==", True)])
        loc = {"breakdown": b, "level": lv, "window": w}
        for measure, pub in (
            ("n", Publication(n.key, "exact", file=file, location=loc | {"measure": "n"})),
            ("relapsed", Publication(r.key, "exact", file=file, location=loc | {"measure": "r"})),
            ("_rest", Publication(rest.key, "hidden", file=file)),
            (
                "share",
                Publication(
                    r.key,
                    "share",
                    file=file,
                    location=loc | {"measure": "share"},
                    denominator=n.key,
                    decimals=2,
                ),
            ),
        ):
            index.append((int(i), measure, len(batch)))
            batch.append(pub)
        offence_pubs.append(
            (int(i), Publication(o.key, "exact", file=file, location=loc | {"measure": "o"}))
        )
    shown = ledger.protect(batch)
    # Relapse offences are units of another universe, but each recidivist has at least one:
    # a shown count of offences bounds withheld recidivists from above (and from below by
    # one). So the offences of withheld recidivists are withheld unless they number at
    # least twice min_cell, which leaves the recidivists at least min_cell possible values.
    hidden_rows = {i for i, measure, k in index if measure == "relapsed" and not shown[k]}
    m = ledger.min_cell
    offence_hide = [
        j
        for j, (i, p) in enumerate(offence_pubs)
        if i in hidden_rows and ledger.value(p.cell) < 2 * m
    ]
    offence_shown = ledger.protect([p for _, p in offence_pubs], hide=offence_hide)
    for (i, _), s in zip(offence_pubs, offence_shown, strict=True):
        index.append((i, "offences", len(shown)))
        shown.append(s)
    table = result.table.copy()
    mask = result.suppressed.copy()
    for c in (
        "n",
        "relapsed",
        "share",
        "offences",
        "offences_per_person",
        "offences_per_relapsed",
        "median_days",
    ):
        table[c] = raw[c].astype("float64")
        mask[c] = False
    for i, measure, k in index:
        if measure == "_rest":
            continue
        # A share of nobody is not a number ("–"), not a withheld one.
        if not shown[k] and not (measure == "share" and pd.isna(raw.loc[i, "share"])):
            mask.loc[i, measure] = True
    days = {
        w: cohort.data[f"days_to_relapse_{w}"].to_numpy(dtype="float64")
        if f"days_to_relapse_{w}" in cohort.data
        else None
        for w in raw["window"].unique()
    }
    universe = ledger.universes[entries]
    for i, row in raw.iterrows():
        b, lv, w = str(row["breakdown"]), str(row["level"]), str(row["window"])
        few = not (row["relapsed"] >= m)
        # Offences per person followed: the ratio of two published counts, withheld with
        # either of them (it would give the withheld one back) or with few followed.
        mask.loc[i, "offences_per_person"] = bool(
            (mask.loc[i, "n"] or mask.loc[i, "offences"] or not (row["n"] >= m))
            and pd.notna(row["offences_per_person"])
        )
        mask.loc[i, "offences_per_relapsed"] = bool(
            (mask.loc[i, "relapsed"] or mask.loc[i, "offences"] or few)
            and pd.notna(row["offences_per_relapsed"])
        )
        median_hidden = True
        d = days.get(w)
        if d is not None and not mask.loc[i, "relapsed"]:
            keep = universe[f"r_{w}"].to_numpy()
            if b != "all":
                keep = keep & (universe[b].to_numpy() == lv)
            median_hidden = not median_ok(d[keep], m)
        mask.loc[i, "median_days"] = bool(median_hidden and pd.notna(row["median_days"]))
    for c in mask.columns:
        if c in table.columns:
            table[c] = table[c].astype("float64").mask(mask[c].to_numpy())
    return dataclasses.replace(result, table=table, suppressed=mask, min_cell=m)


def protect_milestones(
    ledger: Ledger,
    data: pd.DataFrame,
    *,
    by: str,
    windows: Sequence[int],
    entries: str,
    file: str,
    labels: dict[Hashable, str] | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Share relapsed within each window by group with Wilson intervals, via the ledger.

    The same counts as the Brå table's rows, so a count hidden there is hidden here. The
    share (three decimals) and its interval are shown only with the count.
    """
    z = stats.norm.ppf(1 - alpha / 2)
    universe = ledger.universes[entries]
    batch: list[Publication] = []
    rows = []
    for w in windows:
        wl = f"{w}y"
        # Groups in the order of their labels (Deltagare before Icke-deltagare), as drawn.
        for g in sorted(pd.unique(universe[by]), key=lambda g: str((labels or {}).get(g, g))):
            tag = f"{entries}/{wl}/{by}={g}"
            n_cell, r_cell, rest = window_cells(ledger, entries, tag, [(by, "==", g)], wl)
            # Where the numbers stand in the figure's data: its group label and window.
            loc = {"group": (labels or {}).get(g, g), "window": w}
            k0 = len(batch)
            batch += [
                Publication(n_cell.key, "exact", file=file, location=loc | {"column": "n"}),
                Publication(r_cell.key, "exact", file=file, location=loc | {"column": "n_events"}),
                Publication(rest.key, "hidden", file=file),
                Publication(
                    r_cell.key,
                    "share",
                    file=file,
                    location=loc | {"column": "estimate"},
                    denominator=n_cell.key,
                    decimals=3,
                ),
            ]
            rows.append((g, w, n_cell.key, r_cell.key, k0))
    shown = ledger.protect(batch)
    out = []
    for g, w, nk, rk, k0 in rows:
        n = float(ledger.value(nk)) if shown[k0] else np.nan
        k = float(ledger.value(rk)) if shown[k0 + 1] else np.nan
        p = lo = hi = np.nan
        if shown[k0 + 3] and not np.isnan(n) and not np.isnan(k) and n > 0:
            p = round(k / n, 3)
            lo, hi = (round(x, 3) for x in wilson_interval(k, n, z))
        out.append(
            {
                "group": (labels or {}).get(g, g),
                "window": w,
                "n": n,
                "n_events": k,
                "estimate": p,
                "ci_lower": lo,
                "ci_upper": hi,
            }
        )
    return pd.DataFrame(
        out, columns=["group", "window", "n", "n_events", "estimate", "ci_lower", "ci_upper"]
    )
