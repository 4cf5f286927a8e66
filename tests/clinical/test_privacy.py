"""The privacy mechanisms of group releases (ldn_diary.clinical.privacy), on their own.

The Laplace noise comes from diffprivlib: its parameters are read off the mechanism and its
spread is measured over many seeded draws. Suppression is checked against a brute-force oracle
that lists every table a reader could believe in, independent of the integer program the code
uses.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ldn_diary.clinical import privacy
from ldn_diary.clinical.privacy import Cell, Sum


@pytest.mark.parametrize(("sensitivity", "epsilon"), [(1, 1), (1, 0.25), (3, 0.3), (12, 0.6)])
def test_the_mechanism_is_diffprivlibs_laplace_with_scale_sensitivity_over_epsilon(
    sensitivity, epsilon
):
    from diffprivlib.mechanisms import Laplace

    mechanism = privacy.laplace_mechanism(epsilon=epsilon, sensitivity=sensitivity, random_state=1)
    assert isinstance(mechanism, Laplace)
    assert mechanism.epsilon == epsilon and mechanism.sensitivity == sensitivity
    assert mechanism.delta == 0
    scale = privacy.noise_scale(sensitivity=sensitivity, epsilon=epsilon)
    assert scale == pytest.approx(sensitivity / epsilon)
    # The library's own variance is that of Laplace(b): 2 b^2.
    assert mechanism.variance(0) == pytest.approx(2 * scale**2)


@pytest.mark.parametrize(("sensitivity", "epsilon"), [(1, 0.25), (3, 1.2)])
def test_20000_seeded_draws_spread_like_laplace_of_that_scale(sensitivity, epsilon):
    """For Laplace(b) the mean absolute deviation is b, and P(|X| > t) = exp(-t / b)."""
    scale = sensitivity / epsilon
    mechanism = privacy.laplace_mechanism(
        epsilon=epsilon, sensitivity=sensitivity, random_state=np.random.RandomState(2026)
    )
    noise = np.array([mechanism.randomise(0.0) for _ in range(20_000)])
    assert abs(noise.mean()) < 0.05 * scale
    assert np.abs(noise).mean() == pytest.approx(scale, rel=0.03)
    beyond = (np.abs(noise) > privacy.margin(scale)).mean()
    assert beyond == pytest.approx(0.05, abs=0.006)


def test_a_seed_gives_the_same_draws_and_no_seed_gives_fresh_ones():
    def draws(state):
        return privacy.noisy_counts([10] * 50, epsilon=1, sensitivity=1, random_state=state)

    assert draws(7) == draws(7)
    assert draws(None) != draws(None)


def test_noisy_counts_are_rounded_and_never_negative():
    counts = privacy.noisy_counts([0] * 500, epsilon=0.5, sensitivity=1, random_state=3)
    assert all(isinstance(c, int) and c >= 0 for c in counts)
    assert 0 in counts and max(counts) > 0


def test_epsilon_shares_add_up_to_the_release():
    shares = privacy.split_epsilon(1.0, {"a": 2, "b": 1, "c": 1})
    assert shares == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.25})
    assert math.fsum(shares.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("value", "cell"),
    [(0, Cell.SHOWN), (1, Cell.SMALL), (10, Cell.SMALL), (11, Cell.SHOWN), (250, Cell.SHOWN)],
)
def test_primary_suppression_follows_the_cms_rule(value, cell):
    assert privacy.primary(value) is cell
    assert privacy.suppress({"x": value})["x"] is cell


# --- A brute-force oracle for "can a hidden cell be worked out?" -------------------------------


def reader_ranges(
    values: Mapping[str, int], sums: Sequence[Sum], cells: Mapping[str, Cell], cap: int
) -> dict[str, set[int]]:
    """Every value each hidden cell takes in some table consistent with what is published.

    A reader knows: shown cells; "<11" means 1..10 (or 0..10 for a hidden 0: we grant the reader
    the harder case of knowing which was which only for the cells that really are 1..10);
    withheld means 11 or more (up to ``cap``); and every relation. Enumerated, not solved: with
    one relation, by the exact set of sums the other cells can reach (the same tables as listing
    every combination, without listing 112^4 of them); with several, combination by combination.
    """
    options: dict[str, range] = {}
    for key in values:
        if cells[key] is Cell.SMALL:
            options[key] = range(1 if values[key] >= 1 else 0, 11)
        elif cells[key] is Cell.WITHHELD:
            options[key] = range(11, cap + 1)
    if len(sums) == 1:
        return _one_relation_ranges(values, sums[0], options)
    hidden = list(options)
    seen: dict[str, set[int]] = {k: set() for k in hidden}
    for combo in itertools.product(*(options[k] for k in hidden)):
        table = dict(values) | dict(zip(hidden, combo, strict=True))
        if all(table[r.total] == sum(table[p] for p in r.parts) for r in sums):
            for key, value in zip(hidden, combo, strict=True):
                seen[key].add(value)
    return seen


def _one_relation_ranges(
    values: Mapping[str, int], relation: Sum, options: Mapping[str, range]
) -> dict[str, set[int]]:
    """total - sum(parts) = 0 with each hidden cell in its range: a hidden cell can be v exactly
    when the other cells, each in its own range (or at its shown value), reach the rest."""
    sign = {relation.total: 1} | dict.fromkeys(relation.parts, -1)

    def reachable(cells: list[str]) -> set[int]:
        sums = {0}
        for key in cells:
            choices = options.get(key, (values[key],))
            sums = {s + sign[key] * c for s in sums for c in choices}
        return sums

    seen: dict[str, set[int]] = {}
    for key, choices in options.items():
        if key not in sign:
            seen[key] = set(choices)  # in no relation: anything in its range fits
            continue
        rest = reachable([k for k in sign if k != key])
        seen[key] = {v for v in choices if -sign[key] * v in rest}
    return seen


def interval_ranges(values, total: str, parts, cells, cap) -> dict[str, tuple[int, int]]:
    """The same question for one relation total = sum(parts), by interval arithmetic: sums of
    whole-number intervals are whole-number intervals, so each hidden cell's possible values
    are an interval too. Fast enough for release tables with several withheld cells."""

    def span(key):
        if cells[key] is Cell.SHOWN:
            return values[key], values[key]
        if cells[key] is Cell.SMALL:
            return (1 if values[key] >= 1 else 0), 10
        return 11, cap

    out = {}
    for key in (total, *parts):
        if cells[key] is Cell.SHOWN:
            continue
        lo, hi = span(key)
        others = [span(p) for p in parts if p != key]
        if key == total:
            lo, hi = max(lo, sum(a for a, _ in others)), min(hi, sum(b for _, b in others))
        else:
            t_lo, t_hi = span(total)
            lo = max(lo, t_lo - sum(b for _, b in others))
            hi = min(hi, t_hi - sum(a for a, _ in others))
        out[key] = (lo, hi)
    return out


def check_safe(values, sums, cells, cap):
    for key, value in values.items():
        if 1 <= value <= 10:
            assert cells[key] is Cell.SMALL, f"{key}={value} is shown"
        if cells[key] is Cell.SMALL:
            assert value <= 10, f"{key}={value} is marked <11"
    ranges = reader_ranges(values, sums, cells, cap)
    for key, seen in ranges.items():
        assert values[key] in seen, "the true table must be one the reader allows"
        assert len(seen) >= 2, f"{key} can be worked out: only {seen} fits"


@pytest.mark.parametrize(
    "parts",
    [
        [18, 5, 0, 0],  # one small cell beside zeros: a zero is hidden with it
        [25, 0, 0, 1],  # a 1 beside zeros: zeros cannot hide it, the 25 is withheld
        [11, 1],  # no zero at all: the 11 is withheld
        [3, 4, 0],  # every non-zero part small: the total is small too
        [20, 14, 0, 0, 0, 0],  # nothing small: everything shown
        [0, 0, 0],
        [12, 2, 2, 30],
    ],
)
def test_complementary_suppression_leaves_nothing_to_subtract(parts):
    values = {f"p{i}": v for i, v in enumerate(parts)} | {"total": sum(parts)}
    sums = [Sum("total", tuple(f"p{i}" for i in range(len(parts))))]
    cells = privacy.suppress(values, sums)
    check_safe(values, sums, cells, cap=sum(parts) + 2)
    if not any(1 <= v <= 10 for v in values.values()):
        assert all(c is Cell.SHOWN for c in cells.values())


def test_a_zero_hidden_as_a_complement_is_published_as_under_11_and_a_large_one_is_withheld():
    values = {"a": 18, "b": 5, "c": 0, "t": 23}
    cells = privacy.suppress(values, [Sum("t", ("a", "b", "c"))])
    assert cells == {"a": Cell.SHOWN, "b": Cell.SMALL, "c": Cell.SMALL, "t": Cell.SHOWN}
    values = {"a": 18, "b": 5, "t": 23}
    cells = privacy.suppress(values, [Sum("t", ("a", "b"))])
    assert cells == {"a": Cell.WITHHELD, "b": Cell.SMALL, "t": Cell.SHOWN}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=24), min_size=2, max_size=5))
def test_no_random_histogram_leaves_a_small_cell_to_subtract(parts):
    values = {f"p{i}": v for i, v in enumerate(parts)} | {"total": sum(parts)}
    sums = [Sum("total", tuple(f"p{i}" for i in range(len(parts))))]
    cells = privacy.suppress(values, sums)
    check_safe(values, sums, cells, cap=sum(parts) + 2)
