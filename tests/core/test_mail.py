"""Mail: with DEBUG off only a real SMTP server is accepted, and reset links arrive by SMTP."""

from __future__ import annotations

import asyncio
import queue
import re
import threading
from email import message_from_bytes

import pytest
from django.urls import reverse

from ..conftest import PASSWORD
from .test_settings import run_settings


def test_production_refuses_the_console_backend_that_printed_reset_links():
    for backend in ("console", "filebased", "locmem", "dummy"):
        result = run_settings(
            "s.EMAIL_BACKEND",
            DEBUG="false",
            SECRET_KEY="x",
            EMAIL_HOST="mail.example.org",
            EMAIL_BACKEND=f"django.core.mail.backends.{backend}.EmailBackend",
        )
        assert result.returncode != 0, backend
        assert "is refused when DEBUG is off" in result.stderr, backend


def test_production_needs_an_smtp_host():
    result = run_settings("s.EMAIL_BACKEND", DEBUG="false", SECRET_KEY="x", EMAIL_HOST="")
    assert result.returncode != 0
    assert "EMAIL_HOST must be set when DEBUG is off" in result.stderr


def test_production_with_an_smtp_host_starts_and_uses_smtp():
    result = run_settings(
        "(s.EMAIL_BACKEND, s.EMAIL_HOST)", DEBUG="false", SECRET_KEY="x", EMAIL_HOST="mailpit"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('django.core.mail.backends.smtp.EmailBackend', 'mailpit')"


def test_development_may_print_mail_to_the_console():
    result = run_settings("s.EMAIL_BACKEND", DEBUG="true", EMAIL_HOST="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.core.mail.backends.console.EmailBackend"


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free local port, in a thread; yields (port, inbox).

    The loop lives entirely in its own thread: the browser tests' Playwright keeps an event loop
    of its own in the test thread, where a second one cannot run. The port is handed over once the
    socket is bound; no timed wait anywhere (the suite must run under faketime).
    """
    from aiosmtpd.smtp import SMTP

    inbox = Inbox()
    loop = asyncio.new_event_loop()
    bound: queue.Queue[int | BaseException] = queue.Queue()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            server = loop.run_until_complete(
                loop.create_server(lambda: SMTP(inbox, hostname="ldn-test"), "127.0.0.1", 0)
            )
        except BaseException as exc:
            bound.put(exc)
            raise
        bound.put(server.sockets[0].getsockname()[1])
        loop.run_forever()
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = bound.get()
    if isinstance(port, BaseException):
        raise port
    yield port, inbox
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


def test_a_password_reset_arrives_by_smtp_with_a_working_link(client, alice, settings, smtp_server):
    port, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    response = client.post(reverse("accounts:password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["alice@example.org"]
    body = message.get_payload(decode=True).decode()
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", body).group(1)
    form_url = client.get(link)["Location"]
    new = "a brand new passphrase 42"
    assert client.post(form_url, {"new_password1": new, "new_password2": new}).status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new) and not alice.check_password(PASSWORD)


def test_reset_requests_are_limited_per_address_and_mails_per_email(client, alice):
    from django.core import mail

    url = reverse("accounts:password_reset")
    for _ in range(5):
        assert client.post(url, {"email": "alice@example.org"}).status_code == 302
    # Three mails an hour to one address, but the page answers the same.
    assert len(mail.outbox) == 3
    for _ in range(5):
        client.post(url, {"email": "nobody@example.org"})
    assert client.post(url, {"email": "alice@example.org"}).status_code == 429
    # Another client address is not affected.
    assert (
        client.post(url, {"email": "x@example.org"}, REMOTE_ADDR="198.51.100.3").status_code == 302
    )
