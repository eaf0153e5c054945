"""OneOnOne settings, read from the environment with safe local defaults.

Every variable is listed in README.md (section Configuration).
"""

from __future__ import annotations

import os
import warnings
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders import defaults as corsheaders_defaults
from django.core.exceptions import ImproperlyConfigured

from oneonone import keys

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from exc


DEBUG = env_bool("DJANGO_DEBUG", False)
# No key is written in the repository: without DJANGO_SECRET_KEY, one is generated on first use into a
# file outside it (DJANGO_SECRET_KEY_FILE), in development and tests too. See oneonone/keys.py.
SECRET_KEY = keys.django_secret_key(
    debug=DEBUG,
    require=env_bool("DJANGO_REQUIRE_SECRET_KEY", False),
    key_file=os.environ.get("DJANGO_SECRET_KEY_FILE", ""),
    repository=BASE_DIR,
)

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "delivery",
    "idempotency",
    "accounts",
    "contacts",
    "calendars",
    "invitations",
    "webhooks",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oneonone.middleware.CacheControlMiddleware",
    "oneonone.middleware.BodySizeLimitMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accounts.middleware.PasswordThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "oneonone.urls"
WSGI_APPLICATION = "oneonone.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Overrides of third-party templates (the ReDoc page without outside requests).
        "DIRS": [BASE_DIR / "oneonone" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite in a local file unless DATABASE_URL says otherwise (postgres://... uses psycopg 3).
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent connections buy nothing on SQLite and keep files open in tests.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # Concurrent writers wait their turn (up to 20 s) instead of failing with "database is locked":
            # a transaction takes the write lock when it begins (a deferred one that reads first cannot
            # wait for it: SQLite refuses the upgrade at once), and WAL lets reads go on during a write.
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    # A database that does not answer fails the request within seconds (503, see oneonone/exceptions.py)
    # instead of holding a worker until gunicorn kills it.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5))
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# PgBouncer in transaction pooling mode cannot keep a cursor open across transactions: no server-side
# cursors (only QuerySet.iterator() would open one), so the same settings work behind it (docs/deploy.md).
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# Throttle counters must be shared by every worker and server: the database cache
# by default (table created by `manage.py createcachetable`), Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A slow or lost Redis fails the request within a second instead of holding a worker.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "oneonone_cache",
        }
    }

# Background work (delivery/): Django's tasks API through its backport. The database backend by default,
# so a task is written in the transaction of the change that causes it and `manage.py worker` runs it;
# TASKS_BACKEND=redis runs them on RQ over REDIS_URL (docs/deploy.md, "The worker").
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database").strip().lower()
if TASKS_BACKEND == "database":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
elif TASKS_BACKEND == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=redis needs REDIS_URL")
    INSTALLED_APPS.append("django_rq")
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 60}}
else:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be database or redis, got {TASKS_BACKEND!r}")

AUTH_USER_MODEL = "accounts.User"
# Django's backend, with every password check counted by the login throttle (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.ThrottledModelBackend"]
# Argon2id at OWASP's minimum first (accounts/hashers.py). The others verify older hashes, which are
# rehashed with Argon2id at the user's next login: PBKDF2 hashes that migration accounts/0005 wrapped in
# Argon2id, and bare PBKDF2 ones written after it by an older release (docs/performance.md).
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "accounts.hashers.PBKDF2WrappedArgon2idPasswordHasher",
    "accounts.hashers.PBKDF2SHA1WrappedArgon2idPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# The docs' assets (Swagger UI, ReDoc) are served by the app itself, with no internet.
WHITENOISE_USE_FINDERS = True
# STATIC_ROOT exists only after collectstatic (Docker image); the finders serve without it.
warnings.filterwarnings("ignore", message="No directory at", module="whitenoise.base")
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "rest_framework:login"
LOGIN_REDIRECT_URL = "/calendars/"

# Bodies larger than this are refused with 413 by oneonone.middleware (nginx matches it).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)

CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
# Headers a frontend on another origin may read: how long to wait after a 429, a download's file name, the
# ETag of a polled read (to send back in If-None-Match, or in If-Match with a change; oneonone/etags.py).
CORS_EXPOSE_HEADERS = ["Retry-After", "Content-Disposition", "Idempotent-Replayed", "ETag"]
# django-cors-headers' defaults, the key that makes a write safe to send again (idempotency/), and the
# conditional headers a page sets itself (a browser's own revalidation needs no preflight).
CORS_ALLOW_HEADERS = (*corsheaders_defaults.default_headers, "idempotency-key", "if-none-match", "if-match")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Production hardening, switched on by DJANGO_SECURE (behind TLS).
if env_bool("DJANGO_SECURE", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # simplejwt's, its user read by a statement written once (accounts/authentication.py).
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's JSON renderer and its bytes, made by orjson (oneonone/renderers.py); the browsable API as before.
    "DEFAULT_RENDERER_CLASSES": [
        "oneonone.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "oneonone.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "oneonone.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "oneonone.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "oneonone.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        # The iCalendar feed (no login): calendar apps poll it about hourly (calendars/throttles.py).
        "feed_token": os.environ.get("FEED_TOKEN_THROTTLE_RATE", "60/hour"),
        "feed_address": os.environ.get("FEED_ADDRESS_THROTTLE_RATE", "600/hour"),
        "auth": os.environ.get("AUTH_THROTTLE_RATE", "10/min"),
        "register": os.environ.get("REGISTER_THROTTLE_RATE", "5/hour"),
        "email_resend": os.environ.get("EMAIL_RESEND_THROTTLE_RATE", "3/hour"),
        "account_export": os.environ.get("ACCOUNT_EXPORT_THROTTLE_RATE", "5/hour"),
        "account_delete": os.environ.get("ACCOUNT_DELETE_THROTTLE_RATE", "10/hour"),
    },
    # Clients connect directly unless a proxy is configured (see deploy/); a spoofed
    # X-Forwarded-For must not escape the login throttle.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": keys.jwt_signing_key(secret_key=SECRET_KEY, debug=DEBUG),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_CLAIM": "user_id",
    # simplejwt's access token, refused (401) when its user id claim is not an id.
    "AUTH_TOKEN_CLASSES": ("accounts.tokens.AccessToken",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "OneOnOne API",
    "DESCRIPTION": (
        "Group-meeting scheduler: create a calendar of candidate days, invite friends, "
        "mark availability, let the server rank the best times, and fix the meeting.\n\n"
        "Authenticate with `POST /auth/login/` and send `Authorization: Bearer <access>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its viewers are public, so generators and browsers can load them.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": False,
    "ENUM_NAME_OVERRIDES": {
        "ContactStatusEnum": "contacts.models.ContactStatus",
        "InvitationStatusEnum": "calendars.models.InvitationStatus",
        "InvitationEditStatusEnum": "invitations.serializers.InvitationAnswer",
        "SuggestionReasonCodeEnum": "calendars.serializers.SUGGESTION_REASON_CODES",
        "WebhookEventTypeEnum": "webhooks.models.EventType",
        "WebhookDeliveryStatusEnum": "webhooks.models.DeliveryStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "oneonone.schema.add_error_responses",
        "contacts.openapi.name_status_values",
        "calendars.openapi.require_timeslot_bodies",
    ],
    "SCHEMA_PATH_PREFIX": r"/",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING")},
}

# Console by default; SMTP once EMAIL_HOST is set (or any backend named by EMAIL_BACKEND).
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# Domain in iCalendar UIDs; calendar apps match updates by UID, so never change it after launch.
ICS_UID_DOMAIN = os.environ.get("ICS_UID_DOMAIN", "oneonone.local")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "OneOnOne <noreply@oneonone.local>")
# Confirming an address: the link mailed (a frontend page that POSTs the token to /auth/email/verify/), its lifetime.
EMAIL_VERIFY_URL = os.environ.get("EMAIL_VERIFY_URL", "http://127.0.0.1:8000/auth/email/verify/?token={token}")
EMAIL_VERIFY_HOURS = env_int("EMAIL_VERIFY_HOURS", 48)
# A monitor sending `X-Health-Token: <this>` reads the queues in GET /healthz/?detail=1 (staff always may).
HEALTH_DETAIL_TOKEN = os.environ.get("HEALTH_DETAIL_TOKEN", "")
# Every attempt of one notice to one recipient carries the same Message-ID, at this domain.
EMAIL_MESSAGE_ID_DOMAIN = os.environ.get("EMAIL_MESSAGE_ID_DOMAIN", ICS_UID_DOMAIN)
# Delivery (delivery/tasks.py): attempts, backoff, how long a worker may hold a message, the sweep.
EMAIL_MAX_ATTEMPTS = env_int("EMAIL_MAX_ATTEMPTS", 8)
EMAIL_RETRY_BASE_SECONDS = env_int("EMAIL_RETRY_BASE_SECONDS", 30)
EMAIL_RETRY_MAX_SECONDS = env_int("EMAIL_RETRY_MAX_SECONDS", 3600)
EMAIL_SEND_LEASE_SECONDS = env_int("EMAIL_SEND_LEASE_SECONDS", 300)
DELIVERY_SWEEP_SECONDS = env_int("DELIVERY_SWEEP_SECONDS", 60)
# How often the worker looks for passed deadlines whose notice did not go out at its moment.
DEADLINE_SWEEP_SECONDS = env_int("DEADLINE_SWEEP_SECONDS", 60)
# Idempotency-Key (idempotency/): how long a key is remembered, and how often the worker deletes older ones.
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)
IDEMPOTENCY_PURGE_SECONDS = env_int("IDEMPOTENCY_PURGE_SECONDS", 3600)
# Abuse caps (delivery/mail.py): emails an hour to one address, and caused by one user; the excess is dropped.
EMAIL_RECIPIENT_HOURLY_CAP = env_int("EMAIL_RECIPIENT_HOURLY_CAP", 10)
EMAIL_SENDER_HOURLY_CAP = env_int("EMAIL_SENDER_HOURLY_CAP", 60)
# Webhooks (webhooks/, docs/webhooks.md). Safety: https only unless WEBHOOK_ALLOW_HTTP (development and tests);
# hosts resolving to loopback, private, link-local... addresses are refused unless WEBHOOK_ALLOWED_HOSTS names
# them (host names, addresses or networks, comma-separated).
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS")
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
# Retries: full jitter up to base x 2^(attempt-1), capped, for about a day after the event.
WEBHOOK_RETRY_BASE_SECONDS = env_int("WEBHOOK_RETRY_BASE_SECONDS", 30)
WEBHOOK_RETRY_MAX_SECONDS = env_int("WEBHOOK_RETRY_MAX_SECONDS", 4 * 3600)
WEBHOOK_RETRY_WINDOW_SECONDS = env_int("WEBHOOK_RETRY_WINDOW_SECONDS", 24 * 3600)
# Deliveries failed for good in a row before the endpoint is disabled and its owner emailed.
WEBHOOK_DISABLE_AFTER_FAILURES = env_int("WEBHOOK_DISABLE_AFTER_FAILURES", 5)
WEBHOOK_SEND_LEASE_SECONDS = env_int("WEBHOOK_SEND_LEASE_SECONDS", 60)
WEBHOOK_SECRET_OVERLAP_HOURS = env_int("WEBHOOK_SECRET_OVERLAP_HOURS", 24)
WEBHOOK_DELIVERY_RETENTION_DAYS = env_int("WEBHOOK_DELIVERY_RETENTION_DAYS", 30)
