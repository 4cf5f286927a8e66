from __future__ import annotations


def test_anonymous_visitors_see_what_the_app_is_for(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Low-Dose Naltrexone" in response.content


def test_each_role_lands_on_its_home(client, alice, carol, mona):
    client.force_login(alice)
    assert client.get("/")["Location"] == "/diary/"
    client.force_login(carol)
    assert client.get("/")["Location"] == "/clinic/"
    client.force_login(mona)
    assert client.get("/")["Location"] == "/groups/"
