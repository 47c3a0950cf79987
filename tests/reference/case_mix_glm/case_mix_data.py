"""Write ``case_mix.csv`` beside this file: the programme-start relapse cohort (Brå
preliminary rules) of the default synthetic registers, with the case-mix covariates.

Run from the repository root:
``PYTHONPATH=src python tests/reference/case_mix_glm/case_mix_data.py``.
The R script ``case_mix_glm.R`` and the Python test both read the written CSV.
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).parent / "case_mix.csv"
COLUMNS = [
    "person_id", "municipality", "relapse_1y", "duration_days", "event", "sex", "age",
    "prior_decisions_5y", "prior_custody_5y", "prior_violence_5y", "entry_year",
]  # fmt: skip


def main() -> None:
    from evaluation import load_synthetic, relapse_cohort

    cohort = relapse_cohort(load_synthetic(), definition="bra-preliminary", population="programme")
    d = cohort.data[COLUMNS].copy()
    d["relapse_1y"] = d["relapse_1y"].map({True: 1, False: 0}).astype("Int64")
    d["prior_custody_5y"] = d["prior_custody_5y"].map({True: "TRUE", False: "FALSE"})
    d.to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
