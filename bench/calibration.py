"""Calibration of "beyond day-to-day variation" (ldn_diary.clinical.compare) by simulation. Not a test.

    .venv/bin/python bench/calibration.py [--sims 50000] [--seed 20240101] [--designs]
                                          [--min-autocorrelation 0.1]

Simulated patients whose daily scores are AR(1) noise with lag-1 autocorrelation rho, marginal SD
1.6 and mean 6 (docs/clinical-rules.md §3), rounded and clipped to 0-10. Each diary is one latent
series laid out like the week-4 window: 14 baseline days, 14 days not compared, then the 14-day
window, whose latent values are lowered by d points for a d-point improvement (pain: lower is
better) before rounding. The baseline is complete; the window misses 0-4 days (how many uniformly,
then which at random).

Printed, per rho: the share of diaries with no true change called "beyond day-to-day variation"
(the false rate; target <= 7 %, <= 10 % at rho = 0.7), the same share under the Newey-West rule it
replaces (the engine's `reliable` until now), the share of 1-, 2- and 3-point improvements called
beyond (and in the right direction), and the share not assessable. Then the time of
`compare_windows_batch` on 300 000 comparisons shaped like the engine's (R, 14) windows.

--designs adds the false rate for shorter or sparser windows (the minimum-days rule).
--min-autocorrelation replaces AUTOCORR_MIN for this run, to see what the floor costs and buys.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ldn_diary.clinical import compare, compare_windows_batch, stats

RHOS = (0.0, 0.3, 0.5, 0.7)
SHIFTS = (0.0, 1.0, 2.0, 3.0)
SD, MEAN = 1.6, 6.0
BASELINE_DAYS, GAP_DAYS, WINDOW_DAYS = 14, 14, 14
MAX_MISSING = 4
TIMING_ROWS = 300_000


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=50_000, help="Diaries per cell.")
    parser.add_argument("--seed", type=int, default=20240101)
    parser.add_argument("--designs", action="store_true", help="Also shorter/sparser windows.")
    parser.add_argument("--repeat", type=int, default=3, help="Timing runs; the best is kept.")
    parser.add_argument(
        "--min-autocorrelation",
        type=float,
        default=None,
        help="Use this instead of constants.AUTOCORR_MIN (for comparison only).",
    )
    return parser.parse_args()


def latent(rng: np.random.Generator, sims: int, days: int, rho: float) -> np.ndarray:
    """Stationary AR(1) series (sims, days) with marginal SD `SD` and mean 0."""
    e = np.empty((sims, days))
    e[:, 0] = rng.standard_normal(sims) * SD
    innovations = rng.standard_normal((sims, days)) * SD * np.sqrt(1.0 - rho * rho)
    for t in range(1, days):
        e[:, t] = rho * e[:, t - 1] + innovations[:, t]
    return e


def score(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(MEAN + x), 0, 10)


def drop_random(rng: np.random.Generator, y: np.ndarray, missing: np.ndarray) -> np.ndarray:
    """NaN on `missing[i]` randomly chosen days of row i."""
    rank = np.argsort(rng.random(y.shape), axis=1).argsort(axis=1)
    return np.where(rank < missing[:, None], np.nan, y)


def diaries(
    rng: np.random.Generator, sims: int, rho: float, shift: float
) -> tuple[np.ndarray, np.ndarray]:
    e = latent(rng, sims, BASELINE_DAYS + GAP_DAYS + WINDOW_DAYS, rho)
    baseline = score(e[:, :BASELINE_DAYS])
    window = score(e[:, BASELINE_DAYS + GAP_DAYS :] - shift)
    missing = rng.integers(0, MAX_MISSING + 1, sims)
    return baseline, drop_random(rng, window, missing)


def newey_west_beyond(baseline: np.ndarray, window: np.ndarray) -> np.ndarray:
    """The rule being replaced (engine._assess): Newey-West SE, t(n_b + n_w - 2), CI excludes 0."""
    lrv_b, n_b, mean_b = stats.hac_long_run_variance(baseline)
    lrv_w, n_w, mean_w = stats.hac_long_run_variance(window)
    half = stats.t_quantile(n_b + n_w - 2) * np.sqrt(lrv_b / n_b + lrv_w / n_w)
    change = mean_b - mean_w
    return (change - half > 0) | (change + half < 0)


def calibration_table(sims: int, seed: int) -> None:
    print(f"{sims} simulated diaries per cell; 14 baseline days, 14-day window missing 0-4 days\n")
    print(
        "| rho | no change: beyond | (Newey-West) | 1 point: beyond | 2 points | 3 points "
        "| not assessable |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for i, rho in enumerate(RHOS):
        cells = []
        unassessable = []
        for j, shift in enumerate(SHIFTS):
            rng = np.random.default_rng([seed, i, j])
            baseline, window = diaries(rng, sims, rho, shift)
            out = compare_windows_batch(baseline, window)
            beyond = out.beyond == 2
            if shift == 0:
                cells.append(100 * beyond.mean())
                cells.append(100 * newey_west_beyond(baseline, window).mean())
            else:
                cells.append(100 * (beyond & (out.change > 0)).mean())
            unassessable.append(100 * (out.beyond == 0).mean())
        row = " | ".join(f"{c:.1f} %" for c in cells)
        print(f"| {rho:.1f} | {row} | {max(unassessable):.2f} % |")
    # Binomial standard error of a share p from n diaries: sqrt(p (1 - p) / n).
    se5 = 100 * np.sqrt(0.05 * 0.95 / sims)
    se50 = 100 * np.sqrt(0.25 / sims)
    print(f"\nStandard error: {se5:.2f} points at 5 %, {se50:.2f} points at 50 %.")


def designs_table(sims: int, seed: int) -> None:
    """False rate for windows shorter or sparser than the engine's (COMPARE_MIN_VALUES)."""
    print("\nNo true change, other window designs (share called beyond):\n")
    print("| design | rho 0 | 0.3 | 0.5 | 0.7 |")
    print("|---|---:|---:|---:|---:|")
    designs = (
        ("5 + 5 consecutive days", 5, 5, 5, 5),
        ("7 + 7 consecutive days", 7, 7, 7, 7),
        ("5 of 14 + 5 of 14 days", 14, 14, 5, 5),
        ("14 + 5 of 14 days", 14, 14, 14, 5),
        ("10 of 14 + 10 of 14 days", 14, 14, 10, 10),
    )
    for k, (label, t_b, t_w, keep_b, keep_w) in enumerate(designs):
        rates = []
        for i, rho in enumerate(RHOS):
            rng = np.random.default_rng([seed, 100 + k, i])
            e = latent(rng, sims, t_b + GAP_DAYS + t_w, rho)
            baseline = drop_random(rng, score(e[:, :t_b]), np.full(sims, t_b - keep_b))
            window = drop_random(rng, score(e[:, t_b + GAP_DAYS :]), np.full(sims, t_w - keep_w))
            rates.append(100 * (compare_windows_batch(baseline, window).beyond == 2).mean())
        print(f"| {label} | " + " | ".join(f"{r:.1f} %" for r in rates) + " |")


def timing(seed: int, repeat: int) -> None:
    rng = np.random.default_rng([seed, 999])
    parts = [diaries(rng, TIMING_ROWS // len(RHOS), rho, 0.0) for rho in RHOS]
    baseline = np.vstack([p[0] for p in parts])
    window = np.vstack([p[1] for p in parts])
    # Pain, fatigue, sleep, mood in turn, as the engine's (R, 4, 14) arrays reshape to (4R, 14).
    higher_is_better = np.tile([False, False, True, True], len(baseline) // 4)
    best_wall = best_cpu = np.inf
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        compare_windows_batch(baseline, window, higher_is_better=higher_is_better)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    print(
        f"\ncompare_windows_batch on {len(baseline):,} comparisons ((R, 14) windows, 0-4 NaN "
        f"days): {best_wall:.2f} s wall, {best_cpu:.2f} s CPU (best of {repeat})"
    )


def main() -> None:
    args = parse_args()
    if args.min_autocorrelation is not None:
        compare.AUTOCORR_MIN = args.min_autocorrelation
    print(f"AUTOCORR_MIN = {compare.AUTOCORR_MIN}")
    calibration_table(args.sims, args.seed)
    if args.designs:
        designs_table(args.sims, args.seed)
    timing(args.seed, args.repeat)


if __name__ == "__main__":
    main()
