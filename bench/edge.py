"""Benchmark: an inference node's latency, from a new series in the PACS to ICHLabel's record.

The issue's figure: from the last instance of a 36-slice series arriving in Orthanc to the
result stored back in Orthanc and posted to ICHLabel, in the paper's configuration
(InceptionResNetV2 at 480 px, random weights: timing does not depend on them) on this machine's
CPUs, split by stage. Target: <= 20 s, the stability wait included (the paper: 45 +- 8 s).

Everything runs here, on 127.0.0.1: a fresh SQLite installation in a temporary folder
(`demo_training.fresh_installation`), an approved model version of the chosen configuration on
a snapshot of the phantom cohort, a real build of it (ONNX export checked against Keras, signed;
timed apart, not part of the per-series figure), the app served by gunicorn, Debian's Orthanc
with DICOMweb (`tests/edge/orthanc.py`), and the agent (`python -m ichlabel_edge`, its own
process, no Django) enrolled, its build installed by `sync`, then `run --interval S`. Each
repetition pushes a new 36-slice 512 x 512 phantom series, dated today, into Orthanc. T0: the
last instance stored; T1: ICHLabel holds the Prediction. Printed per repetition and as medians:
T1 - T0, the node's stages from `Prediction.timings_ms` (`stability_wait`: as the node reports
it, at least the configured wait; `total`: the sum of the stages), the polling overhead
(T1 - T0 - total: the wait the node did not count, the rounds' timing, the delivery), and the
real stability wait and delivery read from the node's `scored_at` and ICHLabel's `received_at`.
A first, warm-up series (the agent opens its onnxruntime session then) is printed apart. The
agent makes the key slices' occlusion maps after it delivered the result (not part of T1 - T0):
their time is printed apart, and the next series goes in once the node is idle again.
Baseline, same run, after each series while the agent idles: the runner's `score_series`
(preprocessing, onnxruntime inference) on the same series' files with the node's build, in this
process: no PACS, no HTTP, no agent.
The build runs in a process of its own (its Keras check keeps gigabytes until its process ends).

    uv run python bench/edge.py [--repeats 3] [--stable-s 2] [--interval 0.5]
    uv run python bench/edge.py --backbone small --size 64 --repeats 2   # smoke test, ~1 min
"""

import argparse
import datetime
import gc
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from appserver import serve  # noqa: E402
from demo_training import fresh_installation  # noqa: E402

SLICES = 36
PIXELS = 512
TARGET_S = 20.0
STAGES = ("stability_wait", "transfer", "preprocess", "inference", "write_back", "total")
BASELINE = ("preprocess", "inference", "total")
RESULT_TIMEOUT_S = 600


def main() -> None:
    args = _parse()
    sys.stdout.reconfigure(line_buffering=True)  # progress shows as it comes, piped too
    folder = fresh_installation("ichlabel-bench-edge-")
    processes: dict = {}  # what run() started: stopped here whatever happens
    try:
        figures = run(args, folder, processes)
        print(json.dumps(figures, indent=2))
        print(_verdict(figures))
    finally:
        _stop(processes.get("agent"))
        if "orthanc" in processes:
            processes["orthanc"].stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def run(args: argparse.Namespace, folder: Path, processes: dict) -> dict:
    from django.contrib.auth.models import User

    from annotations.demo import demo_users_create
    from ichlabel.jobs import registry
    from tests.edge.orthanc import free_port, start_orthanc

    registry.send_task = lambda *a, **k: None  # jobs run in this process instead
    demo_users_create()
    engineer = User.objects.get(username="mlengineer")
    print(
        f"{args.backbone} at {args.size} px; {SLICES}-slice {PIXELS} x {PIXELS} series; "
        f"stability wait {args.stable_s:g} s, round interval {args.interval:g} s; "
        f"{os.cpu_count()} CPUs"
    )
    started = time.perf_counter()
    version = _approved_version(args, engineer)
    prepared = time.perf_counter() - started
    print(f"cohort, snapshot at {args.size} px and model saved: {prepared:.1f} s")

    build, build_s = _build(version, engineer)
    onnx_mb = _build_file(build, "model.onnx").stat().st_size / 1e6
    print(
        f"build {build.number}: ONNX export + check against Keras + signing {build_s:.1f} s "
        f"(model.onnx {onnx_mb:.0f} MB; not part of the per-series figure)"
    )
    series = _phantom_series(folder / "series", 1 + args.repeats)

    orthanc = processes["orthanc"] = start_orthanc(folder / "orthanc")
    with serve(dict(os.environ), free_port()) as url:
        node, config = _node(folder, url, orthanc.dicomweb_url, args.stable_s, engineer, version)
        install_s = _install(node, config, build, engineer)
        print(
            f"node: enrolled; sync fetched, verified, health-checked the build: {install_s:.1f} s"
        )
        log = folder / "agent.log"
        agent = processes["agent"] = _start_agent(config, args.interval, log)
        time.sleep(max(2.0, 3 * args.interval))  # its first rounds: nothing to score
        baseline = _InProcess(folder / "node")
        results = []
        for index, files in enumerate(series):
            result = _one_series(node, orthanc, files, agent, log)
            if index == 0:
                baseline.score(files)  # its session's first run
            result["baseline_s"] = baseline.score(files)
            label = "warm-up" if index == 0 else f"repetition {index}"
            print(f"{label}: {_line(result)}")
            results.append(result)
        _stop(processes.pop("agent"))
    repeats = results[1:]
    median = {
        key: round(statistics.median(r[key] for r in repeats), 2)
        for key in (
            "end_to_end_s",
            "polling_overhead_s",
            "real_stability_wait_s",
            "delivery_s",
            "maps_after_result_s",
        )
    }
    for part, stages in (("stages_s", STAGES), ("baseline_s", BASELINE)):
        median[part] = {
            stage: round(statistics.median(r[part][stage] for r in repeats), 2) for stage in stages
        }
    print(f"median of {len(repeats)}: {_line(median)}")
    figures = {
        "config": {
            "backbone": args.backbone,
            "image_size": args.size,
            "slices": SLICES,
            "pixels": PIXELS,
            "stable_s": args.stable_s,
            "round_interval_s": args.interval,
            "repeats": args.repeats,
            "cpus": os.cpu_count(),
        },
        "setup_s": {
            "cohort_snapshot_model": round(prepared, 1),
            "build_export_check_sign": round(build_s, 1),
            "node_sync_install": round(install_s, 1),
        },
        "onnx_mb": round(onnx_mb, 1),
        "warm_up": results[0],
        "repetitions": repeats,
        "median": median,
        "baseline_onnxruntime_session_s": round(baseline.load_s, 2),
        "target": f"end to end <= {TARGET_S:g} s including the stability wait (paper: 45 +- 8 s)",
        "meets_target": median["end_to_end_s"] <= TARGET_S,
    }
    return figures


# The model, its build and the node


def _approved_version(args: argparse.Namespace, engineer):
    """An approved model version of the configuration on a snapshot of the phantom cohort at
    ``args.size`` (its thresholds from a seeded evaluation report, as the tests make one)."""
    import keras

    from modelops.demo import training_demo_seed
    from modelops.ml.config import TrainingConfig
    from modelops.ml.model import build_backbone, build_scan_model, build_sequence_head
    from modelops.models import ModelStatus
    from modelops.paths import data_path
    from modelops.snapshots.services import snapshot_build, snapshot_request
    from tests.modelops.registry_factories import make_run, make_version

    truth = training_demo_seed(scans_per_center=1, size=48, seed=11).version
    snapshot, _ = snapshot_request(
        ground_truth_id=truth.pk, image_size=args.size, created_by=engineer
    )
    snapshot = snapshot_build(snapshot_id=snapshot.pk)
    if snapshot.status != "succeeded":
        raise SystemExit(f"snapshot {snapshot.status}: {snapshot.message}")
    config = TrainingConfig(backbone=args.backbone, image_size=args.size)
    name = f"{args.backbone}-{args.size}px"
    run = make_run(snapshot=snapshot, user=engineer, name=name, config=config.as_dict())
    version = make_version(run=run, name=name)
    keras.utils.set_random_seed(0)
    backbone = build_backbone(args.backbone, args.size)
    head = build_sequence_head(
        backbone.output_shape[-1],
        rnn=config.rnn,
        rnn_units=config.rnn_units,
        attention_units=config.attention_units,
    )
    model = build_scan_model(backbone, head, config.max_slices, args.size)
    artifact = data_path(version.artifact)
    model.save(artifact)
    del model, backbone, head
    keras.backend.clear_session()
    gc.collect()
    version.artifact_sha256 = hashlib.sha256(artifact.read_bytes()).hexdigest()
    version.artifact_bytes = artifact.stat().st_size
    version.status = ModelStatus.APPROVED
    version.save()
    return version


BUILD = """
import sys, django
django.setup()
from ichlabel.jobs import registry
registry.send_task = lambda *a, **k: None
from modelops.builds.services import model_build_execute
model_build_execute(build_id=int(sys.argv[1]))
"""


def _build(version, engineer):
    """A build of the version, made as a train worker makes it, in a process of its own (the
    check runs Keras on three scans: TensorFlow keeps that memory until its process ends)."""
    from modelops.builds.services import model_build_request

    started = time.perf_counter()
    build = model_build_request(model_version=version, created_by=engineer)
    subprocess.run([sys.executable, "-c", BUILD, str(build.pk)], cwd=ROOT, check=True)
    elapsed = time.perf_counter() - started
    build.refresh_from_db()
    if build.status != "succeeded":
        raise SystemExit(f"build {build.status}: {build.message}")
    return build, elapsed


def _build_file(build, name: str) -> Path:
    from modelops.builds.selectors import build_dir

    return build_dir(build.number) / name


def _node(folder: Path, url: str, dicomweb_url: str, stable_s: float, engineer, version):
    """The node's row and its config (data folder, pinned key, ICHLabel, the PACS)."""
    from modelops.builds.manifest import public_key_pem
    from modelops.builds.signing import verifying_key
    from modelops.nodes.services import node_create

    center = version.snapshot.ground_truth.scan_labels.first().scan.center
    node, enrolment = node_create(name="bench-node", center=center, created_by=engineer)
    key = folder / "build-signing.pem"
    key.write_text(public_key_pem(verifying_key()))
    config = folder / "node.toml"
    config.write_text(
        f'data_dir = "{folder / "node"}"\npublic_key = "{key}"\n\n'
        f'[ichlabel]\nurl = "{url}"\ntoken_file = "{folder / "node-token"}"\n\n'
        f'[pacs]\ndicomweb_url = "{dicomweb_url}"\nstable_s = {float(stable_s)}\n'
    )
    _agent(config, "enrol", "--token", enrolment)
    return node, config


def _install(node, config: Path, build, engineer) -> float:
    from modelops.nodes.services import rollout_start

    rollout_start(build=build, canary=node, created_by=engineer)
    started = time.perf_counter()
    synced = _agent(config, "sync")
    if synced.get("action") != "installed":
        raise SystemExit(f"the node did not install the build: {synced}")
    return time.perf_counter() - started


def _agent_env() -> dict:
    """The agent's code and the modules it shares with the app; nothing of Django."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'edge'}{os.pathsep}{ROOT}"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def _agent(config: Path, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "ichlabel_edge", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=_agent_env(),
        timeout=900,
    )
    if done.returncode != 0:
        raise SystemExit(f"agent {args[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _start_agent(config: Path, interval: float, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ichlabel_edge", "--config", str(config), "run"]
            + ["--interval", str(interval)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=_agent_env(),
        )


def _stop(agent: subprocess.Popen | None) -> None:
    if agent is not None and agent.poll() is None:
        agent.terminate()
        try:
            agent.wait(timeout=20)
        except subprocess.TimeoutExpired:
            agent.kill()
            agent.wait()


# The series


def _phantom_series(folder: Path, count: int) -> list[list[Path]]:
    """``count`` phantom head CTs of exactly SLICES slices, PIXELS px, dated today (a new scan
    in a PACS is), each a new study and series; written before any timing starts."""
    import pydicom

    from annotations.phantoms import write_phantoms
    from annotations.phantoms.geometry import draw_shape
    from annotations.phantoms.seeding import stream

    seeds = (s for s in range(1000, 100000) if _slices(draw_shape, stream, s) == SLICES)
    today = datetime.date.today().strftime("%Y%m%d")
    series = []
    for index in range(count):
        out = folder / str(index)
        write_phantoms(out, scans=1, seed=next(seeds), size=PIXELS)
        files = sorted(p for p in out.rglob("*") if p.is_file() and p.name != "truth.json")
        for file in files:
            ds = pydicom.dcmread(file)
            ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = today
            ds.save_as(file)
        if len(files) != SLICES:
            raise SystemExit(f"phantom {index} has {len(files)} files, not {SLICES}")
        series.append(files)
    return series


def _slices(draw_shape, stream, seed: int) -> int:
    return draw_shape(stream(seed, None, 0, "anatomy"), PIXELS).n_slices


def _one_series(node, orthanc, files: list[Path], agent: subprocess.Popen, log: Path) -> dict:
    """Push one series into Orthanc, wait for ICHLabel to hold its Prediction; the figures."""
    from modelops.models import Prediction

    known = set(Prediction.objects.filter(node=node).values_list("pk", flat=True))
    started = time.monotonic()
    orthanc.upload(files)
    t0, t0_wall = time.monotonic(), datetime.datetime.now(datetime.UTC)
    while True:
        prediction = Prediction.objects.filter(node=node).exclude(pk__in=known).first()
        if prediction is not None:
            t1 = time.monotonic()
            break
        if agent.poll() is not None:
            raise SystemExit(f"the agent stopped ({agent.returncode}):\n{_tail(log)}")
        if time.monotonic() - t0 > RESULT_TIMEOUT_S:
            raise SystemExit(f"no prediction within {RESULT_TIMEOUT_S} s:\n{_tail(log)}")
        time.sleep(0.05)
    if prediction.error:
        raise SystemExit(f"the node could not score the series: {prediction.error}")
    maps_s = _round_end(prediction.key, agent, log) - t1
    stages = {k: prediction.timings_ms[k] / 1000 for k in STAGES}
    end_to_end = t1 - t0
    working = stages["total"] - stages["stability_wait"]
    scored = (prediction.scored_at - t0_wall).total_seconds()
    return {
        "end_to_end_s": round(end_to_end, 2),
        "stages_s": {k: round(v, 2) for k, v in stages.items()},
        "polling_overhead_s": round(end_to_end - stages["total"], 2),
        "real_stability_wait_s": round(scored - working, 2),
        "delivery_s": round((prediction.received_at - prediction.scored_at).total_seconds(), 2),
        "upload_s": round(t0 - started, 2),
        "slices_scored": len(prediction.slice_scores),
        "maps_after_result_s": round(maps_s, 2),
    }


def _round_end(key: str, agent: subprocess.Popen, log: Path) -> float:
    """When the agent printed the round that scored ``key``: it makes the key slices' maps
    after delivering the result, so the next series is pushed only once the node is idle."""
    while True:
        if any(key in line for line in log.read_text(errors="replace").splitlines()):
            return time.monotonic()
        if agent.poll() is not None:
            raise SystemExit(f"the agent stopped ({agent.returncode}):\n{_tail(log)}")
        time.sleep(0.1)


def _line(result: dict) -> str:
    stages = ", ".join(f"{k} {v:.2f}" for k, v in result["stages_s"].items())
    baseline = ", ".join(f"{k} {v:.2f}" for k, v in result["baseline_s"].items())
    return (
        f"end to end {result['end_to_end_s']:.2f} s; node's stages (s): {stages}; polling "
        f"overhead {result['polling_overhead_s']:.2f} s (real stability wait "
        f"{result['real_stability_wait_s']:.2f} s, delivery {result['delivery_s']:.2f} s); "
        f"key slices' maps after the result {result['maps_after_result_s']:.2f} s; "
        f"baseline in this process (s): {baseline}"
    )


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# Baseline


class _InProcess:
    """The baseline, same run: the runner's ``score_series`` (preprocessing and inference, the
    node's build and session options) on the same series' files, in this process: no PACS, no
    HTTP, no agent. Run between the series, while the agent idles."""

    def __init__(self, node_dir: Path) -> None:
        sys.path.insert(0, str(ROOT / "edge"))
        from ichlabel_edge.runtime import open_session
        from ichlabel_edge.slots import Slots

        from modelops.builds.signing import verifying_key

        self.build = Slots(node_dir, verifying_key()).active()
        started = time.perf_counter()
        self.session = open_session(self.build.directory / self.build.manifest["runtime"]["file"])
        self.load_s = time.perf_counter() - started

    def score(self, files: list[Path]) -> dict:
        import pydicom
        from ichlabel_edge.runner import score_series

        datasets = [pydicom.dcmread(f) for f in files]
        started = time.perf_counter()
        scored = score_series(datasets, self.build, session=self.session)
        total = time.perf_counter() - started
        return {
            "preprocess": round(scored.timings_ms["preprocess"] / 1000, 2),
            "inference": round(scored.timings_ms["inference"] / 1000, 2),
            "total": round(total, 2),
        }


def _verdict(figures: dict) -> str:
    median = figures["median"]["end_to_end_s"]
    config = figures["config"]
    verdict = "meets" if figures["meets_target"] else "misses"
    return (
        f"{config['backbone']} at {config['image_size']} px, {config['cpus']} CPUs: median "
        f"{median:.2f} s from the last instance in Orthanc to the prediction in ICHLabel "
        f"(stability wait {config['stable_s']:g} s included): {verdict} the target "
        f"<= {TARGET_S:g} s (paper: 45 +- 8 s); inference in the node "
        f"{figures['median']['stages_s']['inference']:.2f} s against "
        f"{figures['median']['baseline_s']['inference']:.2f} s for the same series in this process"
    )


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed series after the warm-up")
    parser.add_argument("--backbone", default="inception_resnet_v2", help="or: small")
    parser.add_argument("--size", type=int, default=480, help="model input size in pixels")
    parser.add_argument("--stable-s", type=float, default=2.0, help="the node's stability wait")
    parser.add_argument("--interval", type=float, default=0.5, help="agent's round interval, s")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be 1 or more")
    return args


if __name__ == "__main__":
    main()
