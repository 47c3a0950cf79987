"""The results folder of a study: one Parquet file per replication, written atomically.

The folder is a Parquet dataset (``pandas.read_parquet(folder)`` reads it): each finished
replication is written as ``rep-000017.parquet`` by writing a hidden temporary file and
renaming it, so a file is either complete or absent, and a study stopped at any moment
loses only the replications that were running. ``_study.json`` records the design's name,
parameters and seed; a restart with another of them is refused rather than mixed in.
(Files whose names start with ``_`` or ``.`` are not part of the dataset.)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from evaluation._errors import StudyError

__all__ = ["StudyStore"]

_NAME = re.compile(r"^rep-(\d{6,})\.parquet$")


def _json(value: Any) -> Any:
    """Plain JSON of the parameters (tuples as lists, anything else as its text)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


class StudyStore:
    """A study's results folder (see the module docstring)."""

    def __init__(self, folder: Path, identity: Mapping[str, Any]) -> None:
        self.folder = folder
        self.identity = _json(dict(identity))
        folder.mkdir(parents=True, exist_ok=True)
        head = folder / "_study.json"
        if head.exists():
            written = json.loads(head.read_text(encoding="utf-8"))
            if written != self.identity:
                differ = sorted(
                    k
                    for k in set(written) | set(self.identity)
                    if written.get(k) != self.identity.get(k)
                )
                changes = "; ".join(
                    f"{k}: written {written.get(k)!r}, asked {self.identity.get(k)!r}"
                    for k in differ
                )
                raise StudyError(
                    f"the results folder {folder} holds another study ({changes}); "
                    "use another folder"
                )
        else:
            self._atomic(head, (json.dumps(self.identity, indent=2, sort_keys=True) + "\n"))

    def done(self) -> set[int]:
        """The indices of the replications already written."""
        found = set()
        for entry in os.scandir(self.folder):
            m = _NAME.match(entry.name)
            if m:
                found.add(int(m.group(1)))
        return found

    def file(self, index: int) -> Path:
        return self.folder / f"rep-{index:06d}.parquet"

    def write(self, index: int, frame: pd.DataFrame) -> None:
        """Write one replication's rows (temporary file, then an atomic rename)."""
        tmp = self.folder / f".rep-{index:06d}.parquet.tmp-{os.getpid()}"
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, self.file(index))

    def read(self, index: int) -> pd.DataFrame:
        return pd.read_parquet(self.file(index))

    def _atomic(self, path: Path, text: str) -> None:
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
