"""Benchmark: slice-label saves under concurrent readers, over HTTP, against PostgreSQL.

Starts the app with gunicorn on 127.0.0.1 (4 workers x 4 threads, as scripts/run) on a fresh
PostgreSQL database and gives each simulated neuroradiologist a read of its own of a phantom
scan. For each reader count asked for, that many client threads behave like readers: all save
at the same instant once (the opening wave: a class's readers starting together), then save a
slice with the version they hold, think, move on; now and then a burst of quick saves on
neighbouring slices (a reader paging through and labelling). Each reader's page also fetches
its read every --poll-ms, as an open reading page does to follow other tabs' saves (0: no
polling); those GETs are printed apart. Prints p50/p95/p99, 5xx and other
errors, and lost writes: the final labels in the database compared with what each client last
had acknowledged, and the audit rows compared with the acknowledged changes. Baseline in the
same run: a GET of the same read, which costs a request without the write.
Targets: p95 <= 25 ms with 50 readers; no 5xx and no lost write with 200.

    uv run python bench/label_save.py [--readers 50,200] [--saves 40] [--think-ms 2000]
                                      [--poll-ms 4000]

PostgreSQL from $BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/), which
must allow creating a database; the database is dropped at the end. The clients are threads of
this process and share the machine with the server: on a small machine the figures at 200
readers include the clients' own queueing.
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
            tokens = _prepare(env, sum(args.readers))
            _run_with_server(env, args, tokens)
    finally:
        subprocess.run(
            ["psql", server_url + "postgres", "-qc", f"DROP DATABASE {name}"], check=True
        )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--readers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[50, 200],
        help="reader counts to run one after the other, each on reads of its own",
    )
    parser.add_argument("--saves", type=int, default=40, help="saves per reader")
    parser.add_argument(
        "--think-ms", type=float, default=2000, help="mean pause between a reader's saves"
    )
    parser.add_argument(
        "--burst-chance", type=float, default=0.2, help="chance that a save opens a burst"
    )
    parser.add_argument(
        "--poll-ms",
        type=float,
        default=4000,
        help="how often each open page fetches its read (frontend/src/reading/sync.ts); 0: never",
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
    levels, start = [], 0
    for count in args.readers:
        levels.append(tokens[start : start + count])
        start += count
    with serve(env, args.port):
        _warm_up(args.port, tokens)
        baseline = _measure(args, levels[0], write=False)
        results = [_measure(args, slots, write=True) for slots in levels]
    checks = _check_writes(env, [result["acknowledged"] for result in results])
    print(
        f"think time ~{args.think_ms:.0f} ms, bursts {args.burst_chance:.0%} of saves, "
        f"{args.saves} saves per reader, gunicorn 4x4 threads"
    )
    _print(f"baseline GET of the read, {len(levels[0])} readers", baseline)
    for slots, result, (lost, audits_missing) in zip(levels, results, checks, strict=True):
        _print(f"label save (POST), {len(slots)} readers", result)
        if result["polls"]["latencies"]:
            _print(
                f"  meanwhile, each page's poll of its read (GET, every {args.poll_ms:.0f} ms)",
                result["polls"],
            )
        print(f"  lost writes: {lost}, acknowledged changes without an audit row: {audits_missing}")
    print("targets: p95 <= 25 ms at 50 readers; 0 5xx and 0 lost writes at 200")


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


class Reader:
    """One simulated reader: its connection, the versions it holds, what it had acknowledged."""

    def __init__(self, args, slot: dict, seed: int, *, write: bool, record) -> None:
        self.args, self.slot, self.write, self.record = args, slot, write, record
        self.rng = random.Random(seed)
        self.conn = self._connect()
        self.versions: dict[int, int] = {}
        self.acknowledged: dict[int, dict] = {}

    def run(self, wave: threading.Barrier) -> None:
        wave.wait()
        self.save(self.rng.randrange(self.slot["slices"]))
        # After the wave readers drift apart: each resumes somewhere within one think time.
        time.sleep(self.rng.uniform(0, self.args.think_ms / 1000.0))
        left = self.args.saves - 1 if self.write else max(5, self.args.saves // 4)
        while left > 0:
            first = self.rng.randrange(self.slot["slices"])
            burst = self.rng.randint(3, 8) if self.rng.random() < self.args.burst_chance else 1
            for step in range(min(burst, left)):
                self.save((first + step) % self.slot["slices"])
                time.sleep(self.rng.uniform(0.02, 0.08))  # a key press per slice
            left -= burst
            time.sleep(self.rng.expovariate(1000.0 / self.args.think_ms))

    def save(self, index: int) -> None:
        values = {name: self.rng.random() < 0.3 for name in SUBTYPES}
        body = {
            "changes": [{"slice_index": index, "version": self.versions.get(index, 0), **values}]
        }
        started = time.perf_counter()
        try:
            status, payload = self._send(body)
        except (ConnectionError, http.client.HTTPException):
            # The server closed an idle keep-alive connection: open a new one, as browsers do.
            self.conn = self._connect()
            started = time.perf_counter()
            try:
                status, payload = self._send(body)
            except (OSError, http.client.HTTPException) as error:
                status, payload = 0, repr(error).encode()
        except OSError as error:  # a timeout: the request may or may not have been applied
            self.conn = self._connect()
            status, payload = 0, repr(error).encode()
        self.record(time.perf_counter() - started, status, payload)
        if status == 200 and self.write:
            self.versions[index] = json.loads(payload)[0]["version"]
            self.acknowledged[index] = {**values, "version": self.versions[index]}

    def poll(self, stop: threading.Event) -> None:
        """Fetch the read every --poll-ms until ``stop`` (a reading page following other tabs)."""
        while not stop.wait(self.rng.uniform(0.9, 1.1) * self.args.poll_ms / 1000.0):
            self.save(0)  # a reader made with write=False sends a GET of its read

    def _connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=60)

    def _send(self, body: dict) -> tuple[int, bytes]:
        headers = {
            "Authorization": f"Token {self.slot['token']}",
            "Content-Type": "application/json",
        }
        if self.write:
            url = f"/api/v1/reads/{self.slot['read']}/labels/"
            self.conn.request("POST", url, json.dumps(body), headers)
        else:
            self.conn.request("GET", f"/api/v1/reads/{self.slot['read']}/", headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


def _measure(args, tokens: list[dict], *, write: bool) -> dict:
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def record(elapsed: float, status: int, payload: bytes) -> None:
        with lock:
            latencies.append(elapsed)
            if status != 200:
                errors.append(f"{status} {payload[:200]!r}")

    polls: list[float] = []
    poll_errors: list[str] = []

    def record_poll(elapsed: float, status: int, payload: bytes) -> None:
        with lock:
            polls.append(elapsed)
            if status != 200:
                poll_errors.append(f"{status} {payload[:200]!r}")

    readers = [
        Reader(args, slot, seed, write=write, record=record) for seed, slot in enumerate(tokens)
    ]
    pollers = [
        Reader(args, slot, 10_000 + seed, write=False, record=record_poll)
        for seed, slot in enumerate(tokens)
        if write and args.poll_ms > 0
    ]
    stop = threading.Event()
    polling = [threading.Thread(target=poller.poll, args=(stop,)) for poller in pollers]
    wave = threading.Barrier(len(readers))
    threads = [threading.Thread(target=reader.run, args=(wave,)) for reader in readers]
    for thread in polling + threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    for thread in polling:
        thread.join()
    acknowledged = {
        f"{reader.slot['read']}:{index}": values
        for reader in readers
        for index, values in reader.acknowledged.items()
    }
    return {
        "latencies": latencies,
        "errors": errors,
        "acknowledged": acknowledged,
        "polls": {"latencies": polls, "errors": poll_errors},
    }


def _print(title: str, result: dict) -> None:
    values = sorted(result["latencies"])
    errors = result["errors"]
    server_errors = [error for error in errors if error.startswith("5")]

    def percentile(q: float) -> float:
        return values[int(q * (len(values) - 1))] * 1000

    print(
        f"{title}: {len(values)} requests, p50 {statistics.median(values) * 1000:.1f} ms, "
        f"p95 {percentile(0.95):.1f} ms, p99 {percentile(0.99):.1f} ms, "
        f"5xx {len(server_errors)}, other errors {len(errors) - len(server_errors)}"
        + (f" (first: {errors[0]})" if errors else "")
    )


CHECK = """
import json, sys, django
django.setup()
from django.db.models import Sum
from annotations.models import LabelAudit, SliceLabel
out = []
for expected in json.loads(sys.stdin.read()):
    lost = 0
    reads = {int(key.split(":")[0]) for key in expected}
    for key, values in expected.items():
        read, index = map(int, key.split(":"))
        label = SliceLabel.objects.get(read_id=read, slice__position_index=index)
        lost += label.version != values.pop("version")
        lost += any(getattr(label, name) != value for name, value in values.items())
    # Each version a save made has its audit row: the versions held sum to the rows written.
    versions = SliceLabel.objects.filter(read__in=reads).aggregate(n=Sum("version"))["n"] or 0
    audits = LabelAudit.objects.filter(read__in=reads).count()
    out.append([lost, versions - audits])
print(json.dumps(out))
"""


def _check_writes(env: dict, acknowledged: list[dict]) -> list[list[int]]:
    """Per level: acknowledged writes not found as saved, and versions without an audit row."""
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        input=json.dumps(acknowledged),
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
