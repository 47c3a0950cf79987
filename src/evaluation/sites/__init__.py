"""Municipal comparison: case mix, funnel plots, shrinkage and ranks, meta-analysis.

Does a municipality do better or worse than expected, given whom it takes in
(:func:`case_mix`, :func:`funnel`, :func:`shrinkage`)? Does the programme's effect differ
between municipalities (:func:`effect_by_site`, :func:`meta_analysis`)? The layer sits
above the effect estimators (ARCHITECTURE.md, "Layers").
"""

from evaluation.sites.by_site import SiteEffects, effect_by_site
from evaluation.sites.case_mix import CASE_MIX_COVARIATES, CaseMixResult, case_mix
from evaluation.sites.funnel import FunnelResult, funnel
from evaluation.sites.meta import MetaAnalysisResult, meta_analysis
from evaluation.sites.shrinkage import ShrinkageResult, shrinkage

__all__ = [
    "CASE_MIX_COVARIATES",
    "CaseMixResult",
    "FunnelResult",
    "MetaAnalysisResult",
    "ShrinkageResult",
    "SiteEffects",
    "case_mix",
    "effect_by_site",
    "funnel",
    "meta_analysis",
    "shrinkage",
]
