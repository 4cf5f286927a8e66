"""Adherence counts only days with LDN: days before the first dose are not missed doses."""

from __future__ import annotations

from django.urls import reverse

from ldn_diary.clinic import presentation

from .conftest import days_ago, recompute, write_diary


def test_days_before_the_first_dose_are_not_missed_doses(client, alice, carol, today):
    # Logged every day for 20 days; LDN from 5 days ago, dose missed once since.
    write_diary(
        alice,
        start=days_ago(today, 5),
        first=-15,
        last=5,
        dose_taken=lambda n: "no" if n == 2 else "yes",
    )
    recompute(alice)
    (row,) = presentation.roster(carol).rows
    assert row.logged_14 == 14  # every day is a logged day...
    # ...but only the 5 days with LDN before today answer "did you take it?": 4 of 5.
    assert row.dose_adherence == 4 / 5
    dash = presentation.patient_dashboard(carol, alice)
    assert dash.dose_adherence_14 == row.dose_adherence

    client.force_login(carol)
    page = client.get(reverse("clinic:patient", args=[alice.uuid])).content.decode()
    assert "80 % of logged days on LDN" in page
    strip = {t["name"]: t for t in dash.figure["data"] if t.get("yaxis") == "y3"}
    assert strip["Dose not taken"]["x"] == [2]  # the one missed day, none before day 0
    assert strip["Dose partly taken"]["x"] == []
