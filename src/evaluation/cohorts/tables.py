"""Brå's relapse table: count and share relapsing per window, by group, with disclosure control."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from evaluation._defaults import DEFAULT_MIN_CELL
from evaluation._errors import DefinitionError, EstimationError
from evaluation._results import html_repr
from evaluation.cohorts._cohort import Cohort
from evaluation.cohorts.definitions import RelapseDefinition, _window_label
from evaluation.presentation.disclosure import SUPPRESSED, suppress_small_cells
from evaluation.presentation.formatting import format_number, format_percent
from evaluation.presentation.labels import check_lang, label

__all__ = ["RelapseTable", "relapse_table"]

DEFAULT_BY: tuple[str, ...] = ("sex", "age_group", "prior_group", "municipality", "group")
_MEASURES = (
    "n",
    "relapsed",
    "share",
    "offences",
    "offences_per_person",
    "offences_per_relapsed",
    "median_days",
)
_SEX = {"F": "women", "M": "men"}
_GROUP = {"participant": "participants", "non-participant": "non_participants"}


@dataclass(frozen=True, slots=True, kw_only=True)
class RelapseTable:
    """A Brå relapse table.

    Attributes
    ----------
    table
        Tidy numbers after disclosure control: one row per ``breakdown``, ``level`` and
        ``window`` with ``n`` (entries followed through the window), ``relapsed``,
        ``share``, ``offences`` (relapse offences, Brå's återfallsfrekvens counts every
        one), ``offences_per_person`` (per entry followed), ``offences_per_relapsed`` (per
        recidivist), ``median_days`` (days from
        entry to the first relapse offence among those relapsing). Suppressed values are
        NaN and flagged in ``suppressed``.
    suppressed
        Same shape as ``table``'s measure columns: True where a value is withheld.
    raw
        The numbers before disclosure control (never publish this).
    definition
        The cohort's relapse definition.
    windows
        Window labels shown (``"1y"``, ...).
    min_cell, study_end, programme, lang
        Disclosure threshold, extraction date, whether time zero is a programme start, and
        the default language of ``formatted()`` and the HTML view.
    synthetic
        Whether the registers were synthetic (``meta["source"] == "synthetic"``): the
        footnotes then say so.
    """

    table: pd.DataFrame
    suppressed: pd.DataFrame
    raw: pd.DataFrame
    definition: RelapseDefinition
    windows: tuple[str, ...]
    min_cell: int
    study_end: str
    programme: bool
    lang: str = "sv"
    synthetic: bool = False

    def summary(self) -> pd.DataFrame:
        """The tidy table after disclosure control."""
        return self.table.copy()

    def title(self, lang: str = "sv") -> str:
        """Bilingual title, ``lang`` first (Brå prints the Swedish title over the English)."""
        check_lang(lang)
        years = _years_text(self.windows, lang)
        key = "bra_title_programme" if self.programme else "bra_title"
        other = "en" if lang == "sv" else "sv"
        return "\n".join(
            [
                label(key, lang, windows=years),
                label(key, other, windows=_years_text(self.windows, other)),
            ]
        )

    def footnotes(self, lang: str = "sv") -> list[str]:
        """The definitions behind the numbers, in ``lang``."""
        check_lang(lang)
        d = self.definition
        notes = [label("bra_footnote_programme" if self.programme else "bra_footnote_entry", lang)]
        if not self.programme and d.entry_sanctions == ("prison", "probation"):
            notes.append(label("bra_footnote_entry_prison_probation", lang))
        notes.append(
            label(
                "bra_footnote_relapse",
                lang,
                buffer=_window_text(_window_label(d.buffer_years), lang) if d.buffer_years else "0",
                counts=label(f"bra_counts_{d.counts}", lang),
            )
        )
        if not self.programme:
            sel = "random" if d.selection == "random-per-year" else "all"
            notes.append(label(f"bra_footnote_selection_{sel}", lang))
        notes.append(label(f"bra_footnote_custody_{d.custody}", lang))
        notes.append(label("bra_footnote_incomplete", lang, study_end=self.study_end))
        notes.append(label("share_footnote", lang, min_cell=self.min_cell))
        notes.append(label("bra_footnote_median", lang, min_cell=self.min_cell))
        notes.append(label("suppressed_footnote", lang, min_cell=self.min_cell))
        if d.source:
            notes.append(label("bra_definition_source", lang, source=d.source))
        if self.synthetic:
            notes.append(label("source_synthetic", lang))
        return notes

    def formatted(self, lang: str | None = None) -> pd.DataFrame:
        """The table in Brå's layout as text: groups as rows, measures per window as columns.

        Whole-number percentages, the language's number format, ``..`` where suppressed.
        The title and footnotes are in ``.attrs["title"]`` and ``.attrs["footnotes"]``.
        """
        lang = check_lang(lang or self.lang)
        t = self.table
        rows = t[["breakdown", "level"]].drop_duplicates()
        out = pd.DataFrame(
            {
                label("bra_breakdown", lang): [_breakdown_text(b, lang) for b in rows["breakdown"]],
                label("bra_level", lang): [
                    _level_text(b, lv, lang)
                    for b, lv in zip(rows["breakdown"], rows["level"], strict=True)
                ],
            }
        )
        for w in self.windows:
            wt = _window_text(w, lang)
            part = t[t["window"] == w].reset_index(drop=True)
            sup = self.suppressed[t["window"].to_numpy() == w].reset_index(drop=True)
            for m in _MEASURES:
                values = part[m].to_numpy(dtype=np.float64)
                if m == "share":
                    text = [format_percent(v, lang) for v in values]
                elif m == "offences_per_relapsed":
                    text = [format_number(v, lang, decimals=1) for v in values]
                elif m == "offences_per_person":
                    text = [format_number(v, lang, decimals=2) for v in values]
                else:
                    text = [format_number(v, lang) for v in values]
                text = [SUPPRESSED if s else x for x, s in zip(text, sup[m], strict=True)]
                out[label(f"bra_{_label_key(m)}", lang, window=wt)] = text
        out.attrs["title"] = self.title(lang)
        out.attrs["footnotes"] = self.footnotes(lang)
        return out

    def _repr_html_(self) -> str:
        f = self.formatted(self.lang)
        return html_repr(f.attrs["title"], f, notes=f.attrs["footnotes"])


def _label_key(measure: str) -> str:
    return {"offences_per_relapsed": "offences_per"}.get(measure, measure)  # older label key


def _window_text(window: str, lang: str) -> str:
    if window == "1y":
        return label("bra_window_one_year", lang)
    if window.endswith("y"):
        return label("bra_window_years", lang, years=window[:-1])
    return label("bra_window_months", lang, months=window[:-1])


def _years_text(windows: Sequence[str], lang: str) -> str:
    """ "1 år", "1, 2 och 3 år" / "1 year", "1, 2 and 3 years" (months as fractions of years)."""
    parts = [
        w[:-1] if w.endswith("y") else format_number(int(w[:-1]) / 12, lang, decimals=1)
        for w in windows
    ]
    joiner = " och " if lang == "sv" else " and "
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + joiner + parts[-1]
    if lang == "sv":
        return f"{text} år"
    return f"{text} year" if parts == ["1"] else f"{text} years"


def _breakdown_text(breakdown: str, lang: str) -> str:
    if breakdown == "all":
        return ""
    return label(breakdown, lang) if _has(breakdown) else breakdown


def _has(key: str) -> bool:
    from evaluation.presentation.labels import has_label

    return has_label(key)


def _level_text(breakdown: str, level: str, lang: str) -> str:
    if breakdown == "all":
        return label("all", lang)
    if level == "<NA>":
        return label("unknown", lang)
    if breakdown == "sex" and level in _SEX:
        return label(_SEX[level], lang)
    if breakdown == "group" and level in _GROUP:
        return label(_GROUP[level], lang)
    if breakdown == "municipality" and level == "other":
        return label("other_municipality", lang)
    if breakdown in ("age_group", "prior_group"):
        return level.replace("-", "–")
    return level


def relapse_table(
    cohort: Cohort,
    *,
    windows: Sequence[float] = (1, 2, 3),
    by: Sequence[str] = DEFAULT_BY,
    lang: str = "sv",
    min_cell: int = DEFAULT_MIN_CELL,
) -> RelapseTable:
    """Brå's table of relapse within each window, overall and by group.

    Parameters
    ----------
    cohort
        A relapse cohort from :func:`relapse_cohort`.
    windows
        Windows in years; those the cohort's definition lacks are left out (at least one
        must remain).
    by
        Breakdowns (columns of ``cohort.data``) shown as blocks of rows under "Samtliga".
        Missing values form their own row ("Uppgift saknas") so that every block adds up.
    lang
        Default language of ``formatted()`` and the HTML view.
    min_cell
        Disclosure threshold: counts in ``1 .. min_cell - 1`` are suppressed, with secondary
        suppression so blocks cannot give them back
        (:func:`evaluation.report.suppress_small_cells`); shares need a denominator of at
        least ``min_cell``; offences per relapsing person and median days need at least
        ``min_cell`` relapsing persons; offences per person followed need both counts
        shown and at least ``min_cell`` persons followed.

    Returns
    -------
    RelapseTable
        ``.table`` (tidy numbers), ``.formatted(lang)`` (Brå layout), ``.title(lang)``,
        ``.footnotes(lang)``.

    References
    ----------
    Brå (2023). Återfall i brott. Beskrivning av statistiken. Brottsförebyggande rådet.

    Examples
    --------
    >>> from evaluation.cohorts._cohort import Cohort
    >>> from evaluation.cohorts.definitions import RelapseDefinition

    Eight women (six relapse) and twelve men (three relapse): the men's 3 is below
    ``min_cell`` and the women's 6 is withheld too, since 9 - 6 would give the 3 back.

    >>> data = pd.DataFrame({"person_id": [f"P{i}" for i in range(20)],
    ...     "sex": ["F"] * 8 + ["M"] * 12,
    ...     "relapse_1y": pd.array([True] * 6 + [False] * 2 + [True] * 3 + [False] * 9,
    ...                            dtype="boolean"),
    ...     "n_relapse_offences_1y": pd.array([2] * 6 + [0] * 2 + [1] * 3 + [0] * 9,
    ...                                       dtype="Int64"),
    ...     "days_to_relapse_1y": [10.0] * 6 + [np.nan] * 2 + [20.0] * 3 + [np.nan] * 9})
    >>> c = Cohort(data, pd.DataFrame(), RelapseDefinition.preset("bra-preliminary"))
    >>> t = relapse_table(c, windows=(1,), by=("sex",))
    >>> t.table["relapsed"].tolist(), t.table["share"].tolist()
    ([9.0, nan, nan], [0.45, nan, nan])
    >>> t.formatted("sv").iloc[:, 1:5].values.tolist()
    [['Samtliga', '20', '9', '45'], ['Kvinnor', '8', '..', '..'], ['Män', '12', '..', '..']]
    """
    check_lang(lang)
    d = cohort.definition
    if not isinstance(d, RelapseDefinition):
        raise DefinitionError("relapse_table needs a relapse cohort (from relapse_cohort)")
    wanted = [_window_label(float(w)) for w in windows]
    labels = [w for w in d.window_labels if w in wanted]
    if not labels:
        raise DefinitionError(
            f"none of the windows {list(windows)} is in the definition {d.name!r} "
            f"({', '.join(d.window_labels)})"
        )
    data = cohort.data
    missing = [c for c in by if c not in data.columns]
    if missing:
        raise EstimationError(
            f"cohort.data has no column {', '.join(map(repr, missing))} to break down by"
        )

    raw = _numbers(data, labels, by)
    table, suppressed = _protect(raw, labels, by, min_cell)
    end = cohort.meta.get("study_end", "")
    programme = (
        bool(len(data)) and "entry_kind" in data and (data["entry_kind"] == "programme_start").all()
    )
    return RelapseTable(
        table=table,
        suppressed=suppressed,
        raw=raw,
        definition=d,
        windows=tuple(labels),
        min_cell=int(min_cell),
        study_end=str(end),
        programme=bool(programme),
        lang=lang,
        synthetic=cohort.meta.get("source") == "synthetic",
    )


def _numbers(data: pd.DataFrame, labels: list[str], by: Sequence[str]) -> pd.DataFrame:
    """Tidy raw numbers: one row per breakdown, level and window."""
    parts = []
    for w in labels:
        flag = data[f"relapse_{w}"]
        measured = flag.notna().to_numpy()
        rel = flag.fillna(False).astype(bool).to_numpy() & measured
        off = data[f"n_relapse_offences_{w}"].fillna(0).to_numpy(dtype=np.float64)
        days = (
            data[f"days_to_relapse_{w}"].to_numpy(dtype=np.float64)
            if f"days_to_relapse_{w}" in data
            else np.full(len(data), np.nan)
        )
        frame = pd.DataFrame(
            {
                "n": measured.astype(np.int64),
                "relapsed": rel.astype(np.int64),
                "offences": np.where(measured, off, 0.0),
                "days": np.where(rel, days, np.nan),
            }
        )
        blocks = [("all", (pd.Series("all", index=data.index), ["all"]))]
        blocks += [(b, _levels(data[b])) for b in by]
        for name, (levels, order) in blocks:
            g = frame.groupby(levels.to_numpy(), sort=False, dropna=False)
            agg = g.agg(
                n=("n", "sum"),
                relapsed=("relapsed", "sum"),
                offences=("offences", "sum"),
                median_days=("days", "median"),
                median_sides=("days", _median_sides),
            )
            agg = agg.reindex(order)
            agg = agg.fillna({"n": 0, "relapsed": 0, "offences": 0})
            agg.index.name = "level"
            agg = agg.reset_index()
            agg.insert(0, "breakdown", name)
            agg.insert(2, "window", w)
            parts.append(agg)
    out = pd.concat(parts, ignore_index=True)
    out["n"] = out["n"].astype(np.int64)
    out["relapsed"] = out["relapsed"].astype(np.int64)
    out["offences"] = out["offences"].astype(np.int64)
    out["share"] = out["relapsed"] / out["n"].where(out["n"] > 0)
    out["offences_per_person"] = out["offences"] / out["n"].where(out["n"] > 0)
    out["offences_per_relapsed"] = out["offences"] / out["relapsed"].where(out["relapsed"] > 0)
    return out[["breakdown", "level", "window", *_MEASURES, "median_sides"]]


def _median_sides(days: pd.Series) -> float:
    """The fewer of the values strictly below and strictly above the median.

    A median is one person's value (or the mean of two): it is shown only where at least
    ``min_cell`` persons lie on each side of it, so that it cannot single anyone out.
    """
    v = days.dropna().to_numpy()
    if len(v) == 0:
        return 0.0
    med = np.median(v)
    return float(min((v < med).sum(), (v > med).sum()))


def _levels(col: pd.Series) -> tuple[pd.Series, list[str]]:
    """Levels as strings (missing as ``"<NA>"``, so blocks add up) and their row order.

    Categorical columns keep every category in order (Brå shows empty age bands too);
    others are sorted with "other" and missing last.
    """
    levels = col.astype("string").fillna("<NA>").astype(str)
    present = set(levels.unique())
    if isinstance(col.dtype, pd.CategoricalDtype):
        order = [str(c) for c in col.cat.categories]
    else:
        order = sorted(present - {"<NA>", "other"})
        order += ["other"] if "other" in present else []
    order += ["<NA>"] if "<NA>" in present else []
    return levels, order


def _protect(
    raw: pd.DataFrame, labels: list[str], by: Sequence[str], min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Disclosure control per window: counts blockwise, then the derived values."""
    tables, masks = [], []
    for w in labels:
        part = raw[raw["window"] == w].copy()
        part.index = pd.Index(part["breakdown"] + ":" + part["level"])
        blocks = {b: list(part.index[part["breakdown"] == b]) for b in by}
        s = suppress_small_cells(
            part[["n", "relapsed", "offences"]],
            min_cell=min_cell,
            counts=["n", "relapsed", "offences"],
            total_row="all:all",
            row_groups={k: v for k, v in blocks.items() if v},
            shares={"share": ("relapsed", "n")},
        )
        mask = pd.DataFrame(False, index=part.index, columns=list(_MEASURES))
        for c in ("n", "relapsed", "offences", "share"):
            mask[c] = s.mask[c].to_numpy()
        few = ~(part["relapsed"].to_numpy() >= min_cell)
        mask["offences_per_relapsed"] = (mask["relapsed"] | mask["offences"] | few) & part[
            "offences_per_relapsed"
        ].notna()
        # Per person followed: a ratio of two counts, shown where both are and at least
        # min_cell persons were followed.
        small_n = ~(part["n"].to_numpy() >= min_cell)
        mask["offences_per_person"] = (mask["n"] | mask["offences"] | small_n) & part[
            "offences_per_person"
        ].notna()
        one_sided = ~(part["median_sides"].fillna(0).to_numpy() >= min_cell)
        mask["median_days"] = (mask["relapsed"] | few | one_sided) & part["median_days"].notna()
        out = part.drop(columns="median_sides")
        for c in _MEASURES:
            out[c] = out[c].astype(np.float64).mask(mask[c].to_numpy())
        tables.append(out.reset_index(drop=True))
        masks.append(mask.reset_index(drop=True))
    return pd.concat(tables, ignore_index=True), pd.concat(masks, ignore_index=True)
