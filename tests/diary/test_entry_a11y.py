"""The entry page by keyboard and by thumb, in Chromium: every control that takes focus shows a
ring that stands out (3:1 or more against white and the page), and is never hidden under the
sticky Save bar; every control is at least 44×44 px on a phone; and nothing scrolls sideways on
a phone, at 200 % zoom or at 400 % (WCAG 1.4.10 reflow). Screenshots in
test-artifacts/screenshots/entry-*.jpg.
"""

from __future__ import annotations

import pytest

from ldn_diary.diary.services import dose_change_add

from .._screens import shot
from ..conftest import browser_session

pytestmark = pytest.mark.browser

# What the focused element shows: the box a person sees (the label of a visually hidden radio or
# checkbox), whether that box is on top at its centre (not under the Save bar or anything else),
# and its focus ring as computed.
FOCUSED = """() => {
  const el = document.activeElement;
  const box = (el.matches(".segments input, .chips input, .options input") && el.labels[0]) || el;
  const r = box.getBoundingClientRect();
  const x = r.left + r.width / 2, y = r.top + r.height / 2;
  const hit = document.elementFromPoint(x, y);
  const style = getComputedStyle(box);
  return {
    what: el.tagName.toLowerCase() + (el.name ? "[name=" + el.name + "]" : "")
      + (el.value && el.type === "radio" ? "=" + el.value : "") + " " + (box.textContent || "").trim().slice(0, 30),
    inView: r.top >= 0 && r.bottom <= window.innerHeight && r.width > 0,
    onTop: !!hit && (hit === box || box.contains(hit) || hit.contains(box) && hit === el),
    covering: hit ? hit.tagName.toLowerCase() + "." + [...hit.classList].join(".") : null,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth),
    outlineColor: style.outlineColor, halo: style.boxShadow,
    inForm: !!el.closest("#entry-form"), isSave: el.matches("button.save"),
  };
}"""


def relative_luminance(rgb: tuple[int, int, int]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    hi, lo = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def rgb(css: str) -> tuple[int, int, int]:
    parts = css[css.index("(") + 1 : css.index(")")].split(",")
    return tuple(int(float(p)) for p in parts[:3])  # type: ignore[return-value]


WHITE, PAGE_BG = (255, 255, 255), (0xF6, 0xF7, 0xF9)


@pytest.fixture
def entry_page(chromium, live_server, alice):
    dose_change_add(patient=alice, effective_date=alice.local_today(), dose_ug=1500)

    def open_at(width: int, height: int):
        page = chromium(width, height, timeout_ms=10_000)
        browser_session(page, live_server.url, "alice", lands_on="/diary/")
        page.wait_for_load_state("networkidle")
        return page

    return open_at


def test_the_contrast_helper_agrees_with_published_values():
    # WebAIM's checker: #767676 on white is 4.54:1, black on white 21:1.
    assert round(contrast((0x76, 0x76, 0x76), WHITE), 2) == 4.54
    assert round(contrast((0, 0, 0), WHITE), 1) == 21.0
    # The old focus colour, #ffbf47 on white: the 1.6:1 that was reported.
    assert round(contrast((0xFF, 0xBF, 0x47), WHITE), 1) == 1.6


@pytest.mark.parametrize(("width", "height"), [(375, 740), (1280, 900)])
def test_tabbing_through_the_entry_page_shows_each_control_above_the_save_bar(
    entry_page, width, height
):
    page = entry_page(width, height)
    seen, problems = [], []
    for _ in range(120):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUSED)
        if not focus["inForm"]:
            if seen:
                break  # past the form
            continue
        seen.append(focus["what"])
        if not (focus["inView"] and focus["onTop"]):
            shot(page, f"entry-focus-covered-{width}", full_page=False)
            problems.append(f"{focus['what']}: hidden (covered by {focus['covering']})")
        if focus["outlineStyle"] == "none" or focus["outlineWidth"] < 2:
            problems.append(f"{focus['what']}: no focus ring")
        else:
            ring = rgb(focus["outlineColor"])
            for surface in (WHITE, PAGE_BG):
                if contrast(ring, surface) < 3:
                    problems.append(f"{focus['what']}: ring {ring} under 3:1 on {surface}")
        if focus["what"].startswith("input[name=dreams]"):
            shot(page, f"entry-focus-dreams-{width}", full_page=False)
        if focus["isSave"]:
            break
    # The four scores, dreams, side effects, other, dose taken, note and Save, at least.
    assert len(seen) >= 10, seen
    assert seen[-1].startswith("button"), seen
    assert problems == [], "\n".join(problems)


def test_every_control_on_the_entry_page_is_a_44_px_target_on_a_phone(entry_page):
    page = entry_page(375, 740)
    small = page.evaluate("""() => {
      const out = [];
      const controls = document.querySelectorAll(
        "header.site a, header.site button, main a, main button, main input, main select, main textarea");
      for (const el of controls) {
        if (el.type === "hidden") continue;
        // Links inside a sentence are exempt (WCAG 2.5.8); a hidden radio's target is its label.
        if (el.tagName === "A" && el.closest("p, li:not(.day-links li)")
            && !el.matches(".day-links a")) continue;
        const box = el.matches(".segments input, .chips input") ? el.labels[0] : el;
        const r = box.getBoundingClientRect();
        if (r.width < 44 - 0.5 || r.height < 44 - 0.5)
          out.push((box.textContent || el.name || el.tagName).trim().slice(0, 30)
                   + " " + Math.round(r.width) + "x" + Math.round(r.height));
      }
      return out;
    }""")
    shot(page, "entry-targets-375")
    assert small == [], small
    # The 0-10 buttons: two rows on a phone, every one at least 44 px each way.
    sizes = page.evaluate(
        "[...document.querySelectorAll('.segments label')].map(l => l.getBoundingClientRect())"
        ".map(r => [r.width, r.height])"
    )
    assert len(sizes) == 44 and min(w for w, _ in sizes) >= 44 and min(h for _, h in sizes) >= 44


@pytest.mark.parametrize(
    ("width", "height", "scale", "name"),
    [
        (375, 740, 1, "phone"),
        # A 1280×900 window at 200 % zoom lays out 640×450 CSS pixels at 2 device pixels each.
        (640, 450, 2, "zoom-200"),
        # ... and at 400 %, 320 CSS pixels wide: WCAG 1.4.10's reflow width.
        (320, 225, 4, "zoom-400"),
    ],
)
def test_the_entry_page_never_scrolls_sideways(entry_page, width, height, scale, name):
    page = entry_page(width, height)
    if scale != 1:
        client = page.context.new_cdp_session(page)
        client.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
        )
        page.reload()
        page.wait_for_load_state("networkidle")
    assert page.evaluate("window.devicePixelRatio") == scale
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    shot(page, f"entry-{name}")
    assert overflow <= 0, f"{name}: the entry page scrolls sideways by {overflow}px"
    # Every score button is still whole and inside the page.
    right = page.evaluate(
        "Math.max(...[...document.querySelectorAll('.segments label')]"
        ".map(l => l.getBoundingClientRect().right))"
    )
    assert right <= page.evaluate("document.documentElement.clientWidth")
