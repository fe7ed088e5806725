"""ICHLabel settings, read from the environment (12-factor).

With nothing set, ICHLabel runs on its embedded defaults: SQLite, files on local disk and a
filesystem Celery broker, all kept under one data directory (``var/`` in the project folder
unless ``ICHLABEL_DATA_DIR`` says otherwise). ``DATABASE_URL``, ``CELERY_BROKER_URL`` and the
storage variables override parts. ``ichlabel.settings_production`` hardens this profile.
"""

import json
import os
import secrets
from pathlib import Path

import dj_database_url

from annotations import vocabulary

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("ICHLABEL_DATA_DIR", BASE_DIR / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _installation_secret(name: str, env_name: str) -> str:
    """A secret from the environment, or one generated once and kept in the data directory.

    Kept on disk so that a rerun of the app (and the worker beside it) sees the same value:
    the de-identification key must never change under an installation, or UIDs and
    pseudonyms would stop matching across imports.
    """
    if os.environ.get(env_name):
        return os.environ[env_name]
    path = DATA_DIR / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _installation_secret("secret_key", "SECRET_KEY")
# Keyed UID remapping, patient pseudonyms and date shifts all derive from this secret.
DEID_SECRET = _installation_secret("deid_secret", "ICHLABEL_DEID_SECRET")
# The Ed25519 key that signs model builds (a PEM file, made on first use when absent): outside
# the database and the repository; inference nodes pin its public key.
BUILD_SIGNING_KEY_FILE = Path(
    os.environ.get("ICHLABEL_BUILD_SIGNING_KEY_FILE", DATA_DIR / "build_signing_key.pem")
)
# How long a build stays valid for the nodes (days), unless its request says otherwise.
BUILD_VALID_DAYS = int(os.environ.get("ICHLABEL_BUILD_VALID_DAYS", "180"))
# An inference node silent this long is reported as not heart-beating.
NODE_HEARTBEAT_TIMEOUT_S = int(os.environ.get("ICHLABEL_NODE_HEARTBEAT_TIMEOUT_S", "300"))

DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "annotations",
    "modelops",
    "modelops.reader_study.apps.ReaderStudyConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A query key an API view does not declare is a 400 (ichlabel/query_keys.py).
    "ichlabel.query_keys.ApiQueryKeysMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "ichlabel.urls"
WSGI_APPLICATION = "ichlabel.wsgi.application"
ASGI_APPLICATION = "ichlabel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ichlabel" / "templates"],
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

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{DATA_DIR / 'ichlabel.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded web server and worker share one SQLite file: WAL lets readers go on while
    # a writer commits, and IMMEDIATE transactions queue writers instead of failing them.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "ichlabel" / "static"]

# Stored DICOM, uploads waiting for import and quarantined series. django-storages can take
# the "default" store (ICHLABEL_STORAGE_BACKEND=storages.backends.s3.S3Storage plus its
# AWS_* variables); uploads and quarantine stay on local disk because the worker reads them.
MEDIA_ROOT = Path(os.environ.get("ICHLABEL_STORAGE_DIR", DATA_DIR / "store")).resolve()
UPLOAD_DIR = DATA_DIR / "uploads"
QUARANTINE_DIR = DATA_DIR / "quarantine"
STORAGES = {
    "default": {
        "BACKEND": os.environ.get(
            "ICHLABEL_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"
        ),
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage",
    },
}
DATA_UPLOAD_MAX_NUMBER_FILES = 20000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# One cache shared by every process of the installation: the failed-login and token counters
# (ichlabel.throttling) must hold across the web server's workers. The embedded default is a
# folder of files under the data directory; ICHLABEL_CACHE_URL=redis://... moves it to Redis (a
# database of its own: clearing the cache must never touch the broker's queues).
CACHE_URL = os.environ.get("ICHLABEL_CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(DATA_DIR / "cache"),
            # Past MAX_ENTRIES the cache drops a third of its entries at random: an attacker
            # spraying names must not be able to push a lock-out out of it.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# Failed log-ins and token guesses (ichlabel.throttling). An account is locked after
# LOGIN_FAILURES_PER_ACCOUNT failed log-ins within AUTH_FAILURE_WINDOW_S, a client address after
# AUTH_FAILURES_PER_ADDRESS failed log-ins or token guesses; a lock lasts AUTH_LOCKOUT_S.
# Behind a reverse proxy, AUTH_TRUSTED_PROXIES says how many of them append to X-Forwarded-For
# (0: the address is the socket's peer, and a client cannot pick its own).
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("ICHLABEL_LOGIN_FAILURES_PER_ACCOUNT", "5"))
AUTH_FAILURES_PER_ADDRESS = int(os.environ.get("ICHLABEL_AUTH_FAILURES_PER_ADDRESS", "20"))
AUTH_FAILURE_WINDOW_S = int(os.environ.get("ICHLABEL_AUTH_FAILURE_WINDOW_S", "900"))
AUTH_LOCKOUT_S = int(os.environ.get("ICHLABEL_AUTH_LOCKOUT_S", "900"))
AUTH_TRUSTED_PROXIES = int(os.environ.get("ICHLABEL_AUTH_TRUSTED_PROXIES", "0"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's token authentication, refusing an address that keeps sending unknown tokens.
        "ichlabel.throttling.ThrottledTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "ichlabel.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ICHLabel API",
    "DESCRIPTION": "Head-CT hemorrhage labeling, ground truth and model operations.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's assets come from the sidecar package: the app never loads a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The ``id`` path converter (ichlabel/converters.py) is an integer, as ``int`` was.
    "PATH_CONVERTER_OVERRIDES": {"id": int},
    # Every operation documents the API's error shape (ichlabel/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ichlabel.schema.error_responses",
    ],
    # Fields named `status` carry different choices: each set gets the name of its choices
    # class, which the frontend's generated types (frontend/src/generated/api.ts) then use.
    "ENUM_NAME_OVERRIDES": {
        "JobStatusEnum": "annotations.models.JobStatus",
        "ReadStatusEnum": "annotations.models.ReadStatus",
        "ModelStatusEnum": "modelops.models.ModelStatus",
        "AdjudicationStatusEnum": "annotations.models.AdjudicationStatus",
        "SaliencyMethodEnum": "modelops.models.SaliencyMethod",
        "SplitEnum": "annotations.models.Split",
        "KindEnum": "annotations.models.ReadKind",
        "ReaderStudyModalityEnum": "modelops.reader_study.models.Modality",
        "ReaderStudyStatusEnum": "modelops.reader_study.models.StudyStatus",
    },
}

# Celery: the embedded default is kombu's filesystem transport, so the app and its worker
# need no broker server. Production points CELERY_BROKER_URL at Redis.
BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Without it kombu keeps its broadcast exchanges in ./control of the working directory.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Three kinds of worker, so that short work never waits behind long work: ``ingest`` runs DICOM
# imports (minutes each), ``train`` snapshot builds, training and saliency, and ``default`` the
# periodic checks (beat) and any short task; a worker of its own serves each (scripts/run,
# docker-compose.yml). Every task is routed by name; tests/annotations/ingest/test_queues.py
# holds every registered task to its queue.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "annotations.tasks.*": {"queue": "ingest"},
    # The jobs recovery (every 30 s) must run while every ingest and train worker is busy.
    "ichlabel.jobs.tasks.*": {"queue": "default"},
    # Snapshots are built where training reads them: on the training workers.
    "modelops.tasks.snapshot_build": {"queue": "train"},
    "modelops.tasks.training_run_execute": {"queue": "train"},
    # Saliency maps run the model: on the training workers too.
    "modelops.tasks.saliency_run_execute": {"queue": "train"},
    "modelops.tasks.scan_saliency_execute": {"queue": "train"},
    "modelops.tasks.scan_scoring_execute": {"queue": "train"},
    "modelops.tasks.model_build_execute": {"queue": "train"},
}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)

# What an import may expand to (annotations.dicom.archives), judged from sizes and zip
# directories before anything is decompressed: a file or zip member uncompressed (a CT slice
# is ~0.5 MB), a batch uncompressed (a head CT series is a few hundred MB), and the ratio of
# uncompressed to compressed size of a member, an archive and a batch (CT deflates 2-4:1; a zip
# bomb 1000:1). An upload past the batch's total or ratio is refused whole; a file or member past
# its limit is refused in the import's report. The command line has no batch total.
IMPORT_MAX_FILE_BYTES = int(os.environ.get("ICHLABEL_IMPORT_MAX_FILE_BYTES", str(64 * 1024**2)))
IMPORT_MAX_BATCH_BYTES = int(os.environ.get("ICHLABEL_IMPORT_MAX_BATCH_BYTES", str(4 * 1024**3)))
IMPORT_MAX_COMPRESSION_RATIO = float(os.environ.get("ICHLABEL_IMPORT_MAX_COMPRESSION_RATIO", "100"))

# Window presets of the reading view (annotations.vocabulary.WINDOW_PRESETS: the paper's three
# windows, then brain, subdural and bone). A site may replace them with ICHLABEL_WINDOW_PRESETS
# (JSON, the same shape); the settings check holds them to the vocabulary's rules.
WINDOW_PRESETS = json.loads(
    os.environ.get("ICHLABEL_WINDOW_PRESETS", json.dumps(list(vocabulary.WINDOW_PRESETS)))
)


# Long jobs (ichlabel.jobs: import batches, snapshot builds, training runs) share these.
# A worker holding a job stamps its heartbeat every JOBS_HEARTBEAT_INTERVAL_S, also inside a
# long step; a job silent for JOBS_HEARTBEAT_TIMEOUT_S is taken for dead: the periodic recovery
# (every 30 s) resumes it on another worker if it can (training runs, from their checkpoint, up
# to JOBS_MAX_ATTEMPTS tries) or fails it. A main thread that made no progress for
# JOBS_STALL_TIMEOUT_S stops the heartbeats (it is hung). A queued job no worker has taken for
# JOBS_REQUEUE_PENDING_S is queued again (its message may be lost). A retriable error (I/O,
# network) puts the job back in the queue after JOBS_RETRY_BACKOFF_S, doubled at each try and
# at most JOBS_RETRY_BACKOFF_MAX_S, within JOBS_MAX_ATTEMPTS tries. Progress is written at most
# once per JOBS_PROGRESS_INTERVAL_S. The ICHLABEL_MODELOPS_* names of earlier releases still work.
def _env_number(name: str, default: str, *, old: str = "") -> float:
    return float(os.environ.get(name) or (os.environ.get(old) if old else None) or default)


JOBS_HEARTBEAT_INTERVAL_S = _env_number("ICHLABEL_JOBS_HEARTBEAT_INTERVAL_S", "5")
JOBS_HEARTBEAT_TIMEOUT_S = int(
    _env_number(
        "ICHLABEL_JOBS_HEARTBEAT_TIMEOUT_S", "60", old="ICHLABEL_MODELOPS_HEARTBEAT_TIMEOUT_S"
    )
)
JOBS_STALL_TIMEOUT_S = int(
    _env_number("ICHLABEL_JOBS_STALL_TIMEOUT_S", "10800", old="ICHLABEL_MODELOPS_STALL_TIMEOUT_S")
)
JOBS_REQUEUE_PENDING_S = int(
    _env_number("ICHLABEL_JOBS_REQUEUE_PENDING_S", "600", old="ICHLABEL_MODELOPS_REQUEUE_PENDING_S")
)
JOBS_MAX_ATTEMPTS = int(
    _env_number("ICHLABEL_JOBS_MAX_ATTEMPTS", "3", old="ICHLABEL_MODELOPS_MAX_ATTEMPTS")
)
JOBS_RETRY_BACKOFF_S = _env_number("ICHLABEL_JOBS_RETRY_BACKOFF_S", "10")
JOBS_RETRY_BACKOFF_MAX_S = _env_number("ICHLABEL_JOBS_RETRY_BACKOFF_MAX_S", "300")
JOBS_PROGRESS_INTERVAL_S = _env_number("ICHLABEL_JOBS_PROGRESS_INTERVAL_S", "1")

LOG_DIR = DATA_DIR / "logs"
LOG_DIR.mkdir(parents=True, exist_ok=True)
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"redact_dicom": {"()": "ichlabel.logfilters.RedactDicomValues"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_dicom"],
        },
        "file": {
            "filters": ["redact_dicom"],
            "class": "logging.handlers.RotatingFileHandler",
            "filename": LOG_DIR / "ichlabel.log",
            "maxBytes": 10 * 1024 * 1024,
            "backupCount": 5,
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["console", "file"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # highdicom reports every step of building an SR at INFO: thousands of lines per export.
        "highdicom": {"level": "WARNING"},
    },
}
