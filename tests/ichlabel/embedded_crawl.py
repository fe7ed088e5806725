"""Every page of every demo role on the embedded stack that ``scripts/run`` serves (SQLite, local
files), crawled with Django's test client: run by test_embedded_pages.py in a process of its own
(the suite's settings use PostgreSQL, and features SQLite lacks would fail only here).

Prints one JSON object: per user the pages visited and those that answered 5xx.
"""

import json
import re
import sys
from html.parser import HTMLParser

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from annotations.ground_truth.services import ground_truth_release  # noqa: E402
from annotations.models import GroundTruthVersion  # noqa: E402

USERS = ["neuro1", "coordinator", "mlengineer", "admin"]
PASSWORD = "ichlabel-demo"
MOST_PAGES = 80
# Links that change state or leave the pages: never followed.
SKIPPED = re.compile(r"^/(logout|admin|static|api)/|\.(csv|zip|json|png|dcm)$|/file$")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href and href.startswith("/"):
            self.links.append(href.split("#")[0])


def crawl(username: str) -> dict:
    client = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    client.post("/login/", {"username": username, "password": PASSWORD})
    queue, seen, failed = ["/"], set(), []
    while queue and len(seen) < MOST_PAGES:
        path = queue.pop(0)
        if path in seen or SKIPPED.search(path):
            continue
        seen.add(path)
        response = client.get(path, follow=True)
        if response.status_code >= 500:
            failed.append(f"{path} ({response.request['PATH_INFO']})")
        if "html" in response.get("Content-Type", ""):
            parser = _Links()
            parser.feed(response.content.decode(errors="replace"))
            queue.extend(link for link in parser.links if link not in seen)
    return {"pages": sorted(seen), "failed": failed}


def main() -> None:
    # A released version: the reader's worklist then pairs completed reads with it.
    admin = get_user_model().objects.get(username="admin")
    for version in GroundTruthVersion.objects.filter(released_at__isnull=True):
        ground_truth_release(version_id=version.pk, released_by=admin)
    json.dump({user: crawl(user) for user in USERS}, sys.stdout)


if __name__ == "__main__":
    main()
