"""How gunicorn serves ICHLabel: read by scripts/run, docker-compose.yml and the benchmarks
(``gunicorn --config gunicorn.conf.py``), so a benchmark measures the server a user gets.

Threads beside processes: a reading view asks for its whole series at once (several parallel
requests per page), and a thread waiting on a file read costs little. Keep-alive long enough
that a reader moving from one scan to the next reuses the browser's connections (gunicorn's
default, 2 s, closes them while the reader is still looking at the worklist).
"""

workers = 4
threads = 4
keepalive = 75
timeout = 300
loglevel = "warning"


def post_worker_init(worker) -> None:
    """Import every view before the worker takes its first request: Django imports the URL
    configuration (and with it the views, the API and their libraries, over a second) on the
    first request, which would otherwise be the first page a person opens."""
    from django.urls import get_resolver

    get_resolver().resolve("/")
