"""Relapse definitions: what starts the clock, how long we look, and what counts as relapse.

Four presets reproduce the published measures (ARCHITECTURE.md, "Definitions"):

``bra-final``
    Brå's final recidivism statistics (*Återfall i brott*, slutlig statistik): entry at a
    release from custody or at a decision without custody, windows of 1, 2 and 3 years, any
    new lagföring for an offence committed in the window, read after a 3-year buffer for
    court processing. One entry event per person and year, chosen at random.
``bra-preliminary``
    Brå's preliminary statistics: a 1-year window read after a 1-year buffer.
``prison-service``
    Kriminalvården's own measure: entry at a release from prison or at the start of
    probation only (no fines, waivers or youth care), relapse a new prison or probation
    sanction for an offence within 3 years, 3-year buffer (Kriminalvården, *Återfall i
    brott*; Brå, *Återfall i brott. Beskrivning av statistiken*, on how the two measures
    differ).
``uk-proven``
    The UK Ministry of Justice "proven reoffending" measure: any offence within 12 months
    proven by a court decision or caution within a further 6 months; every entry event
    is followed (the UK takes one per cohort quarter; we take all). The age of criminal
    responsibility in England and Wales is 10.

The window and buffer arithmetic of every definition is :mod:`evaluation._counting`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from evaluation._errors import DefinitionError
from evaluation.registers import SANCTIONS

__all__ = ["ENTRY_KINDS", "PRESETS", "RelapseDefinition", "resolve_definition"]

EntryKind = Literal["release", "decision", "programme_start"]
ENTRY_KINDS: tuple[str, ...] = ("release", "decision", "programme_start")
_COUNTS = ("all", "prison_probation")
_CUSTODY = ("ignore", "censor", "subtract")
_SELECTION = ("random-per-year", "all")


@dataclass(frozen=True, slots=True, kw_only=True)
class RelapseDefinition:
    """A relapse measure: entry events, windows, buffer, what counts, follow-up handling.

    Parameters
    ----------
    name
        A short name shown in tables and footnotes.
    entry_events
        Which events start the clock: ``"release"`` (end of a prison or youth-care
        custody period), ``"decision"`` (a lagföring without a custodial sanction) and
        ``"programme_start"``. ``relapse_cohort(population="programme")`` uses programme
        starts whatever this says.
    windows_years
        Follow-up windows in years (calendar years from the entry date).
    buffer_years
        Time after the end of a window within which the decision must have been made.
        A window whose end plus buffer passes ``study_end`` cannot be measured: its flag is
        missing and the entry is counted in the flow for that window.
    counts
        ``"all"``: any new lagföring; ``"prison_probation"``: only offences sanctioned with
        prison or probation.
    custody
        What custody and exits (death, emigration) during follow-up do to the window
        measures: ``"ignore"`` (Brå: the person stays in the denominator), ``"censor"``
        (a window not observed in full because custody, death or emigration ended
        follow-up, without a relapse before that, is missing) or ``"subtract"``
        (windows are measured in days at liberty, so time in custody extends them).
    selection
        ``"random-per-year"`` (Brå: one entry event per person and calendar year, chosen at
        random with the cohort's ``rng``) or ``"all"``.
    custody_at_entry
        ``"release"`` (Brå: an entry event that falls inside a custody period, such as a
        fine decided while serving a prison term, starts the clock at the end of that
        custody) or ``"keep"`` (the clock starts at the event date regardless).
    lookback_years
        Years of register history needed before an entry (for prior decisions); earlier
        entries are excluded with a reason in the flow.
    entry_sanctions
        The sanctions whose lagföringar are entry events (a decision with any of them)
        and whose custody kinds give releases (``prison``, ``youth_care``). Brå takes every
        sanction; Kriminalvården ``("prison", "probation")``: a release from prison or the
        start of probation.
    min_age
        The age of criminal responsibility the measure assumes (Sweden 15, England and
        Wales 10). A cohort refuses registers with offences committed before this age,
        since nobody can be lagförd for them; a lower age (``uk-proven``) accepts registers
        that hold them (validated with ``Registers.validate(min_age=10)``) and puts ages
        from it to 14 in an age group of their own.
    source
        The publication the definition follows.

    Examples
    --------
    >>> d = RelapseDefinition.preset("bra-preliminary")
    >>> d.windows_years, d.buffer_years
    ((1.0,), 1.0)
    >>> d.window_labels
    ('1y',)
    """

    name: str
    entry_events: tuple[str, ...] = ("release", "decision")
    windows_years: tuple[float, ...] = (1.0, 2.0, 3.0)
    buffer_years: float = 3.0
    counts: str = "all"
    custody: str = "ignore"
    selection: str = "random-per-year"
    custody_at_entry: str = "release"
    lookback_years: float = 5.0
    entry_sanctions: tuple[str, ...] = SANCTIONS
    min_age: int = 15
    source: str = ""

    def __post_init__(self) -> None:
        bad = [e for e in self.entry_events if e not in ENTRY_KINDS]
        if bad or not self.entry_events:
            raise DefinitionError(
                f"entry_events must be a non-empty subset of {', '.join(ENTRY_KINDS)}; got {bad}"
            )
        windows = tuple(float(w) for w in self.windows_years)
        if not windows or any(w <= 0 for w in windows) or list(windows) != sorted(windows):
            raise DefinitionError(f"windows_years must be positive and increasing: {windows}")
        if any(round(w * 12) != w * 12 for w in windows):
            raise DefinitionError(f"windows_years must be whole months: {windows}")
        object.__setattr__(self, "windows_years", windows)
        object.__setattr__(self, "entry_events", tuple(self.entry_events))
        sanctions = tuple(self.entry_sanctions)
        bad = [s for s in sanctions if s not in SANCTIONS]
        if bad or not sanctions:
            raise DefinitionError(
                f"entry_sanctions must be a non-empty subset of {', '.join(SANCTIONS)}; got {bad}"
            )
        object.__setattr__(self, "entry_sanctions", sanctions)
        if isinstance(self.min_age, bool) or not isinstance(self.min_age, int | float):
            raise DefinitionError(f"min_age must be a whole number of years: {self.min_age!r}")
        if self.min_age != int(self.min_age) or self.min_age < 0:
            raise DefinitionError(f"min_age must be a whole number of years >= 0: {self.min_age!r}")
        object.__setattr__(self, "min_age", int(self.min_age))
        for field_name, allowed in (
            ("counts", _COUNTS),
            ("custody", _CUSTODY),
            ("selection", _SELECTION),
            ("custody_at_entry", ("release", "keep")),
        ):
            value = getattr(self, field_name)
            if value not in allowed:
                raise DefinitionError(
                    f"{field_name} must be one of {', '.join(allowed)}: {value!r}"
                )
        for field_name in ("buffer_years", "lookback_years"):
            value = float(getattr(self, field_name))
            if value < 0 or round(value * 12) != value * 12:
                raise DefinitionError(f"{field_name} must be whole months >= 0: {value}")
            object.__setattr__(self, field_name, value)

    @property
    def window_labels(self) -> tuple[str, ...]:
        """Column suffixes per window: ``1y``, ``2y``, ``6m`` for half a year."""
        return tuple(_window_label(w) for w in self.windows_years)

    @classmethod
    def preset(cls, name: str) -> RelapseDefinition:
        """Return a preset by name: bra-final, bra-preliminary, prison-service, uk-proven."""
        try:
            return PRESETS[name]
        except KeyError:
            raise DefinitionError(
                f"unknown relapse definition {name!r}; presets are {', '.join(PRESETS)}"
            ) from None

    def with_(self, **changes: object) -> RelapseDefinition:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _window_label(years: float) -> str:
    months = round(years * 12)
    return f"{months // 12}y" if months % 12 == 0 else f"{months}m"


PRESETS: dict[str, RelapseDefinition] = {
    "bra-final": RelapseDefinition(
        name="bra-final",
        windows_years=(1, 2, 3),
        buffer_years=3,
        source="Brå, Återfall i brott: slutlig statistik (3 års uppföljning, 3 års buffert)",
    ),
    "bra-preliminary": RelapseDefinition(
        name="bra-preliminary",
        windows_years=(1,),
        buffer_years=1,
        source="Brå, Återfall i brott: preliminär statistik (1 års uppföljning, 1 års buffert)",
    ),
    "prison-service": RelapseDefinition(
        name="prison-service",
        windows_years=(3,),
        buffer_years=3,
        counts="prison_probation",
        entry_sanctions=("prison", "probation"),
        source=(
            "Kriminalvården, återfall: frigivning från fängelse eller påbörjad frivård, "
            "ny påföljd fängelse eller frivård inom 3 år"
        ),
    ),
    "uk-proven": RelapseDefinition(
        name="uk-proven",
        windows_years=(1,),
        buffer_years=0.5,
        selection="all",
        min_age=10,
        source="Ministry of Justice, Proven reoffending statistics (12 months, 6-month buffer)",
    ),
}


def resolve_definition(definition: str | RelapseDefinition) -> RelapseDefinition:
    """A definition object from a preset name or an object."""
    if isinstance(definition, RelapseDefinition):
        return definition
    if isinstance(definition, str):
        return RelapseDefinition.preset(definition)
    raise DefinitionError(
        f"definition must be a preset name or a RelapseDefinition, not {type(definition).__name__}"
    )
