"""Settings of Kartoteka, read from environment variables.

Everything an installation changes comes from the environment, so the same code runs the embedded
demo (SQLite under ``var/``) and a production PostgreSQL deployment:

- ``KARTOTEKA_DATA_DIR`` — where the SQLite database, uploaded files and the generated secret key
  live (default: ``var/`` in the working directory).
- ``DATABASE_URL`` — ``postgres://user:pass@host:5432/name`` to use PostgreSQL; SQLite otherwise.
- ``KARTOTEKA_SECRET_KEY`` — overrides the key generated on first start.
- ``KARTOTEKA_DEBUG`` — ``1`` turns debug on (off by default).
- ``KARTOTEKA_ALLOWED_HOSTS`` — comma-separated host names (default: localhost names).
- ``KARTOTEKA_TIME_ZONE`` — default ``Europe/Moscow``.
- ``KARTOTEKA_LANGUAGE`` — the interface language until a user picks another (``ru``/``en``).
- ``KARTOTEKA_WEBHOOK_RETRY_DELAYS`` — seconds between webhook attempts
  (``60,300,1800,7200,21600``);
  ``KARTOTEKA_WEBHOOK_ALLOW_PRIVATE`` — ``1`` lets every webhook call loopback/private addresses.
- ``KARTOTEKA_WEBFORM_MIN_SECONDS`` (``3``), ``KARTOTEKA_WEBFORM_RATE_PER_IP`` (``5`` in 10 min),
  ``KARTOTEKA_WEBFORM_RATE_PER_FORM`` (``200`` in 10 min) — spam guards of web forms;
  ``KARTOTEKA_CLIENT_IP_HEADER`` — behind a reverse proxy, the header with the visitor's address.
- ``KARTOTEKA_IMPORT_MAX_MB`` — the largest file an import accepts (default 512).
- ``KARTOTEKA_PG_BIN`` — the folder of ``pg_dump``/``pg_restore``/``psql`` for backups on
  PostgreSQL (default: ``/usr/lib/postgresql/<server major>/bin``, then ``PATH``).
- ``KARTOTEKA_HTTPS`` — ``1`` behind HTTPS: secure cookies, redirects to HTTPS, HSTS for
  ``KARTOTEKA_HSTS_SECONDS`` (default a year; ``0`` turns HSTS off).
- ``KARTOTEKA_IMPORT_SHEET_MB`` — the memory a spreadsheet's parse may take, estimated before it
  starts (default 256); a bigger sheet is refused (CSV has no such limit).
- ``KARTOTEKA_IMPORT_CHUNK`` — rows an import converts and commits together (default 5000).
- ``KARTOTEKA_JOB_LEASE_SECONDS`` — after how long without a heartbeat a background job run on
  another host counts as dead (default 600; on the same host a dead process is seen at once).
- ``KARTOTEKA_BASE_URL`` — the public address (``https://crm.example.ru``), for links in e-mails.
- ``EMAIL_HOST``/``EMAIL_PORT``/``EMAIL_HOST_USER``/``EMAIL_HOST_PASSWORD``/``EMAIL_USE_TLS``/
  ``DEFAULT_FROM_EMAIL`` — outgoing mail.
- ``KARTOTEKA_SMS_BACKEND`` (``console``, ``file``, ``smsru``, ``smsc``, ``smsaero``),
  ``KARTOTEKA_SMS_LOGIN``, ``KARTOTEKA_SMS_API_KEY``, ``KARTOTEKA_SMS_SENDER``,
  ``KARTOTEKA_SMS_URL``, ``KARTOTEKA_SMS_FILE``, ``KARTOTEKA_SMS_PRICE``,
  ``KARTOTEKA_SMS_OPT_OUT_TEXT`` — the SMS gateway (``kartoteka.sms.gateway``).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DATA_DIR = Path(os.environ.get("KARTOTEKA_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """Return the installation's secret key, generating and storing it on first start."""
    if os.environ.get("KARTOTEKA_SECRET_KEY"):
        return os.environ["KARTOTEKA_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = _env_bool("KARTOTEKA_DEBUG")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("KARTOTEKA_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("KARTOTEKA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "rest_framework",
    "drf_spectacular",
    "kartoteka.core",
    "kartoteka.tables",
    "kartoteka.records",
    "kartoteka.accounts",
    "kartoteka.access",
    "kartoteka.grids",
    "kartoteka.reports",
    "kartoteka.search",
    "kartoteka.imports",
    "kartoteka.crm",
    "kartoteka.notifications",
    "kartoteka.calendar",
    "kartoteka.web",
    "kartoteka.webforms",
    "kartoteka.webhooks",
    "kartoteka.api",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "kartoteka.profiles",
    "kartoteka.sms",
    "kartoteka.mailings",
    "kartoteka.documents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kartoteka.web.middleware.InstallationLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kartoteka.profiles.middleware.ProfileMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kartoteka.web.middleware.DomainErrorsMiddleware",
]

ROOT_URLCONF = "kartoteka.config.urls"
WSGI_APPLICATION = "kartoteka.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "kartoteka.web.context.navigation",
            ],
        },
    }
]


def _database() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        db.setdefault("TEST", {})
        return db
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(DATA_DIR / "kartoteka.sqlite3"),
        "OPTIONS": {
            # WAL lets readers work while one writer writes; IMMEDIATE takes the write lock at
            # BEGIN so concurrent writers queue instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "TEST": {"NAME": os.environ.get("KARTOTEKA_TEST_SQLITE") or None},
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Log-in protection (kartoteka.access.login): failures per account and per address within the
# lock period lock the log-in until they age out.
KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT = int(
    os.environ.get("KARTOTEKA_LOGIN_FAILURES_PER_ACCOUNT", 5)
)
KARTOTEKA_LOGIN_FAILURES_PER_IP = int(os.environ.get("KARTOTEKA_LOGIN_FAILURES_PER_IP", 20))
KARTOTEKA_LOGIN_LOCK_SECONDS = int(os.environ.get("KARTOTEKA_LOGIN_LOCK_SECONDS", 900))

# Two-factor log-in (kartoteka.profiles.twofactor): the issuer named in authenticator apps; wrong
# codes are counted by the log-in lock above, so django-otp's own throttle is off.
OTP_TOTP_ISSUER = os.environ.get("KARTOTEKA_OTP_ISSUER", "Картотека")
OTP_TOTP_THROTTLE_FACTOR = 0

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = os.environ.get("KARTOTEKA_LANGUAGE", "ru")
LANGUAGES = [("ru", _("Русский")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = os.environ.get("KARTOTEKA_TIME_ZONE", "Europe/Moscow")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = DATA_DIR / "media"
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 20000

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _env_bool("KARTOTEKA_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Browsers remember to come back over HTTPS only (HSTS), for a year unless
    # ``KARTOTEKA_HSTS_SECONDS`` says otherwise (``0``: no HSTS). Subdomains are those of the
    # CRM's own host name; ``preload`` only marks the header (a host is listed on request).
    SECURE_HSTS_SECONDS = int(os.environ.get("KARTOTEKA_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# The Content-Security-Policy of every page (django-csp): scripts and style sheets only from this
# site (no inline script, no eval: the templates carry none and htmx is configured without them),
# style attributes allowed (colours and widths computed per record), ``<style>`` elements only
# with the response's nonce (the invoice's print view), no framing. Uploaded files get a
# stricter policy of their own (``web/files.py``); the public web form page adds its redirect
# target to ``form-action``.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kartoteka@localhost")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kartoteka.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "kartoteka.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Картотека API",
    "DESCRIPTION": "REST API Картотеки: записи любой таблицы, действия таблиц, отчёты. "
    "Авторизация: заголовок «Authorization: Token <токен>».",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "kartoteka.api.schema.open_records",
    ],
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
KARTOTEKA_IMPORT_MAX_MB = int(os.environ.get("KARTOTEKA_IMPORT_MAX_MB", "512"))
# Backups on PostgreSQL: where pg_dump, pg_restore and psql are (kartoteka.backups.databases).
KARTOTEKA_PG_BIN = os.environ.get("KARTOTEKA_PG_BIN", "")
KARTOTEKA_IMPORT_SHEET_MB = int(os.environ.get("KARTOTEKA_IMPORT_SHEET_MB", "256"))
KARTOTEKA_IMPORT_CHUNK = int(os.environ.get("KARTOTEKA_IMPORT_CHUNK", "5000"))
KARTOTEKA_JOB_LEASE_SECONDS = int(os.environ.get("KARTOTEKA_JOB_LEASE_SECONDS", "600"))

# Webhooks: retry delays in seconds after each failed attempt; loopback/private targets for all.
WEBHOOK_RETRY_DELAYS = [
    int(s)
    for s in os.environ.get("KARTOTEKA_WEBHOOK_RETRY_DELAYS", "60,300,1800,7200,21600").split(",")
]
WEBHOOK_ALLOW_PRIVATE = _env_bool("KARTOTEKA_WEBHOOK_ALLOW_PRIVATE")
# Web forms: seconds a person needs at least to fill a form (the time trap), and rate limits
# as (submissions, seconds) per visitor's IP address and form, and per form.
WEBFORM_MIN_SECONDS = float(os.environ.get("KARTOTEKA_WEBFORM_MIN_SECONDS", "3"))
WEBFORM_RATE_PER_IP = (int(os.environ.get("KARTOTEKA_WEBFORM_RATE_PER_IP", "5")), 600)
WEBFORM_RATE_PER_FORM = (int(os.environ.get("KARTOTEKA_WEBFORM_RATE_PER_FORM", "200")), 600)
WEBFORM_MAX_BYTES = 64 * 1024
# Behind a reverse proxy: the header it puts the visitor's address in (e.g. X-Forwarded-For);
# the log-in lock, the web forms' rate limits and the audit log count by that address.
CLIENT_IP_HEADER = os.environ.get("KARTOTEKA_CLIENT_IP_HEADER", "")
KARTOTEKA_BASE_URL = os.environ.get("KARTOTEKA_BASE_URL", "").rstrip("/")
# The SMS gateway (kartoteka.sms.gateway); the settings page overrides what it fills in.
KARTOTEKA_SMS = {
    name: os.environ.get(f"KARTOTEKA_SMS_{name.upper()}", "")
    for name in ("backend", "login", "api_key", "sender", "url", "file", "price", "opt_out_text")
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KARTOTEKA_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
