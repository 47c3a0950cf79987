"""Graphics: the package's figures, each drawn from a tidy frame on the given Axes.

``survival`` (survival and cumulative incidence curves with risk tables), ``competing``
(cumulative incidence by cause), ``forest`` (ratios with intervals), ``effects`` (propensity
overlap, love plot, adjusted curves) and ``cohort`` (flow diagram, Brå milestone and window
bars). The estimators' ``plot()`` methods delegate here lazily, so that fitting a model never
loads matplotlib.
"""
