"""Django settings for LDN Diary.

Every value that differs between a laptop and a deployment comes from the environment, parsed
strictly by environs: a malformed value (``DEBUG=maybe``) stops start-up with an error instead of
silently meaning False. ``.env.example`` lists every variable read here.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from environs import Env, EnvError

BASE_DIR = Path(__file__).resolve().parent.parent

env = Env()
# A local .env is a convenience for development only; the real environment always wins.
env.read_env(BASE_DIR / ".env", recurse=False, override=False)


def _secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from NAME or from the file named by NAME_FILE (Docker/Kubernetes secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        try:
            return Path(file_path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise EnvError(f"{name}_FILE={file_path!r} cannot be read: {exc}") from exc
    return env.str(name, default=default)


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = _secret("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise EnvError(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set when DEBUG is off. "
            "For local development set DEBUG=true, or generate a key with: "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
    # Development only: a fixed, clearly-marked key so sessions survive restarts.
    SECRET_KEY = "dev-insecure-key-only-used-when-DEBUG-is-on"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ldn_diary.accounts",
    "ldn_diary.core",
    "ldn_diary.diary",
    "ldn_diary.questionnaires",
    "ldn_diary.trends",
    "ldn_diary.clinic",
    "ldn_diary.community",
    "ldn_diary.reminders",
]

MIDDLEWARE = [
    # First, so every later layer and the audit trail see the request's id.
    "ldn_diary.accounts.audit.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Static files are served here, before the middleware below, so they stay cacheable and
    # carry no session; every response that passes further down is marked no-store.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "ldn_diary.accounts.middleware.NoStoreMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions (the switcher's cookie), before common (its redirects use the language).
    # The reset wraps it, so a request's language never outlives the request in its thread.
    "ldn_diary.accounts.middleware.LanguageResetMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Idle and absolute session lifetimes, then the second factor, before any view runs.
    "ldn_diary.accounts.middleware.SessionLifetimeMiddleware",
    "ldn_diary.accounts.middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ldn_diary.accounts.middleware.PatientTimezoneMiddleware",
    "ldn_diary.accounts.middleware.UserLanguageMiddleware",
    # AxesMiddleware last, as django-axes documents, so it sees the authenticated user.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ldn_diary.urls"
WSGI_APPLICATION = "ldn_diary.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

# SQLite file in the project by default so the app runs on a machine with only Python;
# CI and deployments point DATABASE_URL at PostgreSQL.
# An empty DATABASE_URL counts as unset, like the broker below.
_database_url = env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(
            _database_url,
            conn_max_age=env.int("DB_CONN_MAX_AGE", default=60),
            conn_health_checks=True,
        )
    }
except ValueError as exc:
    raise EnvError(f"DATABASE_URL is not a valid database URL: {exc}") from exc
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the dev server read while in-process tasks write.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Login throttling (django-axes, ldn_diary.accounts.throttle) ------------------------------
# Failures are counted per client address and per account separately, each with its own limit
# and cool-off (ldn_diary.accounts.throttle.LoginThrottleHandler says why the account limit is
# higher than the address limit). The counters are axes' rows in the database.
AXES_HANDLER = "ldn_diary.accounts.throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_ACCOUNT_FAILURE_LIMIT = env.int("AXES_ACCOUNT_FAILURE_LIMIT", default=30)
if AXES_ACCOUNT_FAILURE_LIMIT <= AXES_FAILURE_LIMIT:
    raise EnvError(
        "AXES_ACCOUNT_FAILURE_LIMIT must be higher than AXES_FAILURE_LIMIT, so that one client "
        "address cannot lock somebody else's account."
    )
AXES_ADDRESS_COOLOFF = dt.timedelta(minutes=env.int("AXES_ADDRESS_COOLOFF_MINUTES", default=60))
AXES_ACCOUNT_COOLOFF = dt.timedelta(minutes=env.int("AXES_ACCOUNT_COOLOFF_MINUTES", default=15))
# Axes itself forgets failures older than the longer of the two.
AXES_COOLOFF_TIME = max(AXES_ADDRESS_COOLOFF, AXES_ACCOUNT_COOLOFF)
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
# A locked-out client's further attempts are refused without being counted, so they neither
# extend its own lockout nor count against the account it is trying.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_CLIENT_IP_CALLABLE = "ldn_diary.accounts.throttle.client_address"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Reverse proxies whose X-Forwarded-For is believed, as addresses or networks
# (e.g. "10.0.0.5,172.18.0.0/16"). Default: none, so the client is the TCP peer and a forged
# header changes nothing.
_trusted_proxies: list[str] = env.list("TRUSTED_PROXIES", default=[])
try:
    TRUSTED_PROXIES = [ipaddress.ip_network(item, strict=False) for item in _trusted_proxies]
except ValueError as exc:
    raise EnvError(f"TRUSTED_PROXIES: {exc}") from exc

# django-otp: a second factor for clinicians, moderators and administrators
# (ldn_diary.accounts.twofactor). Issuer shown in the authenticator app.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="LDN Diary")
# Re-authentication (the password again) is asked before 2FA changes older than this.
REAUTH_SECONDS = 10 * 60

LANGUAGE_CODE = "en-gb"
USE_I18N = True
# The languages a patient can read the app in (README "Languages"). A signed-in user's stored
# choice (User.language, activated by accounts.middleware.UserLanguageMiddleware) wins over the
# browser's Accept-Language, which LocaleMiddleware reads for everyone else.
LANGUAGES = [("en-gb", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True
TIME_ZONE = "UTC"
# Time zone given to new patients; "today" in the diary is the patient's own local date.
DEFAULT_PATIENT_TIME_ZONE = env.str("DEFAULT_PATIENT_TIME_ZONE", default="Europe/London")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if env.bool("STATIC_PLAIN", default=False)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_MAX_AGE = 31536000  # hashed names make long caching safe.

# --- Mail -------------------------------------------------------------------------------------
# Password-reset and sign-up mails carry one-time links that open an account. With DEBUG off they
# go only through a real SMTP server: start-up fails otherwise, so a link can never end up in a
# server log through the console backend. docker-compose.yml points this at Mailpit for the demo.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend" if DEBUG else SMTP_BACKEND,
)
EMAIL_HOST = env.str("EMAIL_HOST", default="")
if not DEBUG:
    if EMAIL_BACKEND != SMTP_BACKEND:
        raise EnvError(
            f"EMAIL_BACKEND={EMAIL_BACKEND!r} is refused when DEBUG is off: sign-up and password "
            f"reset mails carry one-time links and must go out by SMTP ({SMTP_BACKEND}), never "
            "into a log or a file. Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, "
            "EMAIL_HOST_PASSWORD, EMAIL_USE_TLS) to your mail server."
        )
    if not EMAIL_HOST:
        raise EnvError(
            "EMAIL_HOST must be set when DEBUG is off: sign-up and password reset mails go out "
            "through that SMTP server (see README 'Mail')."
        )
EMAIL_HOST = EMAIL_HOST or "localhost"
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = _secret("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="LDN Diary <no-reply@localhost>")

# --- Web Push (reminders) ----------------------------------------------------------------------
# VAPID keys sign the app's push messages (RFC 8292); `manage.py vapid_keys` makes a pair. With
# neither key set, reminders go by email only. The subject is a contact for push services:
# mailto:you@example.org or an https:// address.
VAPID_PUBLIC_KEY = env.str("VAPID_PUBLIC_KEY", default="")
VAPID_PRIVATE_KEY = _secret("VAPID_PRIVATE_KEY", default="") or ""
VAPID_SUBJECT = env.str("VAPID_SUBJECT", default="")
if bool(VAPID_PUBLIC_KEY) != bool(VAPID_PRIVATE_KEY):
    raise EnvError(
        "Set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (or VAPID_PRIVATE_KEY_FILE), or neither "
        "for reminders by email only. `python manage.py vapid_keys` prints a new pair."
    )
if VAPID_PUBLIC_KEY and not VAPID_SUBJECT.startswith(("mailto:", "https://")):
    raise EnvError(
        "VAPID_SUBJECT must be a contact for push services, mailto:you@example.org or an "
        f"https:// address; got {VAPID_SUBJECT!r}."
    )

# --- Sessions, cookies and headers --------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# HTTPS only, on by default with DEBUG off; HTTPS=false is for a deployment without TLS (the
# docker-compose demo on localhost, a private network), where the redirect, HSTS and secure
# cookies would lock browsers out.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=HTTPS)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# A session ends after 30 minutes without a request, and 12 hours after sign-in whatever
# happens (ldn_diary.accounts.middleware.SessionLifetimeMiddleware). The cookie and the stored
# session never outlive the absolute limit.
SESSION_IDLE_SECONDS = 30 * 60
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_SECONDS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=False) else None
)
SECURE_SSL_REDIRECT = HTTPS
# /healthz answers plain HTTP: load balancers and compose health checks call it directly.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 60 * 60) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
# "preload" in the header only makes the site eligible for browsers' preload lists; it is
# submitted there by hand, if ever.
SECURE_HSTS_PRELOAD = HTTPS

# Content-Security-Policy (django-csp). Scripts only from this site, never inline or eval'd:
# htmx's eval is off (templates/base.html, htmx-config) and the vendored plotly.js basic bundle
# uses no eval. Style elements need the request's nonce: the one inline style element is the
# empty sheet that plotly.js fills through the CSSOM (templates/base.html).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        # The service worker (/sw.js, offline entry and reminders' notifications) and the web
        # app manifest (/manifest.webmanifest) come from this site only.
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
# Features this app never uses, switched off for every page (django-permissions-policy).
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
}

# /healthz gives its detail (database, broker) only to callers on this machine or with this
# token (header X-Healthz-Token or ?token=); everyone else sees ok or error.
HEALTHZ_TOKEN = _secret("HEALTHZ_TOKEN", default="")

# --- Celery -----------------------------------------------------------------------------------
# Without a broker, tasks run in-process and eagerly, and their errors propagate to the caller,
# so the app works on a machine with only Python. With CELERY_BROKER_URL set (Redis), a worker
# and beat run them (see docker-compose.yml).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=15 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=14 * 60)
# Tasks are short; fetching one at a time keeps a slow task from holding others hostage.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# acks_late is switched on per task, only for idempotent ones (see ldn_diary/trends/tasks.py).
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_REJECT_ON_WORKER_LOST = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis redelivers an unacked message after the visibility timeout; it must exceed the longest
# task time limit or a long task would run twice.
# The retry settings are kombu's for opening a publishing connection: one immediate retry, so a
# diary save with the broker down waits ~0.1 s instead of kombu's default ~2 s of back-off
# before the outbox takes over (ldn_diary.trends.services.trends_enqueue).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 2 * 60 * 60,
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# Publishing to a dead broker must fail fast so a diary save never hangs on it.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_MAX_RETRIES = 0
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BEAT_SCHEDULE = {
    # Patients whose diary or the engine changed, fanned out as batch tasks to every worker.
    "nightly-recompute": {
        "task": "ldn_diary.trends.tasks.recompute_all",
        "schedule": crontab(hour=2, minute=30),
        "options": {"expires": 60 * 60 * 6},
    },
    # Everyone, once a week, in case anything was missed; unchanged results are not rewritten.
    "weekly-full-recompute": {
        "task": "ldn_diary.trends.tasks.recompute_everyone",
        "schedule": crontab(day_of_week="sunday", hour=3, minute=30),
        "options": {"expires": 60 * 60 * 6},
    },
    "sweep-recompute-outbox": {
        "task": "ldn_diary.trends.tasks.sweep_outbox",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
    # Unconfirmed CSV uploads expire after an hour (diary.models.IMPORT_STASH_TTL).
    "purge-import-stashes": {
        "task": "ldn_diary.diary.tasks.purge_import_stashes",
        "schedule": 10 * 60,
        "options": {"expires": 9 * 60},
    },
    # Reminders whose local time has come (ldn_diary.reminders.services.reminders_tick); each
    # is claimed before it is sent, so overlapping ticks never send one twice.
    "send-due-reminders": {
        "task": "ldn_diary.reminders.tasks.send_due_reminders",
        "schedule": 5 * 60,
        "options": {"expires": 4 * 60},
    },
}

# One cache for every process: Redis in a deployment (CACHE_URL), shared by all gunicorn workers
# so a roster computed once serves everyone and rate limits count every request. With no
# CACHE_URL (a laptop, the tests) each process keeps its own in memory. Everything the app
# caches goes through ldn_diary.caching, which works on, uncached, while Redis is down; the short
# timeouts keep a dead Redis from holding a request up.
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "ldn",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default configuration gives "django" handlers of its own (a console one with
        # DEBUG on) while it also propagates to ours, so runserver printed lines twice. Its
        # records go to the root's handler only (and still propagate, so tests' caplog sees them).
        "django": {"handlers": [], "level": LOG_LEVEL},
        "django.db.backends": {"level": "WARNING"},
        # Local development (dev.py up) stays readable: no "Task ... succeeded" line for each
        # of the demo's recomputes, no axes banner from every process (migrate, seed_demo and
        # both runserver processes), and, with tasks run in-process (no broker), no kombu
        # warning that the broker URL names no host. Production logs all three.
        **(
            {
                "celery.app.trace": {"level": "WARNING"},
                "axes.apps": {"level": "WARNING"},
                **({"kombu.connection": {"level": "ERROR"}} if CELERY_TASK_ALWAYS_EAGER else {}),
            }
            if DEBUG
            else {}
        ),
    },
}

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ldn_diary.settings")
