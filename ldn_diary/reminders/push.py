"""Web Push through pywebpush: VAPID-signed (RFC 8292), payload encrypted for the browser
(aes128gcm, RFC 8291), so the push service in between sees neither the text nor the link.

Keys come from the environment (``VAPID_PUBLIC_KEY``, ``VAPID_PRIVATE_KEY`` or
``VAPID_PRIVATE_KEY_FILE``, ``VAPID_SUBJECT``; ``manage.py vapid_keys`` makes a pair). Without
them push is off: reminders go by email only and the settings page does not offer it.
"""

from __future__ import annotations

import enum
import json
import logging
from functools import cache

from django.conf import settings
from py_vapid import Vapid

log = logging.getLogger(__name__)

# A reminder older than this is no use: the push service drops it rather than deliver it late.
TTL_SECONDS = 12 * 60 * 60
TIMEOUT_SECONDS = 10


class Outcome(enum.Enum):
    SENT = "sent"
    GONE = "gone"  # 404/410: the browser dropped the subscription; delete it
    FAILED = "failed"  # anything else: try again with the next reminder


def configured() -> bool:
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


@cache
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key=private_key)


def send(
    *, endpoint: str, p256dh: str, auth: str, payload: dict[str, str], patient_id: int
) -> Outcome:
    """Send one notification to one browser. Never raises; logs the patient's id only (the
    endpoint is a capability URL and the payload a health-related message)."""
    if not configured():
        return Outcome.FAILED
    # Imported here: pywebpush loads aiohttp (about 0.4 s), which only the reminder tick needs.
    from pywebpush import WebPushException, webpush

    try:
        webpush(
            subscription_info={"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}},
            data=json.dumps(payload),
            vapid_private_key=_vapid(settings.VAPID_PRIVATE_KEY),
            # A fresh dict each time: pywebpush writes "aud" and "exp" into it.
            vapid_claims={"sub": settings.VAPID_SUBJECT},
            ttl=TTL_SECONDS,
            timeout=TIMEOUT_SECONDS,
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            return Outcome.GONE
        log.warning("Push to a device of patient %s failed (HTTP %s).", patient_id, status)
        return Outcome.FAILED
    except Exception as exc:  # a connection error, a malformed key: never stop the tick
        log.warning("Push to a device of patient %s failed (%s).", patient_id, type(exc).__name__)
        return Outcome.FAILED
    return Outcome.SENT
