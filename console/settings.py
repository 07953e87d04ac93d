"""Django settings. The only module that reads the environment (see console.config)."""

import os
from datetime import timedelta
from pathlib import Path

from console.config import Config

BASE_DIR = Path(__file__).resolve().parent.parent
CONFIG = Config.from_env(os.environ, BASE_DIR)

DEBUG = CONFIG.debug
SECRET_KEY = CONFIG.secret_key
ALLOWED_HOSTS = CONFIG.allowed_hosts
CSRF_TRUSTED_ORIGINS = CONFIG.csrf_trusted_origins

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "console",
    "tenants",
    "gateways",
    "routes",
]

MIDDLEWARE = [
    "console.health.HealthMiddleware",  # first: probes name the pod's address, which no allowed host lists
    "console.middleware.ServerTimingMiddleware",
    "console.middleware.RequestAddressMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "console.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "console.middleware.ClusterErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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
                "console.context_processors.navigation",
            ],
        },
    },
]

# Form widgets render with the project's templates too (the key/value editor).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

DATABASES = {"default": CONFIG.database}
if CONFIG.database["ENGINE"].endswith("sqlite3"):
    # Tests share their database with a Celery worker in another process, so the
    # SQLite test database is a file beside the development one, never in memory.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / ".state" / "test-db.sqlite3")}
    # WAL lets the web process read while a worker writes a status.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling: after 5 failed logins for one username from one address, that pair is
# locked out for 15 minutes (the login page and the API token endpoint alike).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
# 5 failures for a username from one address, 20 from one address whatever the usernames
# (console/authentication.py failure_limit).
AXES_FAILURES_PER_USERNAME = 5
AXES_FAILURES_PER_ADDRESS = 20
AXES_FAILURE_LIMIT = "console.authentication.failure_limit"
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Development serves static files from the app folders; production from collectstatic's output.
STATIC_ROOT = BASE_DIR / ".state" / "staticfiles" if CONFIG.production else None

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call answers 401 with a WWW-Authenticate header.
        "console.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "console.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "console.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["rest_framework.filters.SearchFilter", "rest_framework.filters.OrderingFilter"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "console.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kube Console API",
    "DESCRIPTION": "Workspaces, projects, gateways and routes of the multi-tenant Kubernetes console.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from the installed sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# Celery: tasks are idempotent reconciles, so they are acknowledged after they run
# and requeued when a worker dies mid-task; publishing fails fast when Redis is down
# because the periodic pass re-enqueues whatever is not in sync.
CELERY_BROKER_URL = CONFIG.redis_url
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
# Celery's Django fix-up closes the database connection after every task unless told to reuse it;
# a worker's tasks keep theirs as requests do (CONN_MAX_AGE, checked before reuse: console.celery).
CELERY_DB_REUSE_MAX = 1_000_000
CONSOLE_RESYNC_SECONDS = CONFIG.resync_seconds
CELERY_BEAT_SCHEDULE = {
    "resync": {"task": "console.reconcile.scheduled_resync", "schedule": float(CONSOLE_RESYNC_SECONDS)},
}

CLUSTER_SOURCE = CONFIG.cluster_source()
CLUSTER_TIMEOUT_SECONDS = CONFIG.cluster_timeout_seconds
SERVER_TIMING = CONFIG.server_timing
# Namespace names no project may take, besides the built-in list (tenants/validators.py).
CONSOLE_RESERVED_NAMESPACES = CONFIG.reserved_namespaces
# Whether a workspace admin may add a platform admin to their workspace (platform admins always may).
CONSOLE_TENANTS_MAY_ADD_PLATFORM_ADMINS = CONFIG.tenants_may_add_platform_admins
# How long an API token lasts; a password change or a disable revokes it sooner.
CONSOLE_TOKEN_DAYS = CONFIG.token_days
# Limits a platform sets (console/quotas.py), each from CONSOLE_QUOTA_<NAME>.
CONSOLE_QUOTAS = CONFIG.quotas

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "INFO"},
    "loggers": {"kubernetes": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}

# Each gateway flavor's controller image where the platform's registry serves it (gateways/flavors.py).
CONSOLE_FLAVOR_IMAGES = CONFIG.flavor_images
# The platform's domain: a project's new gateway gets <project>.<domain> as its default domain, and
# every name under <project>.<domain> is that project's alone (routes/hosts.py).
CONSOLE_DEFAULT_DOMAIN = CONFIG.default_domain

if CONFIG.https:
    # Reached over HTTPS, terminated in front of the console (an Ingress, a load balancer).
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
if CONFIG.production:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
