"""Write tests/reference/data/weighted_input.csv for weighted_survival.R.

The default synthetic registers' sequential-trial cohort (seed 1) with ATT weights from the
default propensity model (``formula_with_affiliation``: gang affiliation included, as
``estimate_programme_effect`` does by default): the exact data the effect estimator
analyses, so the R reference checks the weighted curves and the weighted cluster-robust
Cox model on it.
Run: .venv/bin/python tests/reference/effects/weighted_data.py
"""

from pathlib import Path

from evaluation import load_synthetic
from evaluation.effects import comparison_cohort, formula_with_affiliation, propensity_weights


def main() -> None:
    cohort = comparison_cohort(load_synthetic(), rng=1)
    data = cohort.data
    ps = propensity_weights(data, formula_with_affiliation(data), treatment="treated")
    out = data[["person_id", "trial", "treated", "duration_days", "event"]].assign(
        weight=ps.weights.to_numpy()
    )
    out.to_csv(
        Path(__file__).parents[1] / "data" / "weighted_input.csv", index=False, float_format="%.17g"
    )


if __name__ == "__main__":
    main()
