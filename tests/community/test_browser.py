"""The support group in a real Chromium: Mona creates a group, computes and publishes a release,
and a visitor with no account opens the public link and sees the charts drawn.

Screenshots go to test-artifacts/screenshots/community-*.png for a human to look at, and one of each step of the
path to test-artifacts/screenshots/release-*.jpg (kept by CI; tests/_screens.py).
"""

from __future__ import annotations

import re

import pytest

from ldn_diary.community.models import SupportGroup

from .._screens import shot
from ..conftest import SHOTS, browser_session
from .conftest import diary_patient, join, members

pytestmark = pytest.mark.browser


def log_in(page, live_server, username: str, lands_on: str) -> None:
    browser_session(page, live_server.url, username, lands_on=lands_on)


def test_a_moderator_publishes_a_release_and_a_visitor_sees_its_charts(chromium, live_server, mona):
    page = chromium(1280, 900)
    log_in(page, live_server, "mona", "/groups/")
    page.fill("input[name=name]", "Leeds LDN circle")
    page.click("button:has-text('Create group')")
    page.wait_for_url(re.compile(r"/groups/g/"))
    group = SupportGroup.objects.get()
    assert group.display_join_code in page.inner_text("#joining")
    shot(page, "release-1-group-created")

    # Members join with the code and agree (as they would on their own pages).
    crowd = members(group, 16, prefix="walker")
    join(diary_patient("quiet", "Quiet Walker"), group, contribute=False)

    page.reload()
    assert page.locator("#roster tbody tr").count() == 17
    page.fill("input[name=epsilon]", "4")
    page.click("button:has-text('Compute a release')")
    page.wait_for_url(re.compile(r"#releases$"))
    page.click("#releases a:has-text('Open')")
    page.wait_for_selector("[data-figure=dose-figure][data-rendered=true]")
    page.screenshot(path=str(SHOTS / "community-preview-1280.png"), full_page=True)
    shot(page, "release-2-preview")
    page.click("button:has-text('Publish with a public link')")
    link = page.locator("#public-link").get_attribute("href")
    assert link and "/groups/r/" in link
    assert "Published." in page.inner_text(".messages[role=status]")
    shot(page, "release-3-published")

    for width, height in ((1280, 900), (375, 740)):
        visitor = chromium(width, height)
        visitor.goto(link)
        visitor.wait_for_selector("[data-figure=dose-figure][data-rendered=true]")
        # plotly.js drew an SVG with bars, not just received JSON.
        assert visitor.locator("[data-figure=dose-figure] .main-svg").count() >= 1
        assert visitor.locator("[data-figure=dose-figure] .bars .point").count() >= 1
        text = visitor.inner_text("main")
        assert "Not medical advice" in text and "Walker" not in text
        assert visitor.locator("header.site").inner_text().find("Log out") == -1
        visitor.screenshot(path=str(SHOTS / f"community-public-{width}.png"), full_page=True)
        shot(visitor, f"release-4-visitor-{width}")
        for part in (".figures", "#about", "#t-members_by_dose_band", "#t-pain_response"):
            visitor.locator(part).screenshot(
                path=str(SHOTS / f"community-public-{width}-{part.strip('.#')}.png")
            )
        # Nothing spills sideways on a phone.
        overflow = visitor.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{width}px: page is {overflow}px too wide"

    phone = chromium(375, 740)
    log_in(phone, live_server, "mona", "/groups/")
    phone.goto(f"{live_server.url}/groups/g/{group.uuid}/")
    phone.screenshot(path=str(SHOTS / "community-group-375.png"), full_page=True)
    phone.screenshot(path=str(SHOTS / "community-group-375-top.png"))
    assert len(crowd) == 16
