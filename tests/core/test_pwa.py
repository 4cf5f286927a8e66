"""The installable app: the manifest and the service worker, served from the site's root."""

from __future__ import annotations

import json

from django.urls import reverse


def test_the_manifest_makes_the_entry_page_an_app(client, db):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == reverse("diary:today") == "/diary/"
    assert (manifest["display"], manifest["scope"], manifest["short_name"]) == (
        "standalone",
        "/",
        "LDN Diary",
    )
    assert manifest["theme_color"] == "#1f5fa8"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon


def test_every_page_links_the_manifest_and_only_patients_load_the_worker(client, alice, carol):
    page = client.get(reverse("accounts:login")).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert "offline.js" not in page
    client.force_login(carol)
    assert "offline.js" not in client.get(reverse("clinic:roster")).content.decode()
    client.force_login(alice)
    assert "offline.js" in client.get(reverse("diary:history")).content.decode()


def test_the_service_worker_is_served_for_the_whole_site_and_never_cached(client, db):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-store" in response["Cache-Control"]
    source = response.content.decode()
    config = json.loads(source.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["shell"] == "/diary/offline/" and config["entry"] == "/diary/"
    # It keeps the shell's static files, each of which exists, and no page with data.
    assert "/static/js/offline.js" in config["assets"]
    for asset in config["assets"]:
        assert client.get(asset).status_code == 200, asset
        assert asset.startswith("/static/")
    assert "ldn-shell-" in source and "{version}" not in source
    # The same worker for everyone (anonymous or not): nothing personal in it.
    assert client.get("/sw.js").content == response.content


def test_the_policy_lets_the_worker_and_manifest_come_from_this_site_only(client, alice):
    client.force_login(alice)
    header = client.get(reverse("diary:today"))["Content-Security-Policy"]
    assert "worker-src 'self'" in header and "manifest-src 'self'" in header
