"""Settings for the test run: the real settings, with the environment a test process needs.

pytest-django imports this before any conftest, so the variables are set before
ldn_diary.settings parses them. Subprocess tests use ldn_diary.settings directly.
"""

from __future__ import annotations

import os

# Tests run with DEBUG off, like production; they need a key but never a real one.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-deployment")
# Hashed static names need collectstatic first; tests/core/test_static.py checks that path.
os.environ.setdefault("STATIC_PLAIN", "true")
os.environ.setdefault("SECURE_COOKIES", "false")
# The test client speaks plain HTTP; tests/core/test_deploy.py checks the HTTPS settings.
os.environ.setdefault("HTTPS", "false")
# With DEBUG off the settings insist on an SMTP server; the tests send mail to django's
# in-memory outbox instead (below), or to a local SMTP server of their own (test_mail.py).
os.environ.setdefault("EMAIL_HOST", "localhost")

from ldn_diary.settings import *  # noqa: E402, F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Fast hashing: password checks are not what the tests measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303
# The live server in browser tests serves static files straight from static/ (no collectstatic).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
