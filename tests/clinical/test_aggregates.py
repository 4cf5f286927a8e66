"""Group aggregates from hand-made MemberOutcomes (ldn_diary.clinical.aggregates): the counts
against hand-counted ones (with the noise switched off in the test only), and the protections
with real, seeded noise."""

from __future__ import annotations

import math

import pytest

from ldn_diary.clinical import aggregates, privacy
from ldn_diary.clinical.aggregates import MemberOutcome, compute_release, dose_band
from ldn_diary.clinical.privacy import SMALL_MARK, Sum

from .test_privacy import check_safe, interval_ranges

EFFECTS = [("vivid_dreams", "Vivid dreams"), ("nausea", "Nausea")]


def outcome(
    dose_ug=4500,
    w4=None,
    w8=None,
    w12=None,
    first=None,
    early=(),
    late=(),
    adherence=0.95,
) -> MemberOutcome:
    return MemberOutcome(
        dose_ug=dose_ug,
        pain_class={4: w4, 8: w8, 12: w12},
        first_moderate_week=first,
        side_effects_early=frozenset(early),
        side_effects_late=frozenset(late),
        adherence=adherence,
    )


@pytest.mark.parametrize(
    ("ug", "band"),
    [
        (None, "none"),
        (0, "none"),
        (1, "under_1"),
        (999, "under_1"),
        (1000, "1_to_3"),
        (2999, "1_to_3"),
        (3000, "3_to_4.5"),
        (4499, "3_to_4.5"),
        (4500, "4.5"),
        (4501, "over_4.5"),
        (6000, "over_4.5"),
    ],
)
def test_dose_bands_by_microgram(ug, band):
    assert dose_band(ug) == band


def cohort() -> list[MemberOutcome]:
    """40 members: 30 at 4.5 mg, 4 at 1.5 mg, 6 at 6 mg; hand-countable outcomes."""
    out = []
    for i in range(30):
        out.append(
            outcome(
                4500,
                w4="minimal",
                w8="moderate" if i < 15 else "none",
                w12="substantial" if i < 12 else ("moderate" if i < 24 else None),
                first=5 if i < 12 else (7 if i < 24 else None),
                early=("vivid_dreams",),
                late=("nausea",) if i < 3 else (),
                adherence=0.95 if i < 26 else 0.5,
            )
        )
    out += [outcome(1500, w12="none", adherence=None) for _ in range(4)]
    out += [outcome(6000, w12="moderate", first=9, adherence=0.85) for _ in range(6)]
    return out


@pytest.fixture
def exact(monkeypatch):
    """No noise: for checking what is counted. The product never switches noise off."""
    monkeypatch.setattr(privacy, "noisy_counts", lambda counts, **kwargs: [int(c) for c in counts])


def table(result, name):
    return next(t for t in result.tables if t["name"] == name)


def rows(result, name):
    return {r["label"]: r["cells"] for r in table(result, name)["rows"]}


def test_the_counts_are_what_the_outcomes_say(exact):
    result = compute_release(cohort(), epsilon=100, side_effects=EFFECTS, random_state=1)
    bands = rows(result, "members_by_dose_band")
    assert bands["All contributing members"] == {"members": 40}
    assert bands["4.5 mg"] == {"members": 30, "percent": 75}
    # 4 at 1.5 mg and 6 at 6 mg are small cells; 0s may be shown.
    assert bands["1 to < 3 mg"] == {"members": SMALL_MARK}
    assert bands["> 4.5 mg"] == {"members": SMALL_MARK}
    assert bands["Not taking LDN now"] == {"members": 0, "percent": 0}
    assert result.members == 40

    response = rows(result, "pain_response")
    assert response["Week 4"] == {
        "substantial": 0,
        "moderate": 0,
        "below": 30,
        "not_assessed": SMALL_MARK,
        "moderate_or_better_pct": 0,
        "substantial_pct": 0,
    }
    assert response["Week 8"] == {
        "substantial": 0,
        "moderate": 15,
        "below": 15,
        "not_assessed": SMALL_MARK,
        "moderate_or_better_pct": 50,
        "substantial_pct": 0,
    }
    # Week 12: substantial 12, moderate 12 + 6, under 30 % 4 (small), not assessed 6 (small):
    # no rate, since a rate beside the hidden 4 would give it away.
    assert response["Week 12"] == {
        "substantial": 12,
        "moderate": 18,
        "below": SMALL_MARK,
        "not_assessed": SMALL_MARK,
    }

    first = rows(result, "first_moderate_response")
    assert first["Reached a moderate response"] == {"members": 30, "median_week": 7}
    assert first["Not (yet) reached"] == {"members": SMALL_MARK}  # 10

    effects = rows(result, "side_effects")
    assert effects["Vivid dreams"] == {
        "weeks_1_4": 30,
        "weeks_1_4_pct": 75,
        "after_week_4": 0,
        "after_week_4_pct": 0,
    }
    assert effects["Nausea"] == {"weeks_1_4": 0, "weeks_1_4_pct": 0, "after_week_4": SMALL_MARK}

    adherence = rows(result, "adherence")
    assert adherence["90 % or more"] == {"members": 26, "percent": 65}
    assert adherence["All members counted"] == {"members": 40}


def test_a_small_cell_in_a_table_with_a_total_takes_a_complement_with_it(exact):
    # 24 at 4.5 mg and 1 at 1.5 mg: the 1 could be subtracted from the total of 25.
    members = [outcome(4500) for _ in range(24)] + [outcome(1500)]
    result = compute_release(members, epsilon=100, side_effects=EFFECTS, random_state=1)
    bands = rows(result, "members_by_dose_band")
    assert bands["1 to < 3 mg"] == {"members": SMALL_MARK}
    assert bands["All contributing members"]["members"] == 25
    # A 1 beside zeros cannot hide behind a zero, so the 24 is withheld (left out).
    assert "members" not in bands["4.5 mg"]


def test_rates_are_never_shown_beside_a_hidden_count(exact):
    members = [outcome(w12="substantial") for _ in range(5)] + [
        outcome(w12="none") for _ in range(20)
    ]
    result = compute_release(members, epsilon=100, side_effects=EFFECTS, random_state=1)
    week12 = rows(result, "pain_response")["Week 12"]
    assert week12["substantial"] == SMALL_MARK
    assert "moderate_or_better_pct" not in week12 and "substantial_pct" not in week12


def test_the_accounting_splits_epsilon_and_sets_each_scale_to_delta_over_epsilon():
    result = compute_release(cohort(), epsilon=1.0, side_effects=EFFECTS, random_state=1)
    queries = {q.name: q for q in result.queries}
    assert math.fsum(q.epsilon for q in queries.values()) == pytest.approx(1.0)
    assert queries["dose_bands"].sensitivity == 1
    assert queries["pain_response"].sensitivity == 3  # one cell per week window, three windows
    assert queries["side_effects"].sensitivity == 2 * len(EFFECTS)
    for q in queries.values():
        assert q.scale == pytest.approx(q.sensitivity / q.epsilon)
    assert result.count_scale == queries["dose_bands"].scale
    mechanism = result.mechanism()
    assert mechanism["name"] == "laplace" and mechanism["library"].startswith("diffprivlib ")
    assert mechanism["count_scale"] == pytest.approx(
        1 / (aggregates.QUERY_WEIGHTS["dose_bands"] / sum(aggregates.QUERY_WEIGHTS.values()))
    )


def published_counts(result):
    for t in result.tables:
        kinds = {c["key"]: c["kind"] for c in t["columns"]}
        for row in t["rows"]:
            for key, value in row["cells"].items():
                if kinds[key] == "count":
                    yield t["name"], row["label"], key, value


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("epsilon", [1.0, 4.0, 20.0])
def test_with_real_noise_no_published_count_is_1_to_10_or_recoverable(seed, epsilon, monkeypatch):
    decided = []

    def spy(values, sums=()):
        cells = suppress(values, sums)
        decided.append((dict(values), list(sums), cells))
        return cells

    suppress = privacy.suppress
    monkeypatch.setattr(privacy, "suppress", spy)
    members = cohort()[: 14 + 2 * seed]  # 14 to 36 members
    result = compute_release(members, epsilon=epsilon, side_effects=EFFECTS, random_state=seed)
    for name, label, key, value in published_counts(result):
        assert value == SMALL_MARK or value == 0 or value >= 11, (name, label, key, value)
    # Every table with a total, as its noisy counts were: no hidden cell is pinned down.
    with_totals = [d for d in decided if d[1]]
    assert len(with_totals) == 2  # the dose bands and adherence
    for values, sums, cells in with_totals:
        (relation,) = sums
        cap = values[relation.total] + 5
        for key, (lo, hi) in interval_ranges(
            values, relation.total, relation.parts, cells, cap
        ).items():
            assert lo <= values[key] <= hi
            assert hi > lo, f"{key} = {values[key]} can be worked out from {values}"


def test_noisy_tables_are_withheld_whole(exact):
    # 12 members and ε = 1: most queries' noise would dwarf the numbers.
    result = compute_release([outcome() for _ in range(12)], epsilon=1.0, side_effects=EFFECTS)
    assert table(result, "side_effects")["withheld"] == "too_noisy"
    assert all(r["cells"] == {} for r in table(result, "side_effects")["rows"])


def test_a_group_under_11_shows_only_that_it_is_under_11(exact):
    result = compute_release([outcome() for _ in range(7)], epsilon=100, side_effects=EFFECTS)
    assert result.members == SMALL_MARK
    assert all(t["withheld"] == "too_few_members" for t in result.tables[1:])


def test_the_same_seed_gives_the_same_release():
    a = compute_release(cohort(), epsilon=2.0, side_effects=EFFECTS, random_state=11)
    b = compute_release(cohort(), epsilon=2.0, side_effects=EFFECTS, random_state=11)
    assert a.tables == b.tables


def test_the_oracle_agrees_on_a_release_table(exact):
    members = [outcome(4500) for _ in range(24)] + [outcome(1500)]
    result = compute_release(members, epsilon=100, side_effects=EFFECTS, random_state=1)
    t = table(result, "members_by_dose_band")
    keys = [k for k, _ in aggregates.DOSE_BANDS]
    values = dict(zip(keys, [0, 0, 1, 0, 24, 0], strict=True)) | {"total": 25}
    shown = {}
    for key, row in zip([*keys, "total"], t["rows"], strict=True):
        value = row["cells"].get("members")
        shown[key] = (
            privacy.Cell.SHOWN
            if isinstance(value, int)
            else privacy.Cell.SMALL
            if value == SMALL_MARK
            else privacy.Cell.WITHHELD
        )
    check_safe(values, [Sum("total", tuple(keys))], shown, cap=30)
