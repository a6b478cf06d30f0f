"""FitBuddy settings, read from the environment through one django-environ `env`.

FITBUDDY_ENV is `local` (the default in a git checkout only), `test` or `production`. Local and test get working
defaults (PostgreSQL on localhost, login `fitbud`, databases `affiliate-mgt` and `fitbuddy-dev`);
production has no defaults for secrets. Settings that would fail silently are checked by
affiliates/checks.py.
"""

import datetime
import os
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# `local` by default only in a developer's checkout (a git work tree): an image or any other
# install must say which environment it is.
FITBUDDY_ENV = env.str("FITBUDDY_ENV", default="local" if (BASE_DIR / ".git").exists() else environ.Env.NOTSET)
if FITBUDDY_ENV not in {"local", "test", "production"}:
    raise environ.ImproperlyConfigured(f"FITBUDDY_ENV must be local, test or production, not {FITBUDDY_ENV!r}")
IS_PRODUCTION = FITBUDDY_ENV == "production"


def _dev_default(value: object) -> object:
    """A default that exists only outside production: production must set it explicitly."""
    return environ.Env.NOTSET if IS_PRODUCTION else value


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_dev_default("fitbuddy-local-not-a-secret"))
DEBUG = env.bool("DJANGO_DEBUG", default=FITBUDDY_ENV == "local")
ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=_dev_default([".localhost", "localhost", "127.0.0.1", "testserver"])
)

# HTTPS in production: TLS ends at the load balancer, which says so in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if IS_PRODUCTION else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=IS_PRODUCTION)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics$"]  # probed and scraped per instance
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = IS_PRODUCTION
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = IS_PRODUCTION
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
# Forms are posted from the gyms' and the command center's own HTTPS origins.
CSRF_TRUSTED_ORIGINS = env.list(
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    default=[f"https://*{h}" if h.startswith(".") else f"https://{h}" for h in ALLOWED_HOSTS] if IS_PRODUCTION else [],
)

# Apps: the management database's apps (django-tenants' SHARED_APPS) and the per-affiliate
# gym apps (TENANT_APPS), whose models the router sends to the current affiliate's database.
SHARED_APPS = [
    "affiliates.apps.CommandCenterAdminConfig",  # Django's admin, every model admin guarded (affiliates/admin_site.py)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "axes",
    "affiliates",
]
TENANT_APPS = [
    "gym.members",
    "gym.accounts",
    "gym.workouts",
    "gym.leaderboards",
    "gym.athletes",
    # Issue 21: classes (schedule, bookings, check-in).
    "gym.classes",
]
INSTALLED_APPS = SHARED_APPS + TENANT_APPS
DATABASE_ROUTERS = ["affiliates.routing.routers.AffiliateRouter"]

MIDDLEWARE = [
    "fitbuddy.logs.RequestLogMiddleware",  # a request id on every log line, first so that every line has it
    "fitbuddy.metrics.MetricsMiddleware",  # every request counted and timed, /healthz too
    "fitbuddy.health.HealthMiddleware",  # /healthz, /readyz: before host checks and HTTPS redirects
    "django.middleware.security.SecurityMiddleware",
    "fitbuddy.middleware.RejectNulInQueryMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "affiliates.routing.middleware.AffiliateMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "affiliates.people.sessions.SiteSessionMiddleware",  # a gym's session is no command-center session
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login
]

# Login throttling (django-axes) on both login pages: after AXES_FAILURE_LIMIT failures for one
# username from one address, that pair is locked for LOGIN_LOCKOUT_MINUTES.
# Staff log in on the command center's hosts (Django users, management database); a gym's people log in
# on its host by e-mail, against the gym's own database (gym.accounts). Each backend answers only on
# its own hosts.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "affiliates.people.backends.CommandCenterBackend",
    "gym.accounts.backends.GymLoginBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_CLIENT_IP_CALLABLE = "fitbuddy.middleware.client_ip"
# On a gym's host, attempts are counted under the gym and a keyed hash of the e-mail (no gym login's
# address in the management database, and a lockout at one gym is not one at another).
AXES_USERNAME_CALLABLE = "affiliates.people.throttle.axes_username"
AXES_VERBOSE = False

ROOT_URLCONF = "fitbuddy.urls"
WSGI_APPLICATION = "fitbuddy.wsgi.application"
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
                "gym.context_processors.gym_navigation",
            ],
        },
    },
]

# The schema Flyway creates and versions FitBuddy's tables in, in both kinds of database.
FLYWAY_SCHEMA = "master"

# The affiliate management database. FitBuddy's tables live in FLYWAY_SCHEMA (Flyway);
# Django's framework tables in `public` (Django's migrate).
MANAGEMENT_SEARCH_PATH = f"public,{FLYWAY_SCHEMA}"
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default=_dev_default("postgres://fitbud:password1@localhost:5432/affiliate-mgt"),
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
DATABASES["default"]["OPTIONS"].setdefault("options", f"-c search_path={MANAGEMENT_SEARCH_PATH}")
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
# A persistent connection is checked (SELECT 1) before a request reuses it, so a restarted
# PostgreSQL costs no request after it is back (affiliate aliases inherit this).
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_affiliate-mgt")}

# Logins (docs/security.md). DATABASE_URL is the process's own login to the management database:
# the web login (rows only) for web, worker and beat; the owner (Flyway, migrate) for the deploy step,
# `make start_local_database` and the test suite. `manage.py management_logins`, run as the owner,
# gives the web login its rights and the audit trail to AUDIT_OWNER_ROLE.
WEB_DATABASE_LOGIN = env.str("WEB_DATABASE_LOGIN", default="fitbud_web")
# Only to create the web login, or set its password, where the owner may (local development and
# compose); in production an administrator creates it and this stays empty.
WEB_DATABASE_PASSWORD = env.str("WEB_DATABASE_PASSWORD", default="" if IS_PRODUCTION else "password1-web")
AUDIT_OWNER_ROLE = env.str("AUDIT_OWNER_ROLE", default="fitbud_audit")
# The administrator login (CREATEDB, CREATEROLE) that database servers registered with
# `env:DATABASE_URL` (the management database's own server) are administered with: given to the
# worker and to operators' commands, never to the web process. Empty: DATABASE_URL's login.
PROVISIONING_DATABASE_URL = env.str("PROVISIONING_DATABASE_URL", default="")

# The local default affiliate's application database.
LOCAL_APPLICATION_DATABASE = env.str("LOCAL_APPLICATION_DATABASE", default="fitbuddy-dev")

# Flyway: the command (the launcher installed by `make flyway` unless an installation sets its
# own, e.g. FLYWAY_COMMAND="flyway" or a docker run line) and its connect retries.
FLYWAY_COMMAND = env.str("FLYWAY_COMMAND", default=str(BASE_DIR / "tools" / "flyway" / "flyway"))
FLYWAY_CONNECT_RETRIES = env.int("FLYWAY_CONNECT_RETRIES", default=5)
FLYWAY_TIMEOUT_SECONDS = env.int("FLYWAY_TIMEOUT_SECONDS", default=600)
# The fleet runner: Flyway's Java API for many databases in one JVM (tools/flyway/fleet).
FLYWAY_FLEET_COMMAND = env.str("FLYWAY_FLEET_COMMAND", default=str(BASE_DIR / "tools" / "flyway" / "fleet"))
# Fleet migrations: at most this many Flyway connections at once on one database server
# (``migrate_affiliates --parallel`` is capped by it), and how long a run waits for an affiliate
# that another operation (provisioning, suspend, archive) holds before recording it as busy.
FLEET_CONNECTIONS_PER_SERVER = env.int("FLEET_CONNECTIONS_PER_SERVER", default=8)
FLEET_LOCK_WAIT_SECONDS = env.int("FLEET_LOCK_WAIT_SECONDS", default=60)
# Most affiliates one fleet task (one JVM) works on; a larger wave takes several tasks. A task that
# reaches CELERY_TASK_SOFT_TIME_LIMIT stops its JVM and queues the rest of its batch again.
FLEET_BATCH_SIZE = env.int("FLEET_BATCH_SIZE", default=1000)
SQL_DIR = Path(env.str("FITBUDDY_SQL_DIR", default=str(BASE_DIR / "sql")))
SEEDS_DIR = BASE_DIR / "seeds"

# Provisioning: "template" clones a Flyway-migrated template database (then confirms its Flyway
# version); "flyway" creates an empty database and runs one Flyway migrate.
PROVISIONING_STRATEGY = env.str("PROVISIONING_STRATEGY", default="template")
PROVISIONING_TEMPLATE_DATABASE = env.str("PROVISIONING_TEMPLATE_DATABASE", default="fitbuddy_template")
# Bounded connections: each web/worker thread keeps at most this many affiliate connections open
# (least recently used closed first), each reused for up to AFFILIATE_CONN_MAX_AGE seconds.
AFFILIATE_CONNECTIONS_PER_THREAD = env.int("AFFILIATE_CONNECTIONS_PER_THREAD", default=8)
# Through a pooler the cap counts connections to the pooler, which multiplexes them onto a few
# server connections per affiliate database (PgBouncer's pool size): they cost the pooler a
# socket, not PostgreSQL a backend, so a thread keeps many more, and rarely pays a new login.
AFFILIATE_POOLED_CONNECTIONS_PER_THREAD = env.int("AFFILIATE_POOLED_CONNECTIONS_PER_THREAD", default=256)
# A process keeps at most this many affiliate aliases registered (least recently used dropped first):
# Django walks every alias at each request's start and end, so an alias per gym ever served would make
# every request slower as the fleet grows (affiliates/routing/connections.py).
AFFILIATE_ALIASES_PER_PROCESS = env.int("AFFILIATE_ALIASES_PER_PROCESS", default=256)
AFFILIATE_CONN_MAX_AGE = env.int("AFFILIATE_CONN_MAX_AGE", default=60)
# A connection pooler (PgBouncer, transaction pooling; RDS Proxy on AWS) in front of the management
# database's own server for affiliate connections, as HOST:PORT; other servers name theirs in the
# registry (database_server add --pooler). Empty: affiliate connections go straight to PostgreSQL.
DATABASE_POOLER = env.str("DATABASE_POOLER", default="")
# The login PgBouncer's auth_query runs as: provisioning lets it connect to each affiliate database.
POOLER_AUTH_USER = env.str("POOLER_AUTH_USER", default="pgbouncer_auth")
# PgBouncer's admin console login (tools/pgbouncer.sh puts it in admin_users): suspend and archive
# KILL the gym's pooled connections with it, so a request parked in the pool fails at once. Its
# password: POOLER_ADMIN_PASSWORD, else the file tools/pgbouncer.sh generates. No user: not used
# (RDS Proxy has no console).
POOLER_ADMIN_USER = env.str("POOLER_ADMIN_USER", default="" if IS_PRODUCTION else "pgbouncer_admin")
POOLER_ADMIN_PASSWORD = env.str("POOLER_ADMIN_PASSWORD", default="")
POOLER_ADMIN_PASSWORD_FILE = env.str(
    "POOLER_ADMIN_PASSWORD_FILE",
    default=""
    if IS_PRODUCTION
    else "/var/lib/fitbuddy/pgbouncer/admin-password"
    if os.geteuid() == 0  # where tools/pgbouncer.sh keeps it, as root and otherwise
    else str(BASE_DIR / ".local" / "pgbouncer" / "admin-password"),
)
# Hosts that serve the command center (Django admin) rather than a gym.
MANAGEMENT_HOSTS = env.list(
    "MANAGEMENT_HOSTS", default=_dev_default(["admin.localhost", "localhost", "127.0.0.1", "testserver"])
)
# How long a process reuses a host lookup at most. A routing change reaches every process at once
# through the routing stamp in Redis (affiliates/infra/routing_stamp.py); this bounds only what a
# lost stamp write could leave stale.
AFFILIATE_CACHE_SECONDS = env.int("AFFILIATE_CACHE_SECONDS", default=10)
# The routing stamp: how long a read or write may wait on Redis, how long a process then leaves
# Redis alone, and how long a host lookup lives meanwhile (the bound on stale routing while Redis is down).
ROUTING_STAMP_TIMEOUT = env.float("ROUTING_STAMP_TIMEOUT", default=0.25)
ROUTING_STAMP_RETRY_SECONDS = env.float("ROUTING_STAMP_RETRY_SECONDS", default=1.0)
ROUTING_FALLBACK_CACHE_SECONDS = env.float("ROUTING_FALLBACK_CACHE_SECONDS", default=1.0)
AFFILIATE_ROLE_CONNECTION_LIMIT = env.int("AFFILIATE_ROLE_CONNECTION_LIMIT", default=50)

# AWS (Secrets Manager for credentials; later RDS and S3). boto3 reads the usual AWS_* variables;
# AWS_ENDPOINT_URL points it at another endpoint (moto's server in tests).
AWS_REGION = env.str("AWS_REGION", default=env.str("AWS_DEFAULT_REGION", default="us-east-1"))
# TLS to database servers: "remote" (servers outside this machine; the production default),
# "always" or "off". Certificates are verified against DATABASE_CA_BUNDLE (for Aurora: the RDS CA
# bundle), and only SCRAM password authentication is accepted (never a cleartext password).
DATABASE_TLS = env.str("DATABASE_TLS", default="remote" if IS_PRODUCTION else "off")
DATABASE_SSLMODE = env.str("DATABASE_SSLMODE", default="verify-full")
DATABASE_CA_BUNDLE = env.str("DATABASE_CA_BUNDLE", default="")
# Affiliate role passwords: "derived" from DJANGO_SECRET_KEY (local and test), or "secretsmanager"
# (a random password per affiliate in its own Secrets Manager secret; the production default).
AFFILIATE_CREDENTIALS = env.str("AFFILIATE_CREDENTIALS", default="secretsmanager" if IS_PRODUCTION else "derived")
# How long a resolved secret (an admin login, a role password) is reused before it is fetched again.
SECRET_CACHE_SECONDS = env.int("SECRET_CACHE_SECONDS", default=300)

REDIS_URL = env.str("REDIS_URL", default=_dev_default("redis://localhost:6379/0"))
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=900)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=840)
# Redis redelivers an unacknowledged task after this: it must outlast the time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
# Enqueueing fails fast when Redis is unreachable (a few seconds, not Celery's 20 s of retries):
# the caller says so in one line, and the reconciler queues the work once Redis is back.
QUEUE_CONNECT_TIMEOUT = env.float("QUEUE_CONNECT_TIMEOUT", default=2.0)
_QUEUE_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_BROKER_CONNECTION_TIMEOUT = QUEUE_CONNECT_TIMEOUT
CELERY_TASK_PUBLISH_RETRY_POLICY = _QUEUE_RETRY_POLICY
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = QUEUE_CONNECT_TIMEOUT
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": _QUEUE_RETRY_POLICY}
# The reconciler (a beat task every RECONCILE_EVERY_SECONDS, and manage.py reconcile_affiliates)
# queues again affiliates and migration runs left unfinished, unlocked and untouched for longer
# than RECONCILE_AFTER_SECONDS: a message that never left, or one lost with Redis.
RECONCILE_AFTER_SECONDS = env.int("RECONCILE_AFTER_SECONDS", default=300)
RECONCILE_EVERY_SECONDS = env.float("RECONCILE_EVERY_SECONDS", default=60)
# Moving a gym to another server (affiliates/operations/move.py, docs/moving-gyms.md): the write pause's
# deadline (requests wait for it to end, MOVE_REQUEST_WAIT_SECONDS at most, then get a 503 saying
# "try again"), how long running requests get to finish before the source stops taking logins, how
# long the initial copy and the last catch-up may take, and how many attempts a move gets.
MOVE_PAUSE_SECONDS = env.float("MOVE_PAUSE_SECONDS", default=30)
MOVE_REQUEST_WAIT_SECONDS = env.float("MOVE_REQUEST_WAIT_SECONDS", default=10)
MOVE_QUIET_SECONDS = env.float("MOVE_QUIET_SECONDS", default=2)
MOVE_QUIET_WINDOW_SECONDS = env.float("MOVE_QUIET_WINDOW_SECONDS", default=0.1)
MOVE_COPY_SECONDS = env.float("MOVE_COPY_SECONDS", default=3600)
MOVE_CATCH_UP_SECONDS = env.float("MOVE_CATCH_UP_SECONDS", default=20)
MOVE_ATTEMPTS = env.int("MOVE_ATTEMPTS", default=3)

CELERY_BEAT_SCHEDULE = {
    "reconcile": {"task": "affiliates.tasks.reconcile_task", "schedule": RECONCILE_EVERY_SECONDS},
}
# The staff audit chain's head is shipped to this S3 bucket (created with Object Lock enabled; each
# head kept in COMPLIANCE mode for AUDIT_ANCHOR_RETENTION_DAYS) every AUDIT_ANCHOR_EVERY_SECONDS, and
# `manage.py audit_verify` compares the chain with every head shipped (docs/security-audit.md).
AUDIT_ANCHOR_BUCKET = env.str("FITBUDDY_AUDIT_ANCHOR_BUCKET", default="")
AUDIT_ANCHOR_RETENTION_DAYS = env.int("AUDIT_ANCHOR_RETENTION_DAYS", default=400)
AUDIT_ANCHOR_EVERY_SECONDS = env.float("AUDIT_ANCHOR_EVERY_SECONDS", default=300)
if AUDIT_ANCHOR_BUCKET:
    CELERY_BEAT_SCHEDULE["audit_head_ship"] = {
        "task": "affiliates.tasks.audit_head_ship_task",
        "schedule": AUDIT_ANCHOR_EVERY_SECONDS,
    }
# Each gym's load (docs/operations.md#load): its database's size, connections, transactions and rows
# changed, read from every database server's statistics every LOAD_COLLECT_EVERY_SECONDS (a beat
# task; also manage.py collect_load). A server's statement may run LOAD_COLLECT_TIMEOUT_SECONDS; the
# daily history is kept LOAD_HISTORY_DAYS days.
LOAD_COLLECT_EVERY_SECONDS = env.float("LOAD_COLLECT_EVERY_SECONDS", default=900)
LOAD_COLLECT_TIMEOUT_SECONDS = env.float("LOAD_COLLECT_TIMEOUT_SECONDS", default=60)
LOAD_HISTORY_DAYS = env.int("LOAD_HISTORY_DAYS", default=35)
CELERY_BEAT_SCHEDULE["load_collect"] = {
    "task": "affiliates.tasks.load_collect_task",
    "schedule": LOAD_COLLECT_EVERY_SECONDS,
}
# Placement weighs each gym: PLACEMENT_WEIGHT_BASE, plus PLACEMENT_WEIGHT_PER_GB per GB (10^9 bytes)
# of its database, plus PLACEMENT_WEIGHT_PER_1K_XACTS_DAY per 1,000 transactions a day; a new gym goes
# to the accepting server with room whose gyms weigh least (affiliates/operations/placement.py).
PLACEMENT_WEIGHT_BASE = env.float("PLACEMENT_WEIGHT_BASE", default=1.0)
PLACEMENT_WEIGHT_PER_GB = env.float("PLACEMENT_WEIGHT_PER_GB", default=4.0)
PLACEMENT_WEIGHT_PER_1K_XACTS_DAY = env.float("PLACEMENT_WEIGHT_PER_1K_XACTS_DAY", default=0.5)

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": f"fitbuddy-{FITBUDDY_ENV}",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"

# Mail (password links): the console locally, SMTP in production (Amazon SES through its SMTP
# interface: EMAIL_HOST=email-smtp.<region>.amazonaws.com with SMTP credentials).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.smtp.EmailBackend"
    if IS_PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587 if IS_PRODUCTION else 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=IS_PRODUCTION)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="FitBuddy <no-reply@fitbuddy.localhost>")
# Where a gym is reached, for links in mail sent outside a request (an invitation from the worker).
GYM_BASE_URL = env.str("GYM_BASE_URL", default="https://{domain}" if IS_PRODUCTION else "http://{domain}:8000")
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# django-tenants vocabulary, used as a library (docs/architecture.md): its model bases and host
# parsing, not its schema-switching backend.
TENANT_MODEL = "affiliates.Affiliate"
TENANT_DOMAIN_MODEL = "affiliates.Domain"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"  # `manage.py collectstatic` fills it for production
# Outside production, WhiteNoise serves straight from the apps' static folders.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not IS_PRODUCTION
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

BACKUP_DIR = Path(env.str("FITBUDDY_BACKUP_DIR", default=str(BASE_DIR / "backups")))
# Backups go to this S3 bucket (key affiliates/<slug>/<UTC time>.dump) when set; else to BACKUP_DIR.
BACKUP_BUCKET = env.str("FITBUDDY_BACKUP_BUCKET", default="")
# Backups in S3 are encrypted at rest by S3: AES256 (S3-managed keys) or aws:kms (a KMS key:
# BACKUP_S3_KMS_KEY_ID, or the account's aws/s3 key when empty). Never unencrypted.
BACKUP_S3_ENCRYPTION = env.str("BACKUP_S3_ENCRYPTION", default="AES256")
BACKUP_S3_KMS_KEY_ID = env.str("BACKUP_S3_KMS_KEY_ID", default="")

# --- Nightly backups, retention and the restore drill (docs/operations.md#backups) ---
# Every active gym is backed up once a night inside this window (UTC), its slot spread evenly over
# the window among the gyms of its database server; beat looks for due gyms every
# BACKUP_SCHEDULE_EVERY_SECONDS and does not queue a gym again within BACKUP_QUEUED_TTL_SECONDS.
BACKUP_WINDOW_START_HOUR = env.int("BACKUP_WINDOW_START_HOUR", default=1)
BACKUP_WINDOW_HOURS = env.float("BACKUP_WINDOW_HOURS", default=4)
BACKUP_SCHEDULE_EVERY_SECONDS = env.float("BACKUP_SCHEDULE_EVERY_SECONDS", default=300)
BACKUP_QUEUED_TTL_SECONDS = env.int("BACKUP_QUEUED_TTL_SECONDS", default=1800)
# Retention (grandfather-father-son): how many daily, weekly and monthly backups each gym keeps.
BACKUP_KEEP_DAILY = env.int("BACKUP_KEEP_DAILY", default=7)
BACKUP_KEEP_WEEKLY = env.int("BACKUP_KEEP_WEEKLY", default=4)
BACKUP_KEEP_MONTHLY = env.int("BACKUP_KEEP_MONTHLY", default=12)
# An active gym whose last good backup is older than this is flagged late in the command center.
BACKUP_LATE_HOURS = env.float("BACKUP_LATE_HOURS", default=26)
# The server the weekly restore drill restores into (a registered server's name); empty: the gym's own.
BACKUP_DRILL_SERVER = env.str("BACKUP_DRILL_SERVER", default="")
_BACKUP_WINDOW_END = (BACKUP_WINDOW_START_HOUR + int(BACKUP_WINDOW_HOURS) + 1) % 24
CELERY_BEAT_SCHEDULE["backup_schedule"] = {
    "task": "affiliates.tasks.backup_schedule_task",
    "schedule": BACKUP_SCHEDULE_EVERY_SECONDS,
}
CELERY_BEAT_SCHEDULE["backup_prune"] = {
    "task": "affiliates.tasks.backup_prune_task",
    "schedule": crontab(minute=15, hour=_BACKUP_WINDOW_END),
}
CELERY_BEAT_SCHEDULE["backup_drill"] = {
    "task": "affiliates.tasks.backup_drill_task",
    "schedule": crontab(minute=45, hour=_BACKUP_WINDOW_END, day_of_week="mon"),
}

# Error pages (DEBUG) and error mails show no password, secret or conninfo, in settings, request
# metadata or a traceback's local variables (fitbuddy/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "fitbuddy.error_reports.SecretsFilter"

# Logs (docs/observability.md): one JSON object a line in production (LOG_FORMAT=json), readable text
# elsewhere; every line carries the request id and the gym's slug (fitbuddy/logs.py), and passwords are
# cleansed from messages and tracebacks. ACCESS_LOG: one line per request (fitbuddy.access).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if IS_PRODUCTION else "text")
ACCESS_LOG = env.bool("ACCESS_LOG", default=LOG_FORMAT == "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "fitbuddy.logs.ContextFilter"}, "secrets": {"()": "fitbuddy.logs.ScrubSecrets"}},
    "formatters": {
        "json": {"()": "fitbuddy.logs.JsonLines"},
        "plain": {"()": "fitbuddy.logs.Text", "format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["context", "secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # boto3 announces every endpoint and credential lookup at INFO.
    "loggers": {
        **{name: {"level": "WARNING"} for name in ("botocore", "boto3", "s3transfer", "urllib3", "axes")},
        "fitbuddy.access": {"level": "INFO" if ACCESS_LOG else "WARNING"},
    },
}

# Prometheus (docs/observability.md): /metrics on the command center's hosts, with
# `Authorization: Bearer <METRICS_TOKEN>`. Empty: /metrics is a 404 (in DEBUG, answered to this machine only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
