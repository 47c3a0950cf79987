"""The default synthetic registers committed with the repository (``data/synthetic/``)."""

from __future__ import annotations

from pathlib import Path

from evaluation.registers._model import Registers


def _synthetic_dir() -> Path:
    """``data/synthetic`` of the repository holding this source tree (src layout)."""
    # registers/ -> evaluation/ -> src/ -> the repository
    return Path(__file__).resolve().parents[3] / "data" / "synthetic"


def synthetic_dir() -> Path:
    """The folder of the default synthetic registers (``data/synthetic`` of the repository).

    Examples
    --------
    >>> synthetic_dir().parts[-2:]
    ('data', 'synthetic')
    """
    return _synthetic_dir()


def load_synthetic() -> Registers:
    """Read and validate the default synthetic registers of the repository.

    They are the registers that ``make data`` writes into ``data/synthetic/`` (a few
    thousand persons, with a known truth in ``truth.json`` beside them). They are synthetic:
    no real person is in them.

    Returns
    -------
    Registers

    Raises
    ------
    FileNotFoundError
        When ``data/synthetic/`` does not exist (for example in an installed copy without
        the repository): run ``make data`` in the repository to write it.
    RegisterError
        When the files there are not valid registers.

    Examples
    --------
    The folder it reads:

    >>> _synthetic_dir().parts[-2:]
    ('data', 'synthetic')
    """
    folder = _synthetic_dir()
    if not (folder / "meta.json").is_file():
        raise FileNotFoundError(
            f"the default synthetic registers are not in {folder}; run `make data` in the "
            "repository to write them, or read your own folder with Registers.read(path)"
        )
    return Registers.read(folder)
