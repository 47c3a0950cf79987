"""The flow diagram's arrows meet the boxes they join (checked on the artists, not pixels)."""

from __future__ import annotations

import pandas as pd

from evaluation.presentation.graphics.cohort import flow_diagram
from evaluation.presentation.theme import theme


def _flow() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stage": ["persons"] * 3 + ["window"],
            "window": [pd.NA, pd.NA, pd.NA, "1y"],
            "reason": [
                "persons in registers",
                "excluded: no entry event",
                "included",
                "measured",
            ],
            "n_persons": [100, 30, 70, 60],
            "n_entries": [pd.NA, pd.NA, 80, 75],
        }
    )


def test_flow_diagram_arrows_join_the_boxes_they_connect() -> None:
    # Arrows run between box centres and are cut at the box edges (patchA/patchB), so they
    # meet the boxes whatever the height of the text; the one from the trunk ends at the box.
    with theme("en"):
        ax = flow_diagram(_flow(), min_cell=5)
    boxes = [t for t in ax.texts if t.get_text()]
    by_first_line = {t.get_text().splitlines()[0]: t.get_bbox_patch() for t in boxes}
    arrows = [t.arrow_patch for t in ax.texts if not t.get_text()]
    assert len(boxes) == 4 and len(arrows) == 3
    top, included = by_first_line["Persons in the registers"], by_first_line["Included"]
    excluded = next(p for k, p in by_first_line.items() if k.startswith("No entry event"))
    window = boxes[-1].get_bbox_patch()
    assert [(a.patchA, a.patchB) for a in arrows] == [
        (top, included),
        (None, excluded),
        (included, window),
    ]
