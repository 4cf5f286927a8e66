"""Privacy mechanisms for sharing group aggregates (docs/clinical-rules.md §5).

Three tools, used together by ``ldn_diary.clinical.aggregates``:

- the **Laplace mechanism**, from diffprivlib rather than a sampler of our own: noise of scale
  b = Δ / ε on every count, then rounding and clamping to a non-negative integer (post-processing,
  which costs no privacy);
- **small-cell suppression** after the US CMS cell-size rule: a count of 1 to 10 is shown as
  "<11" (fewer than 11); 0 may be shown. It is decided on the noisy count, the only one that
  exists outside this function;
- **complementary suppression**: where a table shows a total, a suppressed part could be worked
  out by subtraction, so more cells are hidden until an integer program (``feasible_range``)
  confirms that no hidden cell can be pinned to one value from what is shown.

Nothing here imports Django; the maths is tested on its own (tests/clinical/test_privacy.py).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

# The CMS cell-size rule: no cell counting 1 to 10 people is published (docs/clinical-rules.md §5).
SMALL_CELL_MIN = 1
SMALL_CELL_MAX = 10
SMALL_MARK = "<11"
# An upper bound for a withheld cell in the integer program: far above any group's size.
_UNBOUNDED = 10**7
# The margin printed beside a table: |Laplace(b)| exceeds t with probability exp(-t / b), so 95 %
# of the noise lies within b * ln(20), about 3 b.
MARGIN_LEVEL = 0.95

LIBRARY = "diffprivlib"

RandomState = np.random.RandomState | int | None


class Cell(StrEnum):
    """How a count is published."""

    SHOWN = "shown"  # the number itself
    SMALL = (
        "small"  # "<11": its published value is 0 to 10 (1 to 10, or a 0 hidden as a complement)
    )
    WITHHELD = "withheld"  # not shown at all: a complement of 11 or more (never a count of 1 to 10)


@dataclass(frozen=True)
class Sum:
    """A relation the published numbers obey exactly: ``total`` = the sum of ``parts``."""

    total: str
    parts: tuple[str, ...]


def library_version() -> str:
    from importlib.metadata import version

    return f"{LIBRARY} {version(LIBRARY)}"


def noise_scale(*, sensitivity: float, epsilon: float) -> float:
    """b = Δ / ε, the scale of the Laplace noise for a query of sensitivity Δ and budget ε."""
    if epsilon <= 0 or sensitivity <= 0:
        raise ValueError("epsilon and sensitivity must be positive")
    return sensitivity / epsilon


def margin(scale: float, level: float = MARGIN_LEVEL) -> float:
    """The t that Laplace noise of this scale stays within with probability ``level``."""
    return scale * math.log(1 / (1 - level))


def laplace_mechanism(*, epsilon: float, sensitivity: float, random_state: RandomState) -> Any:
    """diffprivlib's Laplace mechanism (its ``epsilon`` and ``sensitivity`` are readable).

    ``random_state`` None draws from the operating system's secure generator (diffprivlib's
    default); tests pass a seed or a ``RandomState`` to get reproducible draws.
    """
    # Imported here: diffprivlib loads scikit-learn, pandas and scipy.stats (about 1.4 s), which
    # every process that loads the app's URLs would pay; only a release draws noise.
    from diffprivlib.mechanisms import Laplace

    return Laplace(epsilon=epsilon, sensitivity=sensitivity, random_state=random_state)


def noisy_counts(
    counts: Sequence[int], *, epsilon: float, sensitivity: float, random_state: RandomState
) -> list[int]:
    """Each count plus Laplace noise of scale sensitivity / epsilon, rounded, at least 0.

    One mechanism for the whole query: ``sensitivity`` must bound how much all of these counts
    together (in L1) can change when one member is added or removed.
    """
    mechanism = laplace_mechanism(
        epsilon=epsilon, sensitivity=sensitivity, random_state=random_state
    )
    return [max(0, math.floor(float(mechanism.randomise(float(c))) + 0.5)) for c in counts]


def split_epsilon(epsilon: float, weights: Mapping[str, float]) -> dict[str, float]:
    """Share a release's ε among its queries in proportion to ``weights`` (sequential
    composition: the shares add up to ε)."""
    total = sum(weights.values())
    return {name: epsilon * weight / total for name, weight in weights.items()}


# --------------------------------------------------------------------------------------------------
# Suppression


def primary(value: int) -> Cell:
    return Cell.SMALL if SMALL_CELL_MIN <= value <= SMALL_CELL_MAX else Cell.SHOWN


def suppress(values: Mapping[str, int], sums: Sequence[Sum] = ()) -> dict[str, Cell]:
    """How each count is published: small cells hidden, then complements until none can be
    worked out.

    A complement is taken from a relation that still exposes a hidden cell. Against plain
    subtraction (the only hidden cell of a relation) a shown 0 is hidden first, published as
    "<11", which is true of 0; when the integer program still pins a hidden cell (a 1 beside
    zeros, say), the smallest shown non-zero part is withheld instead. The total is hidden only
    when every part is hidden already.
    """
    cells = {key: primary(value) for key, value in values.items()}
    for _ in range(len(values) + 1):
        target = _single_hidden(sums, cells)
        prefer_zero = target is not None
        target = target or _first_exposed(values, sums, cells)
        if target is None:
            return cells
        if not _hide_complement(values, sums, cells, target, prefer_zero=prefer_zero):
            raise RuntimeError(f"no complement left to protect {target}")  # pragma: no cover
    raise RuntimeError("complementary suppression did not settle")  # pragma: no cover


def _hidden(cell: Cell) -> bool:
    return cell is not Cell.SHOWN


def _single_hidden(sums: Sequence[Sum], cells: Mapping[str, Cell]) -> str | None:
    """A hidden cell that is the only hidden one in some relation (subtraction gives it)."""
    for rel in sums:
        members = (rel.total, *rel.parts)
        hidden = [key for key in members if _hidden(cells[key])]
        if len(hidden) == 1:
            return hidden[0]
    return None


def _first_exposed(
    values: Mapping[str, int], sums: Sequence[Sum], cells: Mapping[str, Cell]
) -> str | None:
    exposed = exposed_cells(values, sums, cells)
    return exposed[0] if exposed else None


def _hide_complement(
    values: Mapping[str, int],
    sums: Sequence[Sum],
    cells: dict[str, Cell],
    target: str,
    *,
    prefer_zero: bool,
) -> bool:
    for rel in sums:
        if target not in (rel.total, *rel.parts):
            continue
        shown_parts = [key for key in rel.parts if not _hidden(cells[key])]
        candidates = shown_parts or ([rel.total] if not _hidden(cells[rel.total]) else [])
        if not candidates:
            continue
        nonzero = [key for key in candidates if values[key] > 0]
        if not prefer_zero and nonzero:
            candidates = nonzero
        choice = min(candidates, key=lambda key: (values[key], key))
        cells[choice] = Cell.SMALL if values[choice] <= SMALL_CELL_MAX else Cell.WITHHELD
        return True
    return False


def feasible_range(
    values: Mapping[str, int], sums: Sequence[Sum], cells: Mapping[str, Cell], key: str
) -> tuple[int, int]:
    """The least and greatest whole value hidden cell ``key`` can take, given what is shown.

    What a reader is assumed to know, erring on their side: shown cells exactly, every relation
    in ``sums``, a small count under "<11" in 1..10 (a 0 hidden as a complement in 0..10), and
    a withheld cell at least 11. An integer program (HiGHS, through scipy) finds the range.
    """
    hidden = [k for k in values if _hidden(cells[k])]
    index = {k: i for i, k in enumerate(hidden)}
    lower = np.array(
        [
            min(values[k], SMALL_CELL_MIN) if cells[k] is Cell.SMALL else SMALL_CELL_MAX + 1
            for k in hidden
        ]
    )
    upper = np.array([SMALL_CELL_MAX if cells[k] is Cell.SMALL else _UNBOUNDED for k in hidden])
    rows: list[list[float]] = []
    rhs: list[float] = []
    for rel in sums:
        row = [0.0] * len(hidden)
        constant = 0.0
        for sign, member in ((1.0, rel.total), *((-1.0, part) for part in rel.parts)):
            if member in index:
                row[index[member]] += sign
            else:
                constant += sign * values[member]
        if any(row):
            rows.append(row)
            rhs.append(-constant)
    if not rows or not any(row[index[key]] for row in rows):
        return int(lower[index[key]]), int(upper[index[key]])
    # Imported here, like scipy.stats in stats.py: only a release's audit needs the solver.
    from scipy.optimize import Bounds, LinearConstraint, milp

    matrix = np.array(rows)
    target = np.zeros(len(hidden))
    target[index[key]] = 1.0
    ends = []
    for direction in (1.0, -1.0):
        result = milp(
            direction * target,
            integrality=np.ones(len(hidden), dtype=np.int64),
            bounds=Bounds(lower, upper),
            constraints=LinearConstraint(matrix, np.array(rhs), np.array(rhs)),
        )
        if result.status != 0 or result.x is None:
            raise RuntimeError(f"the published table is inconsistent at {key}")
        ends.append(round(float(result.x[index[key]])))
    return ends[0], ends[1]


def exposed_cells(
    values: Mapping[str, int], sums: Sequence[Sum], cells: Mapping[str, Cell]
) -> list[str]:
    """Hidden cells whose value a reader could work out exactly (empty when the table is safe)."""
    in_a_sum = {key for rel in sums for key in (rel.total, *rel.parts)}
    out = []
    for key in values:
        if _hidden(cells[key]) and key in in_a_sum:
            low, high = feasible_range(values, sums, cells, key)
            if low == high:
                out.append(key)
    return out
