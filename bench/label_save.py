"""Benchmark: slice-label saves under concurrent readers, over HTTP, against PostgreSQL.

Starts the app with gunicorn on 127.0.0.1 on a fresh PostgreSQL database, gives each of N
neuroradiologists a read of a phantom scan, then runs N client threads that behave like
readers: save the labels of a slice (with the version they hold), think, move on; their starts
are spread over one think time. Prints the latency median and p95, errors, and lost writes (the
final labels in the database compared with what each client last saved). Baseline in the same
run: a GET of the same read, which costs a request without the write.
Target: p95 <= 25 ms with 50 readers, no error, no lost write.

    uv run python bench/label_save.py [--readers 50] [--saves 40] [--think-ms 2000]

PostgreSQL from $BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), which
must allow creating a database; the database is dropped at the end.
"""

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from appserver import ROOT, serve

sys.path.insert(0, str(ROOT))
from annotations.vocabulary import SUBTYPES  # noqa: E402


def main() -> None:
    args = _parse()
    server_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/")
    name = f"ichlabel_bench_labels_{os.getpid()}"
    subprocess.run(["psql", server_url + "postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    try:
        with tempfile.TemporaryDirectory(prefix="ichlabel-bench-") as tmp:
            env = dict(
                os.environ,
                DJANGO_SETTINGS_MODULE="ichlabel.settings",
                DATABASE_URL=server_url + name,
                ICHLABEL_DATA_DIR=tmp,
                LOG_LEVEL="WARNING",
            )
            tokens = _prepare(env, args.readers)
            _run_with_server(env, args, tokens)
    finally:
        subprocess.run(
            ["psql", server_url + "postgres", "-qc", f"DROP DATABASE {name}"], check=True
        )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--saves", type=int, default=40, help="saves per reader")
    parser.add_argument(
        "--think-ms", type=float, default=2000, help="mean pause between a reader's saves"
    )
    parser.add_argument("--port", type=int, default=8791)
    return parser.parse_args()


SETUP = """
import json, sys, django
django.setup()
from pathlib import Path
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from annotations.models import Scan
from annotations.phantoms import write_phantoms
from annotations.ingest.services import center_get_or_create, import_batch_import_paths
from annotations.reading.services import read_assign

out = Path(sys.argv[2])
write_phantoms(out, scans=1, seed=5, size=64)
folders = [p for p in out.iterdir() if p.is_dir()]
import_batch_import_paths(paths=folders, center=center_get_or_create(name="Bench"), split=None,
                          source="cli")
scan = Scan.objects.get()
group = Group.objects.get(name="neuroradiologist")
tokens = []
for number in range(int(sys.argv[1])):
    reader = User.objects.create_user(f"bench-reader-{number}")
    reader.groups.add(group)
    read = read_assign(scan=scan, reader=reader)
    tokens.append({"token": Token.objects.create(user=reader).key, "read": read.pk,
                   "slices": scan.slice_count})
print(json.dumps(tokens))
"""


def _prepare(env: dict, readers: int) -> list[dict]:
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    with tempfile.TemporaryDirectory() as phantoms:
        done = subprocess.run(
            [sys.executable, "-c", SETUP, str(readers), phantoms],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _run_with_server(env: dict, args, tokens: list[dict]) -> None:
    with serve(env, args.port):
        _warm_up(args.port, tokens)
        baseline = _measure(args, tokens, write=False)
        saves = _measure(args, tokens, write=True)
    lost = _lost_writes(env, saves["expected"])
    print(f"readers: {args.readers}, think time ~{args.think_ms:.0f} ms, gunicorn 4x4 threads")
    _print("baseline GET of the read", baseline)
    _print("label save (POST)", saves)
    print(f"lost writes: {lost} (target 0); target p95 <= 25 ms, 0 errors")


def _warm_up(port: int, tokens: list[dict]) -> None:
    """Each gunicorn worker imports the app's modules on its first requests: not measured."""
    for slot in tokens[:16]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request(
            "GET",
            f"/api/v1/reads/{slot['read']}/",
            headers={"Authorization": f"Token {slot['token']}"},
        )
        conn.getresponse().read()


def _measure(args, tokens: list[dict], *, write: bool) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    expected: dict[tuple[int, int], dict] = {}
    lock = threading.Lock()

    def reader(slot: dict, seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
        headers = {"Authorization": f"Token {slot['token']}", "Content-Type": "application/json"}
        versions: dict[int, int] = {}
        # Readers do not all press a key at the same instant: each starts somewhere within one
        # think time, so the measurement sees steady arrivals rather than one opening burst.
        time.sleep(rng.uniform(0, args.think_ms / 1000.0))
        for _ in range(args.saves if write else max(5, args.saves // 4)):
            index = rng.randrange(slot["slices"])
            values = {name: rng.random() < 0.3 for name in SUBTYPES}
            body = {
                "changes": [{"slice_index": index, "version": versions.get(index, 0), **values}]
            }
            started = time.perf_counter()
            try:
                response, payload = _send(conn, slot, body if write else None, headers)
            except (ConnectionError, http.client.HTTPException):
                # The server closed an idle keep-alive connection: open a new one, as browsers do.
                conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=30)
                started = time.perf_counter()
                response, payload = _send(conn, slot, body if write else None, headers)
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                if response.status != 200:
                    errors.append(f"{response.status} {payload[:200]!r}")
                elif write:
                    saved = json.loads(payload)[0]
                    versions[index] = saved["version"]
                    expected[(slot["read"], index)] = values
            time.sleep(rng.expovariate(1000.0 / args.think_ms))

    threads = [threading.Thread(target=reader, args=(slot, n)) for n, slot in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": latencies, "errors": errors, "expected": expected}


def _send(conn, slot: dict, body: dict | None, headers: dict):
    if body is None:
        conn.request("GET", f"/api/v1/reads/{slot['read']}/", headers=headers)
    else:
        conn.request("POST", f"/api/v1/reads/{slot['read']}/labels/", json.dumps(body), headers)
    response = conn.getresponse()
    return response, response.read()


def _print(title: str, result: dict) -> None:
    values = sorted(result["latencies"])
    p95 = values[int(0.95 * (len(values) - 1))]
    print(
        f"{title}: {len(values)} requests, median {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {p95 * 1000:.1f} ms, errors {len(result['errors'])}"
        + (f" (first: {result['errors'][0]})" if result["errors"] else "")
    )


CHECK = """
import json, sys, django
django.setup()
from annotations.models import SliceLabel
expected = json.loads(sys.stdin.read())
lost = 0
for key, values in expected.items():
    read, index = map(int, key.split(":"))
    label = SliceLabel.objects.get(read_id=read, slice__position_index=index)
    lost += any(getattr(label, name) != value for name, value in values.items())
print(lost)
"""


def _lost_writes(env: dict, expected: dict) -> int:
    payload = json.dumps({f"{read}:{index}": values for (read, index), values in expected.items()})
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        input=payload,
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
