"""In Chromium, every main page of every role runs under the Content-Security-Policy with no
violation and no console error, and its charts still draw."""

from __future__ import annotations

import pytest

from ..conftest import SHOTS, browser_log_in

pytestmark = pytest.mark.browser

WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""

# Pages whose Plotly charts must draw.
CHARTS = ("/diary/history/", "/brief/", "/clinic/p/", "/releases/", "/groups/r/")


def watched_page(chromium):
    page = chromium(1280, 900)
    page.add_init_script(WATCH)
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
    )
    return page, problems


def log_in(page, live_server, username: str) -> None:
    browser_log_in(page, live_server.url, username)


def visit(page, problems, url: str, name: str) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    if any(part in url for part in CHARTS):
        page.wait_for_selector(".main-svg")
        assert page.locator(".main-svg").count() >= 1, url
        # Hovering shows the mode bar and a hover label, both styled by plotly.js at run time.
        box = page.locator(".js-plotly-plot").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    page.screenshot(path=str(SHOTS / f"csp-{name}.png"), full_page=False)
    violations = page.evaluate("window.__violations")
    assert violations == [], (url, violations)
    assert problems == [], (url, problems)


def test_every_main_page_runs_under_the_policy_with_its_charts(chromium, live_server, site):
    by_user: dict[str, list[str]] = {}
    for username, url in site.pages:
        by_user.setdefault(username, []).append(url)
    for username, urls in by_user.items():
        page, problems = watched_page(chromium)
        log_in(page, live_server, username)
        assert "/accounts/" not in page.url or "profile" in page.url, page.url
        for url in urls:
            name = f"{username}{url.replace('/', '-')}"[:80]
            visit(page, problems, f"{live_server.url}{url}", name)
        # htmx still works without eval: the history page's month navigation swaps in place.
        if username == "alice":
            page.goto(f"{live_server.url}/diary/history/")
            links = page.locator("a[hx-get]")
            if links.count():
                links.first.click()
                page.wait_for_load_state("networkidle")
            assert page.evaluate("window.__violations") == [] and problems == []
    page, problems = watched_page(chromium)
    visit(page, problems, f"{live_server.url}{site.public}", "public-release")
    for url in ("/", "/accounts/login/", "/accounts/signup/"):
        visit(page, problems, f"{live_server.url}{url}", f"anon{url.replace('/', '-')}")
