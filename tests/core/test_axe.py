"""Every page and state of every role in Chromium, on a phone (375×740) and a desktop
(1280×900): axe-core finds no serious or critical violation, and the page runs under its
Content-Security-Policy.

The same walk also checks, on every page, what a person would notice and axe does not: no
request the page makes fails (the favicon, a stylesheet), nothing scrolls sideways on a phone,
the policy refuses nothing (no ``securitypolicyviolation``), no script fails or logs an error,
and each chart draws, its mode bar and hover label included (plotly.js styles them as it runs).
One test per role, each walking its pages in one browser; screenshots of every state go to
test-artifacts/screenshots/axe-*.jpg (tests/_screens.py).

axe is injected from tests/vendor/axe.min.js (see tests/vendor/README.md) through the DevTools
protocol, which the page's Content-Security-Policy does not govern: the pages are tested under
their real policy, and axe never reaches the server.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from ldn_diary.diary.models import DoseChange

from .._screens import shot
from ..conftest import browser_session

pytestmark = pytest.mark.browser

AXE = (Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js").read_text()
SIZES = ((375, 740), (1280, 900))
# Impacts that fail the test. "moderate" and "minor" findings are printed, not failed.
FAILING = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " :: " + n.failureSummary.split("\\n")[1]),
  }));
}"""

# Records what the Content-Security-Policy refuses, from before the page's own scripts run.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""

TWO_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

# The outermost elements that stick out past the right edge, to say what makes a page too wide.
WIDEST = """() => {
  const edge = document.documentElement.clientWidth;
  const out = [...document.querySelectorAll("body *")].filter(
    e => e.getBoundingClientRect().right > edge + 0.5 && !e.closest(".vh, .visually-hidden"));
  return out.filter(e => !out.includes(e.parentElement)).slice(0, 5).map(
    e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + "." + [...e.classList].join(".")
      + " " + Math.round(e.getBoundingClientRect().right) + "px");
}"""


@dataclass
class Walk:
    """One role's walk at one size: every state's problems, in words."""

    page: object
    base: str
    width: int
    role: str
    problems: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    icons_ok: set[str] = field(default_factory=set)

    def go(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(f"{self.base}{path}")
        got = response.status if response else None
        if got != status:
            self.problems.append(f"{path}: HTTP {got}, expected {status}")
        # A page that sent the browser elsewhere (to the login, after a failed sign-in) would
        # pass every check as some other page.
        landed = urlsplit(self.page.url).path
        if landed != urlsplit(path).path:
            self.problems.append(f"{path}: landed on {landed}")

    def check(self, name: str) -> None:
        """Run every check on the page as it is now, and keep a screenshot of it."""
        page = self.page
        page.wait_for_load_state("load")
        # What htmx loads after the page (the entry page's questionnaire cards) has arrived.
        page.wait_for_function("() => !document.querySelector('[hx-trigger=load], .htmx-request')")
        charts = page.locator(".chart[data-figure], #history-chart").count()
        if charts:
            page.wait_for_selector(".main-svg")
        label = f"{self.role} {name} @{self.width}"
        self.seen.append(label)
        page.evaluate(AXE)
        for v in page.evaluate(RUN_AXE):
            line = f"{label}: {v['impact']} {v['id']} ({v['help']}): {v['targets']}"
            if v["impact"] in FAILING:
                self.problems.append(line)
            else:
                print("(not failing)", line)
        if self.width <= 375:
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                wide = page.evaluate(WIDEST)
                self.problems.append(f"{label}: scrolls sideways by {overflow}px: {wide}")
        # Headless Chromium does not fetch the favicon itself: ask for the one the page names.
        icon = page.locator("link[rel=icon]").get_attribute("href") or ""
        if icon not in self.icons_ok:
            got = page.request.get(f"{self.base}{icon}") if icon.startswith("/") else None
            if got is None or got.status != 200 or "svg" not in got.headers["content-type"]:
                self.problems.append(f"{label}: favicon {icon!r} does not load")
            else:
                self.icons_ok.add(icon)
        self.problems.extend(f"{label}: {r}" for r in self.failed_requests)
        self.failed_requests.clear()
        shot(page, f"axe-{self.role}-{name}-{self.width}")
        if charts:
            # Hovering shows a hover label, and on the dashboard the mode bar, both styled by
            # plotly.js as it runs: the policy must allow that too. Plotly draws them in the
            # mousemove handler; two frames later they are on the page.
            box = page.locator(".js-plotly-plot").first.bounding_box()
            page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
            page.evaluate(TWO_FRAMES)
        self.problems.extend(
            f"{label}: refused by the policy: {v}" for v in page.evaluate("window.__violations")
        )
        self.problems.extend(f"{label}: {e}" for e in self.script_errors)
        self.script_errors.clear()


def open_walk(chromium, live_server, role: str, width: int, height: int) -> Walk:
    page = chromium(width, height, timeout_ms=20_000)
    walk = Walk(page=page, base=live_server.url, width=width, role=role)

    def on_response(response) -> None:
        # Documents are checked by Walk.go (an error page is meant to be a 403 or 404); any
        # other request that fails is a broken page: a missing favicon, stylesheet or script.
        if response.status >= 400 and response.request.resource_type != "document":
            walk.failed_requests.append(f"HTTP {response.status} {response.url}")

    def on_console(message) -> None:
        # "Failed to load resource" repeats a status that on_response and Walk.go judge.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            walk.script_errors.append(f"console error: {message.text}")

    page.on("response", on_response)
    page.on("console", on_console)
    page.on("pageerror", lambda error: walk.script_errors.append(f"page error: {error}"))
    page.add_init_script(WATCH_POLICY)
    return walk


def log_in(walk: Walk, username: str) -> None:
    browser_session(walk.page, walk.base, username)


def walk_patient(walk: Walk, site) -> None:
    page = walk.page
    log_in(walk, "alice")
    walk.go(reverse("diary:today"))
    walk.check("entry-today")
    # Saving today's entry with its pain score taken away: the errors come back in place (htmx,
    # which runs without eval under the policy). On a fresh page: axe leaves empty style
    # attributes behind, which htmx would copy onto the new form, and the policy refuse.
    walk.go(reverse("diary:today"))
    page.evaluate(
        "document.querySelectorAll('input[name=pain]').forEach(i => { i.checked = false; })"
    )
    page.click("button.save")
    page.wait_for_selector("#entry-form .notice.bad")
    walk.check("entry-errors")
    walk.go(reverse("diary:history"))
    walk.check("history")
    walk.go(reverse("diary:doses"))
    walk.check("doses")
    change = DoseChange.objects.filter(patient=site.alice).first()
    walk.go(reverse("diary:dose_edit", args=[change.uuid]))
    walk.check("dose-edit")
    walk.go(reverse("diary:treatments"))
    walk.check("treatments")
    walk.go(reverse("questionnaires:index"))
    walk.check("questionnaires")
    walk.go(reverse("diary:import"))
    walk.check("import")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "diary.csv",
                "mimeType": "text/csv",
                "buffer": (
                    b"date,pain,fatigue,sleep,mood,dreams,side_effects,dose_taken,dose_mg,note\n"
                    + f"{site.alice.local_today():%Y-%m-%d},5,5,5,5,vivid,"
                    "vivid_dreams;headache,yes,4.5,imported\n".encode()
                ),
            }
        ],
    )
    page.click("main button.primary")
    page.wait_for_url("**/import/preview/")
    walk.check("import-preview")
    walk.go(reverse("reminders:settings"))
    walk.check("reminders")
    walk.go(reverse("accounts:profile"))
    walk.check("profile")
    walk.go(reverse("accounts:delete"))
    walk.check("account-delete")
    walk.go(reverse("community:home"))
    walk.check("groups")
    walk.go(reverse("diary:dose_edit", args=[uuid.uuid4()]), status=404)
    walk.check("error-404")
    walk.go(reverse("clinic:roster"), status=403)
    walk.check("error-403")
    # Bob, new and with no dose yet: an empty diary, and his baseline questionnaires are open.
    page.click("header.site button:has-text('Log out')")
    page.wait_for_load_state()
    log_in(walk, "bob")
    walk.go(reverse("diary:today"))
    walk.check("new-entry-today")
    walk.go(reverse("diary:history"))
    walk.check("new-history")
    walk.go(reverse("questionnaires:index"))
    fill = page.locator("main a[href*='/week-']")
    assert fill.count(), "Bob's baseline questionnaires are open"
    fill.first.click()
    page.wait_for_url(re.compile(r"/week-\d+/"))
    walk.check("questionnaire-fill")


def walk_clinician(walk: Walk, site) -> None:
    log_in(walk, "carol")
    walk.go(reverse("clinic:roster"))
    walk.check("roster")
    walk.go(reverse("clinic:patient", args=[site.alice.uuid]))
    walk.check("dashboard")
    walk.go(reverse("clinic:brief", args=[site.alice.uuid]))
    walk.check("brief")
    walk.go(reverse("clinic:link"))
    walk.check("link")
    walk.go(reverse("accounts:profile"))
    walk.check("profile")


def walk_moderator(walk: Walk, site) -> None:
    page = walk.page
    log_in(walk, "mona")
    walk.go(reverse("community:home"))
    walk.check("home")
    walk.go(reverse("community:group", args=[site.group.uuid]))
    walk.check("group")
    walk.go(reverse("community:release", args=[site.group.uuid, site.release.uuid]))
    walk.check("release")
    # A flash message: replace the join code, which says so on the group page.
    walk.go(reverse("community:group", args=[site.group.uuid]))
    page.click("button:has-text('Replace the code')")
    page.wait_for_selector(".messages")
    walk.check("group-flash")
    walk.go(reverse("clinic:roster"), status=403)
    walk.check("error-403")


def walk_anonymous(walk: Walk, site) -> None:
    page = walk.page
    walk.go("/")
    walk.check("home")
    walk.go(reverse("accounts:login"))
    walk.check("login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "not the password")
    page.click("main button[type=submit]")
    page.wait_for_selector("main .notice.bad, main .errorlist")
    walk.check("login-refused")
    walk.go(reverse("accounts:signup"))
    walk.check("signup")
    # Passwords that differ: the form comes back with its errors beside the fields.
    page.fill("input[name=username]", "newcomer")
    page.fill("input[name=email]", "newcomer@example.org")
    page.fill("input[name=password1]", "a long enough password 1")
    page.fill("input[name=password2]", "a different password 2")
    page.click("main button[type=submit]")
    page.wait_for_selector("main .errorlist")
    walk.check("signup-errors")
    walk.go(reverse("accounts:password_reset"))
    walk.check("password-reset")
    walk.go(site.public)
    walk.check("public-release")
    walk.go("/no-such-page/", status=404)
    walk.check("error-404")


WALKS: dict[str, Callable[[Walk, object], None]] = {
    "patient": walk_patient,
    "clinician": walk_clinician,
    "moderator": walk_moderator,
    "anonymous": walk_anonymous,
}


@pytest.mark.parametrize("role", list(WALKS))
def test_axe_finds_no_serious_violation_on_any_page(chromium, live_server, site, bob, role):
    problems: list[str] = []
    seen: list[str] = []
    for width, height in SIZES:
        walk = open_walk(chromium, live_server, role, width, height)
        WALKS[role](walk, site)
        problems += walk.problems
        seen += walk.seen
    assert len(seen) >= 2 * 4, seen
    assert problems == [], "\n".join(problems)
