"""The repository stands on its own: nothing tracked points to files outside it, and comments
cite docs/clinical-rules.md by section rather than tracker issue numbers, which mean nothing to
someone reading a clone."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Built from pieces so that this file does not match itself.
OUTSIDE = re.compile(
    "|".join(
        (
            re.escape("../" + "shared"),
            re.escape("SPEC" + ".md"),
            # The old citation style: that file's name, a section sign or "section", a number.
            r"\bSPEC\s+(?:§|sections?\b)",
        )
    )
)
ISSUE_NUMBER = re.compile(r"\bissues?\s*#\s*\d+", re.IGNORECASE)


def tracked_text_files() -> Iterator[tuple[str, str]]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    for name in listing.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        try:
            yield name, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def offending_lines(pattern: re.Pattern[str]) -> list[str]:
    return [
        f"{name}:{number}: {line.strip()[:120]}"
        for name, text in tracked_text_files()
        for number, line in enumerate(text.splitlines(), start=1)
        if pattern.search(line)
    ]


def test_no_tracked_file_points_outside_the_repository():
    assert offending_lines(OUTSIDE) == []


def test_no_tracked_file_cites_an_issue_number():
    assert offending_lines(ISSUE_NUMBER) == []


def test_the_patterns_catch_what_they_are_for():
    # Built from pieces too, for the same reason.
    spec, issue = "SPEC", "issue"
    assert OUTSIDE.search("see ../" + "shared/" + spec + ".md")
    assert OUTSIDE.search(f"({spec} §2)") and OUTSIDE.search(f"{spec} section 3")
    assert not OUTSIDE.search("docs/clinical-rules.md §2")
    assert ISSUE_NUMBER.search(f"(design; {issue} #3)") and ISSUE_NUMBER.search(f"{issue}s #12")
    assert not ISSUE_NUMBER.search("the issue lists") and not ISSUE_NUMBER.search("#3a3a3a")
