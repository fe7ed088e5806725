"""Production profile: the base settings, hardened. Passes ``manage.py check --deploy``.

Expects SECRET_KEY, ICHLABEL_DEID_SECRET, DATABASE_URL, CELERY_BROKER_URL and ALLOWED_HOSTS
from the environment; TLS is terminated in front of the app (``X-Forwarded-Proto``).
"""

import os

from ichlabel.settings import *  # noqa: F403
from ichlabel.settings import env_bool

DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
# A new dict, not the base one changed in place: a process that imports this module beside
# another profile (a test reading SECURE_CSP) must not change that profile's storage.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# The API's schema and its docs page describe every route: only for signed-in users here (the
# frontend's types are generated from `manage.py spectacular`, which needs no request).
SPECTACULAR_SETTINGS = {  # noqa: F405
    **SPECTACULAR_SETTINGS,  # noqa: F405
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# What a page may load: the app's own scripts, styles and the built Vite bundles under /static/.
# The viewer (Cornerstone3D) decodes DICOM with WebAssembly codecs ('wasm-unsafe-eval': wasm
# compilation only, no JavaScript eval), runs them in web workers (some vtk.js ones from blob:
# URLs), draws cursors from blob:/data: SVGs and sets style attributes on its SVG overlays (as
# do a few templates): style attributes, never <style> or <script> elements, may be inline.
# No page has an inline script; none may gain one.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'", "'wasm-unsafe-eval'"],
    "worker-src": ["'self'", "blob:"],
    "style-src": ["'self'"],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'", "data:", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
MIDDLEWARE = [  # noqa: F405
    *MIDDLEWARE[:1],  # noqa: F405
    "ichlabel.csp.ContentSecurityPolicyMiddleware",
    *MIDDLEWARE[1:],  # noqa: F405
]
