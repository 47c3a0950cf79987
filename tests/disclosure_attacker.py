"""An attacker of written reports, independent of the package's ledger.

Each ``attack_*`` function reads the files a report wrote (CSV tables, figure data) as an
outsider would, performs one of the eight attacks of issue 9 with its own arithmetic
(subtraction, share times denominator, integer programming with ``scipy.optimize.milp``)
and returns the :class:`Claim` s it makes: "this count is ``value``". A claim is checked
against the truth computed from the registers (:class:`Truth`) where the attack reads
numbers that may be rounded; a claim built only from numbers the report prints as exact
counts is a consequence of them and needs no check. A *recovery* is a correct claim of a
count in ``1 .. min_cell - 1``.

The reports are written in English (``lang="en"``), so numbers parse as plain floats.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.optimize

MIN_CELL = 5
MONTH = 30.4375
#: The breakdowns of the report's two Brå tables.
BRA_BY = {
    "programme": ("sex", "age_group", "prior_group", "municipality"),
    "all": ("group", "sex", "age_group", "prior_group"),
}


@dataclass(frozen=True)
class Claim:
    """A count the attacker derives: ``lo .. hi`` (equal when pinned), and the truth."""

    attack: int
    where: str
    lo: int
    hi: int
    truth: int | None = None

    @property
    def recovered(self) -> bool:
        """A disclosure: every value the attacker allows is in ``1 .. MIN_CELL - 1`` and
        the truth (where checked) is one of them."""
        small = 1 <= self.lo and self.hi < MIN_CELL
        return small and (self.truth is None or self.lo <= self.truth <= self.hi)

    def __str__(self) -> str:
        value = f"{self.lo}" if self.lo == self.hi else f"{self.lo}..{self.hi}"
        return f"attack {self.attack}: {self.where} = {value} (truth {self.truth})"


def recoveries(claims: Iterable[Claim]) -> list[Claim]:
    return [c for c in claims if c.recovered]


# -- reading ---------------------------------------------------------------------------------


def number(text: Any) -> float | None:
    """A printed number, or None for a withheld or empty cell (``..``, ``–``, empty)."""
    if text is None:
        return None
    if isinstance(text, float | int):
        return None if (isinstance(text, float) and math.isnan(text)) else float(text)
    s = str(text).strip().replace("\u00a0", "").replace(" ", "")
    if s in ("", "..", "–", "-", "nan", "NaN"):
        return None
    try:
        return float(s)
    except ValueError:
        return None


def read(path: Path) -> pd.DataFrame:
    """A CSV as text cells (no type guessing: ``..`` stays ``..``)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def decimals(text: Any) -> int:
    s = str(text).strip()
    return len(s.split(".")[1]) if "." in s else 0


def curve_files(folder: Path) -> list[Path]:
    """Figure data with a time axis (survival, incidence and adjusted curves)."""
    out = []
    for p in sorted((folder / "figures").glob("*.data.csv")):
        cols = set(read(p).columns)
        if "time" in cols and (
            {"estimate", "n_at_risk"} & cols or any(c.startswith("cum_") for c in cols)
        ):
            out.append(p)
    return out


ROUNDING_NOTE = "rounded to the middle of blocks of"
RETENTION_NOTE = "rounded to blocks of"


def rounded_file(folder: Path, frame: pd.DataFrame) -> bool:
    """True when the report says its curves come from rounded counts *and* the file's
    cumulative counts are all of the rounded form (0, 3, 8, 13, ... for blocks of 5): the
    attacker believes the caption only where the numbers bear it out."""
    page = folder / "report.html"
    if not page.exists() or ROUNDING_NOTE not in page.read_text(encoding="utf-8"):
        return False
    cum = [c for c in frame.columns if c.startswith("cum_")]
    if not cum:
        return False
    values = np.array([number(x) for c in cum for x in frame[c]], dtype=float)
    ok = (values == 0) | (np.mod(values - (MIN_CELL - MIN_CELL // 2), MIN_CELL) == 0)
    return bool(ok.all())


def rounding_interval(c: float) -> tuple[int, int]:
    """The true counts a midpoint-rounded count ``c`` (blocks of ``MIN_CELL``) stands for."""
    if c == 0:
        return 0, 0
    hi = int(c) + MIN_CELL // 2
    return hi - MIN_CELL + 1, hi


def _slack(v: float, rounded: bool, terms: int) -> tuple[int, int]:
    """A count derived from ``terms`` rounded increments is off by up to ``MIN_CELL - 1``
    each; an exact one is exact."""
    if not rounded:
        return int(v), int(v)
    w = (MIN_CELL - 1) * max(terms, 1)
    return max(int(v) - w, 0), int(v) + w


def _group_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in ("analysis", "group", "municipality") if c in frame.columns]


# -- the truth -------------------------------------------------------------------------------


class Truth:
    """The true counts behind a report, computed from the registers with the package's
    cohort definitions (the same seeds the report uses)."""

    def __init__(self, registers: Any, municipality: str | None = None) -> None:
        from evaluation.report.build import restrict_to_municipality

        if hasattr(registers, "registers"):
            registers = registers.registers
        if municipality is not None:
            registers = restrict_to_municipality(registers, municipality)
        self.registers = registers
        self._bra: dict[str, pd.DataFrame] = {}

    @cached_property
    def cohorts(self) -> dict[str, Any]:
        from evaluation.cohorts import relapse_cohort
        from evaluation.report import REPORT_SEED

        return {
            pop: relapse_cohort(
                self.registers, definition="bra-final", population=p, rng=REPORT_SEED
            )
            for pop, p in (("programme", "programme"), ("all", "all"))
        }

    @cached_property
    def episodes(self) -> pd.DataFrame:
        from evaluation.cohorts import retention_cohort

        return retention_cohort(self.registers).data

    @cached_property
    def design(self) -> pd.DataFrame:
        from evaluation.effects import comparison_cohort
        from evaluation.report import REPORT_SEED

        return comparison_cohort(self.registers, rng=REPORT_SEED).data

    def bra(self, name: str) -> pd.DataFrame:
        """The Brå table with every count shown (``min_cell=1``), laid out as the CSV."""
        from evaluation.cohorts import relapse_table

        if name not in self._bra:
            table = relapse_table(self.cohorts[name], by=BRA_BY[name], lang="en", min_cell=1)
            self._bra[name] = table.formatted("en").astype(str).reset_index(drop=True)
        return self._bra[name]

    def curve_rows(self, file: str, group: str) -> pd.DataFrame | None:
        """Exit times (``duration``) and kinds (``kind``, 0 censored) of a curve's group."""
        # no public name: the report's own value labels, which the attack must read alike
        from evaluation.report._sections import value_label

        if file.startswith("relapse_curves"):
            d = self.cohorts["all"].data
            keep = np.array([value_label(g, "en") == group for g in d["group"]])
            d = d[keep]
            return pd.DataFrame(
                {"duration": d["duration_days"], "kind": (d["event"] == 1).astype(int)}
            )
        if file.startswith("retention_stacked"):
            d = self.episodes
            return pd.DataFrame({"duration": d["duration_days"], "kind": d["event"]})
        if file.startswith("retention_by_municipality"):
            d = self.episodes[self.episodes["municipality"].astype(str) == group]
            return pd.DataFrame({"duration": d["duration_days"], "kind": d["event"]})
        if file.startswith("adjusted_curves"):
            d = self.design
            treated = 1 if group.startswith("participant") else 0
            d = d[d["treated"].astype(int) == treated]
            return pd.DataFrame(
                {"duration": d["duration_days"], "kind": (d["event"] == 1).astype(int)}
            )
        return None


# -- attack 1: per-day risk sets and full-precision curve values ------------------------------


def attack_curves(folder: Path, truth: Truth) -> list[Claim]:
    """Exits between consecutive rows from the number at risk, and events from the estimate
    ratio (``e = n (1 - S_k / S_{k-1})`` exact at full precision)."""
    claims = []
    for path in curve_files(folder):
        frame = read(path)
        if "n_at_risk" not in frame.columns:
            continue
        rounded = rounded_file(folder, frame)
        kinds = sum(c.startswith("cum_") for c in frame.columns)
        for key, part in frame.groupby(_group_columns(frame), sort=False):
            group = key[-1] if isinstance(key, tuple) else key
            rows = truth.curve_rows(path.name, str(group))
            t = np.array([number(x) for x in part["time"]], dtype=float)
            n = np.array([np.nan if number(x) is None else number(x) for x in part["n_at_risk"]])
            est = (
                np.array([np.nan if number(x) is None else number(x) for x in part["estimate"]])
                if "estimate" in part.columns
                else None
            )
            incidence = est is not None and abs(np.nan_to_num(est[0])) < 1e-12
            for k in range(1, len(part)):
                d = n[k - 1] - n[k]
                if not np.isnan(d) and 1 <= d < MIN_CELL:
                    true = None
                    if rows is not None:
                        dur = rows["duration"].to_numpy(float)
                        true = int(((dur >= t[k - 1]) & (dur < t[k])).sum())
                    claims.append(
                        Claim(
                            1,
                            f"{path.name} {group} exits in [{t[k - 1]:g}, {t[k]:g})",
                            *_slack(d, rounded, kinds),
                            true,
                        )
                    )
                if est is None or np.isnan(est[k]) or np.isnan(est[k - 1]) or np.isnan(n[k]):
                    continue
                s0, s1 = (1 - est[k - 1], 1 - est[k]) if incidence else (est[k - 1], est[k])
                if s0 <= 0:
                    continue
                e = n[k] * (1 - s1 / s0)
                if abs(e - round(e)) < 1e-6 and 1 <= round(e) < MIN_CELL:
                    true = None
                    if rows is not None:
                        dur = rows["duration"].to_numpy(float)
                        kind = rows["kind"].to_numpy()
                        true = int(((dur > t[k - 1]) & (dur <= t[k]) & (kind == 1)).sum())
                    claims.append(
                        Claim(
                            1,
                            f"{path.name} {group} events at {t[k]:g} (estimate ratio)",
                            *_slack(round(e), rounded, kinds),
                            true,
                        )
                    )
    return claims


# -- attack 2: shares times denominators ----------------------------------------------------


def share_interval(share: float, places: int, den: float, percent: bool = False) -> tuple[int, int]:
    """The whole counts ``k`` whose ``k / den`` prints as ``share`` with ``places`` decimals."""
    scale = 100.0 if percent else 1.0
    h = 0.5 * 10.0 ** (-places)
    lo = math.ceil((share - h) / scale * den - 1e-9)
    hi = math.floor((share + h) / scale * den + 1e-9)
    return max(lo, 0), min(hi, int(den))


def group_sizes(folder: Path) -> dict[str, float]:
    """The effect design's group sizes as the report prints them (overlap or curve data)."""
    sizes: dict[str, float] = {}
    overlap = folder / "figures" / "propensity_overlap.data.csv"
    if overlap.exists() and "n_group" in read(overlap).columns:
        f = read(overlap)
        for g, part in f.groupby("group"):
            v = number(part["n_group"].iloc[0])
            if v is not None:
                sizes["participants" if g.lower().startswith("participant") else "comparisons"] = v
    adjusted = folder / "figures" / "adjusted_curves.data.csv"
    if adjusted.exists():
        f = read(adjusted)
        if "n_at_risk" in f.columns:
            for g, part in f.groupby("group"):
                v = number(part["n_at_risk"].iloc[0])
                if v is not None:
                    name = "participants" if g.startswith("participant") else "comparisons"
                    sizes.setdefault(name, v)
    return sizes


def attack_shares(folder: Path, truth: Truth) -> list[Claim]:
    """Means of binary covariates (balance figure) and shares in figure data times the
    group size they are a share of."""
    claims = []
    balance = folder / "figures" / "balance_love.data.csv"
    sizes = group_sizes(folder)
    if balance.exists() and sizes:
        f = read(balance)
        design = truth.design
        for _, row in f.iterrows():
            name = row["covariate"]
            col, sep, level = name.partition("=")
            if sep:
                if col not in design.columns:
                    continue
                flag = (design[col].astype(str) == level).to_numpy()
            else:
                if name not in design.columns:
                    continue
                values = pd.to_numeric(design[name], errors="coerce")
                if not values.dropna().isin([0, 1]).all():
                    continue
                flag = (values == 1).to_numpy()
            for tag, treated in (("participants", 1), ("comparisons", 0)):
                s = number(row[f"mean_{tag}"])
                if s is None or tag not in sizes:
                    continue
                lo, hi = share_interval(s, decimals(row[f"mean_{tag}"]), sizes[tag])
                true = int((flag & (design["treated"].astype(int) == treated).to_numpy()).sum())
                size = int(sizes[tag])
                claims.append(Claim(2, f"balance {name}: {tag} with it", lo, hi, true))
                claims.append(
                    Claim(
                        2,
                        f"balance {name}: {tag} without it (complement)",
                        size - hi,
                        size - lo,
                        size - true,
                    )
                )
    for path in sorted((folder / "figures").glob("*.data.csv")):
        f = read(path)
        if not {"n", "n_events", "estimate"} <= set(f.columns):
            continue
        for _, row in f.iterrows():
            n, s = number(row["n"]), number(row["estimate"])
            if n is None or s is None or number(row["n_events"]) is not None:
                continue
            lo, hi = share_interval(s, decimals(row["estimate"]), n)
            claims.append(Claim(2, f"{path.name} {row['group']} {row['window']} events", lo, hi))
            claims.append(
                Claim(
                    2,
                    f"{path.name} {row['group']} {row['window']} non-events",
                    int(n) - hi,
                    int(n) - lo,
                )
            )
    return claims


# -- attack 3: risk tables by subtraction ----------------------------------------------------


def attack_risk_tables(folder: Path, truth: Truth) -> list[Claim]:
    """Exits between ticks from the at-risk column minus the events shown (and censored
    likewise), and events at time 0 from the first risk set minus everything after."""
    claims = []
    for path in curve_files(folder):
        f = read(path)
        if "n_at_risk" not in f.columns:
            continue
        cum = [c for c in f.columns if c.startswith("cum_")]
        rounded = rounded_file(folder, f)
        for key, part in f.groupby(_group_columns(f), sort=False):
            group = key[-1] if isinstance(key, tuple) else key
            rows = truth.curve_rows(path.name, str(group))
            t = [number(x) for x in part["time"]]
            n = [number(x) for x in part["n_at_risk"]]
            if {"n_events", "n_censored"} <= set(f.columns):
                # Old layout: ticks with events and censorings since the previous tick.
                ev = [number(x) for x in part["n_events"]]
                ce = [number(x) for x in part["n_censored"]]
                for k in range(1, len(part)):
                    if n[k - 1] is None or n[k] is None:
                        continue
                    terms = [ev[k], ce[k]] + ([ev[0], ce[0]] if k == 1 else [])
                    unknown = [i for i, v in enumerate(terms) if v is None]
                    if len(unknown) == 1:
                        v = n[k - 1] - n[k] - sum(x for x in terms if x is not None)
                        what = ["events", "censored", "events at time 0", "censored at 0"]
                        claims.append(
                            Claim(
                                3,
                                f"{path.name} {group} {what[unknown[0]]} at tick {t[k]:g}",
                                int(v),
                                int(v),
                            )
                        )
            elif cum:
                # Grid layout: cumulative exits per kind; the rest of the risk-set drop.
                c = {k: [number(x) for x in part[k]] for k in cum}
                if rows is not None:
                    dur, kind = rows["duration"].to_numpy(float), rows["kind"].to_numpy()
                for j in range(len(part)):
                    for col in cum:
                        prev = c[col][j - 1] if j else 0.0
                        if c[col][j] is None or prev is None:
                            continue
                        d = c[col][j] - prev
                        if rounded:
                            a, b = rounding_interval(c[col][j]), rounding_interval(prev)
                            lo_d, hi_d = max(a[0] - b[1], 0), a[1] - b[0]
                        else:
                            lo_d, hi_d = int(d), int(d)
                        true = None
                        if rows is not None:
                            lo_t = t[j - 1] if j else -1.0
                            kk = int(col.split("_")[1])
                            true = int(((dur > lo_t) & (dur <= t[j]) & (kind == kk)).sum())
                        claims.append(
                            Claim(3, f"{path.name} {group} {col} step {j}", lo_d, hi_d, true)
                        )
                    if j and n[j - 1] is not None and n[j] is not None:
                        drop = n[j - 1] - n[j]
                        for col in cum:
                            others = [
                                c[o][j - 1] - (c[o][j - 2] if j > 1 else 0.0)
                                for o in cum
                                if o != col
                            ]
                            v = drop - sum(others)
                            true = None
                            if rows is not None:
                                kk = int(col.split("_")[1])
                                lo_t = t[j - 2] if j > 1 else -1.0
                                true = int(((dur > lo_t) & (dur <= t[j - 1]) & (kind == kk)).sum())
                            claims.append(
                                Claim(
                                    3,
                                    f"{path.name} {group} {col} by at-risk drop at step {j - 1}",
                                    *_slack(v, rounded, len(cum)),
                                    true,
                                )
                            )
    return claims


# -- Brå tables ------------------------------------------------------------------------------

_HEADER = re.compile(r"^(?P<measure>.+) \((?P<years>\d) years?\)$")
_MEASURES = {
    "Number followed": "n",
    "Number of recidivists": "r",
    "Proportion of recidivists, %": "share",
    "Number of reoffences": "o",
    "Offences per recidivist": "per",
}


@dataclass
class BraTable:
    """A Brå table as read from its CSV: ``cells[(row, window, measure)]`` (None = ``..``)."""

    name: str
    rows: list[tuple[str, str]]  # (breakdown, level)
    cells: dict[tuple[int, int, str], float | None]
    text: dict[tuple[int, int, str], str]
    windows: list[int]

    @classmethod
    def read(cls, path: Path) -> BraTable:
        f = read(path)
        rows = list(zip(f.iloc[:, 0].astype(str), f.iloc[:, 1].astype(str), strict=True))
        cells: dict[tuple[int, int, str], float | None] = {}
        text: dict[tuple[int, int, str], str] = {}
        windows = set()
        for col in f.columns[2:]:
            m = _HEADER.match(col)
            if not m or m.group("measure") not in _MEASURES:
                continue
            w, meas = int(m.group("years")), _MEASURES[m.group("measure")]
            windows.add(w)
            for i, v in enumerate(f[col]):
                cells[(i, w, meas)] = number(v)
                text[(i, w, meas)] = str(v)
        return cls(path.stem, rows, cells, text, sorted(windows))

    def blocks(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, (b, _) in enumerate(self.rows):
            if i and b:
                out.setdefault(b, []).append(i)
        return out

    def truth_of(self, truth: Truth, key: tuple[int, int, str]) -> int | None:
        full = truth.bra("programme" if self.name.endswith("programme") else "all")
        cols = [c for c in full.columns[2:]]
        for col in cols:
            m = _HEADER.match(col)
            if (
                m
                and int(m.group("years")) == key[1]
                and _MEASURES.get(m.group("measure")) == key[2]
            ):
                v = number(full.loc[key[0], col])
                return None if v is None else int(v)
        return None


def bra_tables(folder: Path) -> list[BraTable]:
    return [BraTable.read(p) for p in sorted((folder / "tables").glob("bra_*.csv"))]


def _bra_program(
    table: BraTable, extra: list[tuple[dict[tuple[int, int, str], float], str, float]] = ()
) -> tuple[list[tuple[int, int, str]], Any]:
    """The linear system an attacker builds from a Brå table: unknowns (hidden n, r, o) and
    constraints (blocks add up to the total row, r <= n, o >= r, nested windows, shares and
    offences per recidivist shown)."""
    keys = [k for k, v in table.cells.items() if k[2] in ("n", "r", "o") and v is None]
    index = {k: j for j, k in enumerate(keys)}
    nvar = len(keys)
    if not nvar:
        return keys, (np.zeros((0, 0)), np.zeros(0), np.zeros(0))
    rows_a: list[np.ndarray] = []
    lo_b: list[float] = []
    hi_b: list[float] = []

    def add(coef: dict[tuple[int, int, str], float], lo: float, hi: float) -> None:
        a = np.zeros(nvar)
        const = 0.0
        for k, c in coef.items():
            v = table.cells.get(k)
            if v is None and k in index:
                a[index[k]] += c
            elif v is not None:
                const += c * v
            else:
                return
        if not a.any():
            return
        rows_a.append(a)
        lo_b.append(lo - const)
        hi_b.append(hi - const)

    ws = table.windows
    for w in ws:
        for meas in ("n", "r", "o"):
            for _, members in table.blocks().items():
                coef = {(i, w, meas): 1.0 for i in members}
                coef[(0, w, meas)] = -1.0
                add(coef, 0.0, 0.0)
    for i in range(len(table.rows)):
        for w in ws:
            add({(i, w, "r"): 1.0, (i, w, "n"): -1.0}, -np.inf, 0.0)
            add({(i, w, "o"): 1.0, (i, w, "r"): -1.0}, 0.0, np.inf)
            # Offences without a recidivist are impossible (and nobody has 1,000 of them).
            add({(i, w, "o"): 1.0, (i, w, "r"): -1000.0}, -np.inf, 0.0)
            share = table.cells.get((i, w, "share"))
            if share is not None:
                h = 0.5
                add({(i, w, "r"): 100.0, (i, w, "n"): -(share + h)}, -np.inf, 0.0)
                add({(i, w, "r"): 100.0, (i, w, "n"): -(share - h)}, 0.0, np.inf)
            per = table.cells.get((i, w, "per"))
            if per is not None:
                h = 0.5 * 10.0 ** (-decimals(table.text[(i, w, "per")]))
                add({(i, w, "o"): 1.0, (i, w, "r"): -(per + h)}, -np.inf, 0.0)
                add({(i, w, "o"): 1.0, (i, w, "r"): -(per - h)}, 0.0, np.inf)
        for w1, w2 in zip(ws, ws[1:], strict=False):
            # Nested windows: followed in the longer window => followed in the shorter; a
            # recidivist of the shorter window still followed in the longer one is one there.
            add({(i, w2, "n"): 1.0, (i, w1, "n"): -1.0}, -np.inf, 0.0)
            add(
                {(i, w1, "r"): 1.0, (i, w2, "r"): -1.0, (i, w1, "n"): -1.0, (i, w2, "n"): 1.0},
                -np.inf,
                0.0,
            )
    for coef, _, value in extra:
        add(coef, value, value)
    return keys, (np.array(rows_a).reshape(-1, nvar), np.array(lo_b), np.array(hi_b))


def _bounds(keys: list[Any], system: Any) -> dict[Any, tuple[float, float]]:
    a, lo, hi = system
    nvar = len(keys)
    cons = [scipy.optimize.LinearConstraint(a, lo, hi)] if len(a) else []
    out = {}
    for j, k in enumerate(keys):
        c = np.zeros(nvar)
        c[j] = 1.0
        res = []
        for sign in (1.0, -1.0):
            r = scipy.optimize.milp(
                sign * c,
                constraints=cons,
                integrality=np.ones(nvar),
                bounds=scipy.optimize.Bounds(0, np.inf),
            )
            res.append(sign * r.fun if r.status == 0 else (math.inf if sign < 0 else 0.0))
        out[k] = (res[0], res[1])
    return out


def attack_bra_relations(folder: Path, truth: Truth) -> list[Claim]:
    """Attack 6: the integer programme of a Brå table, every hidden cell's tightest bounds."""
    claims = []
    for table in bra_tables(folder):
        keys, system = _bra_program(table)
        for k, (lo, hi) in _bounds(keys, system).items():
            hi = hi if math.isfinite(hi) else 10**9
            claims.append(
                Claim(
                    6,
                    f"{table.name} row {table.rows[k[0]]} {k[1]}y {k[2]}",
                    int(lo),
                    int(hi),
                    table.truth_of(truth, k),
                )
            )
    return claims


def attack_hidden_sums(folder: Path, truth: Truth) -> list[Claim]:
    """Attack 7: the hidden cells of one block (row total minus what is shown)."""
    claims = []
    for table in bra_tables(folder):
        for b, members in table.blocks().items():
            for w in table.windows:
                for meas in ("n", "r", "o"):
                    total = table.cells.get((0, w, meas))
                    hidden = [i for i in members if table.cells.get((i, w, meas)) is None]
                    if total is None or not hidden:
                        continue
                    s = total - sum(table.cells[(i, w, meas)] or 0.0 for i in members)
                    ts = [table.truth_of(truth, (i, w, meas)) for i in hidden]
                    true = None if any(x is None for x in ts) else int(sum(ts))  # type: ignore[arg-type]
                    claims.append(
                        Claim(
                            7,
                            f"{table.name} {b} {w}y {meas}: sum of {len(hidden)} hidden",
                            int(s),
                            int(s),
                            true,
                        )
                    )
    for path in sorted((folder / "figures").glob("flow_*.data.csv")):
        f = read(path)
        persons = f[f["stage"] == "persons"]
        total = number(persons["n_persons"].iloc[0])
        rest = persons.iloc[1:]
        hidden = [r for r in rest["n_persons"] if number(r) is None]
        if total is not None and hidden:
            s = total - sum(number(r) or 0.0 for r in rest["n_persons"])
            claims.append(
                Claim(7, f"{path.name} persons: sum of {len(hidden)} hidden", int(s), int(s))
            )
    return claims


# -- attack 4 and 8: across files -------------------------------------------------------------


def flow_numbers(folder: Path, name: str) -> dict[str, float | None]:
    """The flow figure's numbers by meaning: ``included``, ``<w>/<reason>`` (entries)."""
    path = folder / "figures" / f"flow_{name}.data.csv"
    out: dict[str, float | None] = {}
    if not path.exists():
        return out
    f = read(path)
    for _, r in f.iterrows():
        if r["stage"] == "persons" and r["reason"] == "included":
            out["included"] = (
                number(r["n_entries"])
                if number(r["n_entries"]) is not None
                else number(r["n_persons"])
            )
        elif r["stage"] == "window":
            e = number(r["n_entries"])
            out[f"{r['window']}/{r['reason']}"] = e
    return out


def attack_flow_vs_bra(folder: Path, truth: Truth) -> list[Claim]:
    """Attack 4: included entries (flow) minus followed (Brå table) = not followed."""
    claims = []
    for table in bra_tables(folder):
        name = "programme" if table.name.endswith("programme") else "all"
        flow = flow_numbers(folder, name)
        inc = flow.get("included")
        if inc is None:
            continue
        for w in table.windows:
            followed = table.cells.get((0, w, "n"))
            if followed is None:
                followed = flow.get(f"{w}y/measured")
            if followed is None:
                continue
            shown_excl = [v for k, v in flow.items() if k.startswith(f"{w}y/excluded")]
            hidden = [v for v in shown_excl if v is None]
            v = inc - followed - sum(x for x in shown_excl if x is not None)
            if hidden or v:
                cohort_flow = truth.cohorts[name].flow
                rows = cohort_flow[
                    (cohort_flow["stage"] == "window")
                    & (cohort_flow["window"] == f"{w}y")
                    & (cohort_flow["reason"] != "measured")
                ]
                claims.append(
                    Claim(
                        4,
                        f"{name} {w}y entries not followed",
                        int(v),
                        int(v),
                        int(pd.to_numeric(rows["n_entries"]).sum()),
                    )
                )
    return claims


def published_by_meaning(folder: Path) -> dict[str, list[tuple[str, float | None]]]:
    """Every count found under the quantity it counts, with the file it was read from."""
    out: dict[str, list[tuple[str, float | None]]] = {}

    def put(meaning: str, file: str, value: float | None) -> None:
        out.setdefault(meaning, []).append((file, value))

    for table in bra_tables(folder):
        pop = "programme" if table.name.endswith("programme") else "all"
        for (i, w, meas), v in table.cells.items():
            if meas in ("n", "r"):
                b, level = table.rows[i]
                put(f"{pop}/{b or 'All'}={level}/{w}y/{meas}", table.name, v)
    for name, pop, by in (
        ("milestones_by_group", "all", "Group"),
        ("relapse_3y_by_municipality", "programme", "Municipality"),
    ):
        path = folder / "figures" / f"{name}.data.csv"
        if path.exists():
            f = read(path)
            for _, r in f.iterrows():
                put(f"{pop}/{by}={r['group']}/{r['window']}y/n", name, number(r["n"]))
                put(f"{pop}/{by}={r['group']}/{r['window']}y/r", name, number(r["n_events"]))
    for pop in ("programme", "all"):
        for k, v in flow_numbers(folder, pop).items():
            if k.endswith("/measured"):
                put(f"{pop}/All=All/{k.split('/')[0]}/n", f"flow_{pop}", v)
            elif k == "included":
                put(f"{pop}/included", f"flow_{pop}", v)
    # The municipal comparison (issue 12): its followed and relapses per municipality. In
    # a municipality's report only that municipality's row counts the same entries as the
    # report's Brå table (the others are other persons): the highlighted row.
    sites = folder / "figures" / "sites_funnel.data.csv"
    if sites.exists():
        f = read(sites)
        own = f["highlight"] == "True" if "highlight" in f.columns else f["group"] == ""
        for _, r in f.iterrows():
            for meas, col in (("n", "n"), ("r", "observed")):
                put(f"comparison/Municipality={r['group']}/1y/{meas}", "sites", number(r[col]))
        for _, r in f[own].iterrows():
            for meas, col in (("n", "n"), ("r", "observed")):
                put(f"programme/Municipality={r['group']}/1y/{meas}", "sites", number(r[col]))
    curve = folder / "figures" / "relapse_curves_by_group.data.csv"
    if curve.exists():
        f = read(curve)
        for g, part in f.groupby("group", sort=False):
            first = part.iloc[0]
            v = number(first["n"]) if "n" in part.columns else number(first["n_at_risk"])
            put(f"all/entries/{g}", "relapse_curves_by_group", v)
    return out


def attack_same_count(folder: Path, truth: Truth) -> list[Claim]:
    """Attack 8: a quantity hidden in one file and shown in another, and subtraction across
    files (entries of all groups in the curve data against the flow's included entries)."""
    claims = []
    table = published_by_meaning(folder)
    for meaning, places in table.items():
        shown = [v for _, v in places if v is not None]
        if shown and any(v is None for _, v in places):
            claims.append(
                Claim(
                    8,
                    f"{meaning} hidden in one output, shown in another",
                    int(shown[0]),
                    int(shown[0]),
                )
            )
    entries = {
        k.split("/", 2)[2]: [v for _, v in p if v is not None]
        for k, p in table.items()
        if k.startswith("all/entries/")
    }
    included = [v for _, v in table.get("all/included", []) if v is not None]
    if included and entries:
        known = {g: v[0] for g, v in entries.items() if v}
        missing = [g for g in entries if g not in known]
        if len(missing) == 1:
            v = included[0] - sum(known.values())
            claims.append(
                Claim(8, f"entries of {missing[0]} (flow minus curve data)", int(v), int(v))
            )
    # The Brå totals against the other files' group rows.
    for meaning, places in table.items():
        if "/All=All/" not in meaning:
            continue
        pop, _, w, meas = meaning.split("/")
        total = [v for _, v in places if v is not None]
        if not total:
            continue
        for by in ("Group", "Municipality"):
            rows = {
                k: [v for _, v in p if v is not None]
                for k, p in table.items()
                if k.startswith(f"{pop}/{by}=") and k.endswith(f"/{w}/{meas}")
            }
            if not rows:
                continue
            unknown = [k for k, v in rows.items() if not v]
            if len(unknown) == 1:
                v = total[0] - sum(v[0] for v in rows.values() if v)
                claims.append(
                    Claim(
                        8,
                        f"{unknown[0]} (total minus the other rows, across files)",
                        int(v),
                        int(v),
                    )
                )
    return claims


# -- attack 9: the municipal comparison's expected counts ---------------------------------------


def attack_expected_sum(folder: Path, truth: Truth) -> list[Claim]:
    """Attack 9: a logistic model with an intercept makes the expected counts add up to the
    observed ones, so the sum of the printed E (two decimals) is the relapses of all
    compared municipalities; minus the printed O it is the sum of the withheld ones. Each
    withheld O then lies between that sum minus the others' followed (where printed) and
    the smaller of the sum and its own followed."""
    path = folder / "figures" / "sites_funnel.data.csv"
    if not path.exists():
        return []
    f = read(path)
    expected = [number(v) for v in f["expected"]]
    if any(e is None for e in expected):
        return []
    observed = [number(v) for v in f["observed"]]
    n = [number(v) for v in f["n"]]
    rest = round(sum(e for e in expected if e is not None)) - sum(
        o for o in observed if o is not None
    )
    hidden = [i for i, o in enumerate(observed) if o is None]
    claims = []
    for i in hidden:
        top = [min(rest, n[j]) if n[j] is not None else rest for j in hidden if j != i]
        hi = int(min(rest, n[i])) if n[i] is not None else int(rest)
        lo = int(max(0, rest - sum(top)))
        claims.append(Claim(9, f"relapses of {f['group'].iloc[i]} (sum of E minus O)", lo, hi))
    return claims


# -- attack 5: retention shares -----------------------------------------------------------------


def attack_retention(folder: Path, truth: Truth) -> list[Claim]:
    """Shares of episodes in each state times the number of episodes, and the hidden state
    of a column as 100 % minus the others."""
    path = folder / "tables" / "retention_shares.csv"
    if not path.exists():
        return []
    f = read(path)
    n = None
    for name in ("retention_stacked.data.csv",):
        p = folder / "figures" / name
        if p.exists():
            d = read(p)
            n = number(d["n"].iloc[0]) if "n" in d.columns else number(d["n_at_risk"].iloc[0])
    if n is None:
        return []
    page = folder / "report.html"
    rounded = page.exists() and RETENTION_NOTE in page.read_text(encoding="utf-8")
    eps = truth.episodes
    dur, ev = eps["duration_days"].to_numpy(float), eps["event"].to_numpy()
    codes = {"Still in the programme": 0, "Completed": 1, "Dropped out": 2, "Moved": 3, "Died": 4}
    claims = []
    months = [c for c in f.columns[1:] if re.fullmatch(r"\d+ months", c)]
    for col in months:
        t = int(col.split()[0]) * MONTH
        shares = {r.iloc[0]: number(r[col]) for _, r in f.iterrows()}

        def true_of(state: str, t: float = t) -> int | None:
            code = codes.get(state)
            if code is None:
                return None
            if code == 0:
                return int((dur > t).sum())
            return int(((ev == code) & (dur <= t)).sum())

        for state, s in shares.items():
            if s is None:
                continue
            k = round(s / 100 * n)
            claims.append(
                Claim(5, f"retention {state} at {col}", *_slack(k, rounded, 1), true_of(state))
            )
        hidden = [k for k, v in shares.items() if v is None and codes.get(k) is not None]
        if len(hidden) == 1:
            rest = 100.0 - sum(v for v in shares.values() if v is not None)
            k = round(rest / 100 * n)
            claims.append(
                Claim(
                    5,
                    f"retention {hidden[0]} at {col} (100 % minus the others)",
                    *_slack(k, rounded, 1),
                    true_of(hidden[0]),
                )
            )
    return claims


ATTACKS = {
    1: attack_curves,
    2: attack_shares,
    3: attack_risk_tables,
    4: attack_flow_vs_bra,
    5: attack_retention,
    6: attack_bra_relations,
    7: attack_hidden_sums,
    8: attack_same_count,
    9: attack_expected_sum,
}


# -- written reports, shared by the test modules ---------------------------------------------

_REPORTS: dict[tuple[Any, ...], Path] = {}
_ROOT: list[Path] = []


def written_report(name: str, registers: Any, municipality: str | None = None) -> Path:
    """Write (once per test session) a report of ``registers`` in English, PNG only.

    Tolerant of the package's versions: ``overwrite`` is passed only where
    ``build_report`` has it (the report before issue 9 had not), so the same attacks run
    against the old code.
    """
    import atexit
    import inspect
    import shutil
    import tempfile

    from evaluation.report import build_report

    key = (name, municipality)
    if key not in _REPORTS:
        if not _ROOT:
            _ROOT.append(Path(tempfile.mkdtemp(prefix="disclosure-attacks-")))
            atexit.register(shutil.rmtree, _ROOT[0], True)
        folder = _ROOT[0] / f"{name}-{municipality or 'all'}"
        options: dict[str, Any] = {}
        if "overwrite" in inspect.signature(build_report).parameters:
            options["overwrite"] = True
        build_report(
            registers, folder, lang="en", municipality=municipality, formats=("png",), **options
        )
        _REPORTS[key] = folder
    return _REPORTS[key]
