"""Security headers on every page: CSP with nonces and no inline script or eval, a
Permissions-Policy, no-store on every page (static files stay cacheable), no inline styles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def users(site) -> dict[str, object]:
    return {"alice": site.alice, "carol": site.carol, "mona": site.mona}


def every_page(site):
    """(label, response) for every main page of every role, the public page and the logins."""
    clients: dict[str, Client] = {}
    for username, user in users(site).items():
        clients[username] = Client()
        clients[username].force_login(user)
    for username, url in site.pages:
        yield f"{username} {url}", clients[username].get(url)
    anonymous = Client()
    for url in (
        site.public,
        reverse("home"),
        reverse("accounts:login"),
        reverse("accounts:signup"),
    ):
        yield f"anonymous {url}", anonymous.get(url)


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
def test_every_page_has_a_strict_content_security_policy(site):
    for label, response in every_page(site):
        assert response.status_code == 200, label
        csp = directives(response)
        assert csp["script-src"] == ["'self'"], label
        assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"], label
        header = response["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header, label
        body = response.content.decode()
        # Every script is a file from this site, or JSON data (never executed).
        for tag in re.findall(r"<script\b[^>]*>", body):
            assert 'src="/static/' in tag or 'type="application/json"' in tag, (label, tag)
        assert " style=" not in body, label
        # The only style element is plotly.js's empty sheet, with this response's nonce.
        for tag in re.findall(r"<style\b[^>]*>", body):
            nonce = re.search(r'nonce="([^"]+)"', tag).group(1)
            assert f"'nonce-{nonce}'" in csp["style-src"], label


@pytest.mark.django_db
def test_htmx_runs_without_eval_or_injected_styles(client, alice):
    client.force_login(alice)
    body = client.get(reverse("diary:today")).content.decode()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", body).group(1)
    import json

    assert json.loads(config) == {
        "allowEval": False,
        "allowScriptTags": False,
        "includeIndicatorStyles": False,
    }


@pytest.mark.django_db
def test_every_page_is_no_store_and_has_a_permissions_policy(site):
    for label, response in every_page(site):
        assert "no-store" in response["Cache-Control"], label
        assert "private" in response["Cache-Control"], label
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy, label
        assert response["X-Frame-Options"] == "DENY", label
        assert response["X-Content-Type-Options"] == "nosniff", label
        assert response["Referrer-Policy"] == "same-origin", label


@pytest.mark.django_db
def test_htmx_fragments_and_downloads_are_no_store_too(site):
    client = Client()
    client.force_login(site.alice)
    fragment = client.get(reverse("diary:history"), HTTP_HX_REQUEST="true")
    assert "no-store" in fragment["Cache-Control"]
    export = client.get(reverse("diary:export"))
    assert export.status_code == 200 and "no-store" in export["Cache-Control"]
    csv = Client().get(site.public.rstrip("/") + "/data.csv")
    assert csv.status_code == 200 and "no-store" in csv["Cache-Control"]


def test_static_files_stay_cacheable(client, db):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert "max-age" in response["Cache-Control"]


def test_no_template_has_inline_styles_or_scripts():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        # HTML emails are not pages: no browser applies the site's policy to them, and mail
        # programs need their styles inside the message (templates/reminders/email/).
        if "email" in path.relative_to(TEMPLATES).parts:
            continue
        text = path.read_text()
        name = path.relative_to(TEMPLATES)
        if re.search(r"\sstyle=", text):
            offenders.append(f"{name}: style attribute")
        for tag in re.findall(r"<style\b[^>]*>", text):
            if 'nonce="{{ CSP_NONCE }}"' not in tag:
                offenders.append(f"{name}: {tag}")
        for tag in re.findall(r"<script\b[^>]*>", text):
            if "src=" not in tag:
                offenders.append(f"{name}: {tag}")
        if re.search(r"\son[a-z]+=|hx-on|javascript:", text):
            offenders.append(f"{name}: inline event handler")
    assert offenders == []


def test_the_vendored_scripts_need_no_eval():
    """plotly.js 4.1.1 basic calls neither eval nor new Function; htmx does, but only behind
    htmx.config.allowEval, which base.html turns off."""
    plotly = (TEMPLATES.parent / "static/vendor/plotly-basic-4.1.1.min.js").read_text()
    assert not re.search(r"(?<![\w$.])(eval\(|new Function\b|Function\()", plotly)
