from __future__ import annotations

from django.core.management import call_command


def test_collectstatic_gives_hashed_compressed_vendored_assets(tmp_path, settings):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--no-input", verbosity=0)
    names = {p.name for p in (tmp_path / "vendor").iterdir()}
    assert any(
        n.startswith("htmx-2.0.11.min.") and n.endswith(".js") and n.count(".") == 4 for n in names
    )
    assert any(n.startswith("plotly-basic-4.1.1.min.") and n.endswith(".js.gz") for n in names)


def test_pages_load_no_external_scripts(client, db):
    html = client.get("/").content.decode()
    assert "<script" in html
    assert "http://" not in html.split("<body")[0] and "https://" not in html.split("<body")[0]
