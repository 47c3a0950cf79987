"""survival subpackage."""

from evaluation.survival.competing import CumulativeIncidence, cumulative_incidence
from evaluation.survival.gray import GrayTestResult, gray_test
