"""``audit_report``: attack a written report with everything it published.

The report writes ``disclosure/ledger.json`` beside its files: every count it published or
withheld, as a definition (the universe of units and the condition, never a value), and
every publication of one (where, how, and the value printed). The audit

1. checks that each published value is what the report's files print (a tampered or
   stale ledger fails), and scans every file for small counts outside the ledger
   (:func:`~evaluation.report.find_disclosures`);
2. rebuilds the units of every universe from the registers (the data holder's output
   checker has them; the ledger itself holds no unit-level data), so that each count's
   definition becomes a set of units again;
3. attacks all publications together (:func:`~evaluation.presentation.ledger.audit`): exact
   subtraction by linear algebra, tightest integer bounds of every withheld small count,
   rounded counts not narrowed below their block.

The report is safe when all three find nothing.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evaluation.presentation.ledger import AuditResult, Ledger, Publication, audit

__all__ = ["ReportAudit", "audit_report", "rebuild_universes"]


@dataclass(frozen=True, slots=True)
class ReportAudit:
    """The verdict on one written report."""

    folder: Path
    attack: AuditResult
    mismatches: tuple[str, ...] = ()
    stray: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return self.attack.passed and not self.mismatches and not self.stray

    def __str__(self) -> str:
        lines = [f"{self.folder}: {'passed' if self.passed else 'FAILED'}", f"  {self.attack}"]
        lines += [f"  published value not in its file: {m}" for m in self.mismatches]
        lines += [f"  small count outside the ledger: {s}" for s in self.stray]
        return "\n".join(lines)


def rebuild_universes(
    registers: Any, *, municipality: str | None, min_cell: int, needed: set[str]
) -> dict[str, pd.DataFrame]:
    """The units of the report's universes, rebuilt from the registers as the report built them."""
    from evaluation.presentation.curves import MONTH, curve_frame, curve_universe
    from evaluation.report import _analysis_sections as analysis
    from evaluation.report import _sections as sections
    from evaluation.report.build import restrict_to_municipality

    everyone = registers  # the municipal comparison's: every municipality
    if municipality is not None:
        registers = restrict_to_municipality(registers, municipality)
    cohorts = sections.Cohorts.build(registers)
    frames = sections.universe_frames(cohorts)
    inputs = analysis.curve_inputs(cohorts)
    for name, spec in analysis.CURVES.items():
        group = spec["group"]
        for variant in {group} | ({"municipality"} if name == "retention" else set()):
            key = curve_universe(name if variant == group else f"{name}_by_{variant}")
            if key in needed:
                frames[key] = curve_frame(
                    inputs[name],
                    group=variant,
                    duration=spec["duration"],
                    event=spec["event"],
                    step=spec.get("step", MONTH),
                    last=spec["last_step"],
                    prefix=f"{name}:" if variant == group else f"{name}_by_{variant}:",
                )
    if needed & {"effect", "effect_persons"}:
        from evaluation.effects import comparison_cohort, estimate_programme_effect

        design = comparison_cohort(registers, rng=analysis.REPORT_SEED)
        # The effect's universe needs the balance table and the propensity scores, which
        # do not depend on the bootstrap: the fewest replicates the estimator allows.
        effect = estimate_programme_effect(design, n_boot=20, rng=analysis.REPORT_SEED)
        frames.update(analysis.effect_universes(design, effect))
    if needed & {"mortality", curve_universe("death")}:
        from evaluation.report._mortality_section import mortality_design, mortality_universes

        frames.update(mortality_universes(mortality_design(registers).data))
    if "sites_effect" in needed:
        from evaluation.effects import comparison_cohort
        from evaluation.report._sites_section import sites_universes

        # A municipality's report compares every municipality (its sites section read
        # the whole registers); the report of all read the same registers anyway.
        frames.update(sites_universes(comparison_cohort(everyone, rng=analysis.REPORT_SEED)))
    if "sites_entries" in needed:
        from evaluation.report._sites_section import comparison_cohort_of, sites_entries_universe

        frames["sites_entries"] = sites_entries_universe(
            comparison_cohort_of(everyone), registers.persons["person_id"]
        )
    if "design" in needed:
        from evaluation.effects import comparison_cohort
        from evaluation.report._design_section import design_universes

        frames.update(design_universes(comparison_cohort(registers, rng=analysis.REPORT_SEED)))
    return frames


def _read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "disclosure" / "ledger.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"{folder} has no disclosure/ledger.json: it is not a report of this package, "
            "or it was written before reports carried their ledger"
        )
    with open(path, encoding="utf-8") as f:
        manifest: dict[str, Any] = json.load(f)
    return manifest


def _marker(folder: Path) -> dict[str, Any]:
    path = folder / ".evaluation-report.json"
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            data: dict[str, Any] = json.load(f)
            return data
    return {}


def audit_report(
    folder: str | Path,
    registers: Any,
    *,
    municipality: str | None = None,
) -> ReportAudit:
    """Attack a written report with everything it published; see the module docstring.

    Parameters
    ----------
    folder : path
        A report folder written by :func:`~evaluation.report.build_report`.
    registers : Registers or SimulatedRegisters
        The registers the report was written from (the whole registers; a municipality's
        report is restricted as the report restricted them).
    municipality : str, optional
        The report's municipality; read from the report's marker file when not given.

    Returns
    -------
    ReportAudit
        ``.passed`` and, where it failed, what and why.
    """
    from evaluation.presentation.scan import find_disclosures

    folder = Path(folder)
    manifest = _read_manifest(folder)
    marker = _marker(folder)
    if municipality is None:
        municipality = marker.get("municipality")
    if hasattr(registers, "registers") and hasattr(registers, "truth"):
        registers = registers.registers
    min_cell = int(manifest["min_cell"])
    needed = {c["universe"] for c in manifest["cells"]}
    frames = rebuild_universes(
        registers, municipality=municipality, min_cell=min_cell, needed=needed
    )
    ledger = Ledger(min_cell)
    for name in sorted(needed):
        if name not in frames:
            raise ValueError(f"the ledger names a universe {name!r} the audit cannot rebuild")
        ledger.add_universe(name, frames[name])
    for c in manifest["cells"]:
        ledger.cell(c["key"], c["universe"], [tuple(w) for w in c["where"]])
    publications = [_publication(p) for p in manifest["publications"]]
    ledger.record(publications)
    attack = audit(ledger)
    mismatches = tuple(_check_files(folder, publications))
    stray = tuple(
        f"{f.source}: {f.where} = {f.value}" for f in find_disclosures(folder, min_cell=min_cell)
    )
    return ReportAudit(folder=folder, attack=attack, mismatches=mismatches, stray=stray)


def _publication(p: Mapping[str, Any]) -> Publication:
    return Publication(
        cell=p["cell"],
        kind=p["kind"],
        file=p.get("file", ""),
        location=p.get("location", {}),
        value=p.get("value"),
        base=int(p.get("base", 1)),
        denominator=p.get("denominator"),
        decimals=int(p.get("decimals", 2)),
    )


def _check_files(folder: Path, publications: list[Publication]) -> list[str]:
    """Published numbers must be what the report's files print, and withheld ones absent.

    In the figure data (``figures/*.data.csv``) a publication whose location names the
    file's columns (``{"group": ..., "window": ..., "column": "n"}``) is found in its row
    and compared: the exact or rounded count, the share at its decimals, and an empty cell
    where the ledger says the number is withheld. Other exact and rounded counts of the
    figure data must at least be among the file's numbers. Tables and the page print
    formatted numbers (thousands separators, per cent), so for them the file must exist.
    """
    problems = []
    numbers: dict[str, set[float]] = {}
    frames: dict[str, pd.DataFrame] = {}
    for p in publications:
        if not p.file:
            continue
        path = folder / p.file
        if not path.exists():
            if p.kind != "hidden":
                problems.append(f"{p.cell} in {p.file}: the file is missing")
            continue
        if not p.file.endswith(".data.csv"):
            continue
        if p.file not in frames:
            frames[p.file] = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
        cell = _located(frames[p.file], p.location)
        if cell is not None:
            shown = _number(cell)
            if p.kind == "hidden":
                if shown is not None:
                    problems.append(f"{p.cell} is withheld but {p.file} prints {cell}")
            elif p.value is not None and (
                shown is None or abs(shown - float(p.value)) > 1e-9 * max(1.0, abs(shown))
            ):
                problems.append(f"{p.cell} = {p.value:g}, but {p.file} prints {cell!r}")
            continue
        if p.kind not in ("exact", "rounded") or p.value is None:
            continue
        if p.file not in numbers:
            numbers[p.file] = _numbers_in_csv(path)
        if float(p.value) not in numbers[p.file]:
            problems.append(f"{p.cell} = {p.value:g} in {p.file}")
    return problems


def _located(frame: pd.DataFrame, location: Mapping[str, Any]) -> str | None:
    """The text of the one cell ``location`` names in ``frame``, or None."""
    column = location.get("column")
    keys = {k: v for k, v in location.items() if k != "column"}
    if column not in frame.columns or not keys or any(k not in frame.columns for k in keys):
        return None
    rows = np.ones(len(frame), dtype=bool)
    for k, v in keys.items():
        rows &= frame[k].to_numpy() == str(v)  # as the CSV writer wrote it
    if rows.sum() != 1:
        return None
    return str(frame.loc[rows, column].iloc[0])


def _number(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) else None


def _numbers_in_csv(path: Path) -> set[float]:
    text = path.read_text(encoding="utf-8-sig")
    out: set[float] = set()
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            try:
                x = float(cell)
            except ValueError:
                continue
            if math.isfinite(x):
                out.add(x)
    return out
