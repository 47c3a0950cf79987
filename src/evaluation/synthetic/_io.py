"""Writing simulated registers and their truth to a folder, byte-reproducibly."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from evaluation.synthetic._simulate import SimulatedRegisters


def _clean(value: Any) -> Any:
    """JSON-ready copy: floats rounded to 6 decimals, NaN as None, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    return value


def truth_json(sim: SimulatedRegisters) -> str:
    """The truth as JSON text: sorted keys, rounded floats, one trailing newline."""
    return json.dumps(_clean(sim.truth), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_synthetic(sim: SimulatedRegisters, path: str | Path, format: str = "csv") -> Path:  # noqa: A002
    """Write the registers (five tables and ``meta.json``) and ``truth.json`` into ``path``.

    Parameters
    ----------
    sim
        The result of `simulate_registers`.
    path
        The folder; created if needed.
    format
        ``"csv"`` or ``"parquet"`` for the five tables (see `Registers.write`).

    Returns
    -------
    Path
        The folder.

    Examples
    --------
    >>> import tempfile
    >>> from evaluation.synthetic import SimulationConfig, simulate_registers
    >>> sim = simulate_registers(
    ...     SimulationConfig(n_persons=100, bra_monte_carlo_persons=100), rng=3
    ... )
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     names = sorted(p.name for p in write_synthetic(sim, folder).iterdir())
    >>> names[-2:]
    ['programme.csv', 'truth.json']
    """
    folder = sim.registers.write(path, format=format)
    (folder / "truth.json").write_text(truth_json(sim), encoding="utf-8")
    return folder


def load_truth(path: str | Path | None = None) -> dict[str, Any]:
    """Read ``truth.json``: by default the one beside the default synthetic registers.

    Parameters
    ----------
    path
        A folder holding ``truth.json`` (as `write_synthetic` writes it) or the file
        itself; None for ``data/synthetic/`` of the repository (what `load_synthetic`
        reads).

    Returns
    -------
    dict
        The truth; see the `evaluation.synthetic` module docstring for each entry.

    Examples
    --------
    >>> truth = load_truth()
    >>> truth["parameters"]["n_persons"]
    6000
    """
    if path is None:
        from evaluation.registers import synthetic_dir

        path = synthetic_dir()
    file = Path(path)
    if file.is_dir():
        file = file / "truth.json"
    if not file.is_file():
        raise FileNotFoundError(
            f"there is no truth.json at {file}; write one with write_synthetic, or run "
            "`make data` in the repository for the default synthetic registers"
        )
    result: dict[str, Any] = json.loads(file.read_text(encoding="utf-8"))
    return result
