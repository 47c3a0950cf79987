"""survival subpackage."""

from evaluation.survival.competing import CumulativeIncidence, cumulative_incidence
