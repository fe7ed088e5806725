"""The ML engineer's pages: the workspace, a training run, a model version's evaluation report
and the comparison of versions. ML engineers and coordinators get them; readers and anonymous
users do not. The tables are rendered from the database, Table 2 from the stored report."""

import pytest

from tests.modelops.registry_factories import seed_registry

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    return seed_registry()


def _paths(registry) -> list[str]:
    run = registry["runs"][0]
    a, b = registry["models"]
    return [
        "/models/",
        f"/models/runs/{run.pk}/",
        f"/models/versions/{a.pk}/",
        f"/models/compare/?ids={a.pk},{b.pk}",
    ]


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


@pytest.mark.parametrize("who", ["engineer", "coordinator"])
def test_ml_engineers_and_coordinators_get_every_page(client, registry, who):
    client.force_login(registry[who])

    for path in _paths(registry):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'href="/models/">Models</a>' in response.content.decode()


def test_readers_are_refused_and_anonymous_users_sent_to_log_in(client, registry):
    for path in _paths(registry):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), path
    client.force_login(registry["reader"])
    for path in _paths(registry):
        assert client.get(path).status_code == 403, path
    assert 'href="/models/"' not in client.get("/", follow=True).content.decode()


def test_unknown_runs_and_versions_are_not_found(client, registry):
    client.force_login(registry["engineer"])

    assert client.get("/models/runs/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/models/versions/999999/").status_code == 404


def test_the_workspace_lists_snapshots_runs_and_versions(client, registry):
    client.force_login(registry["engineer"])
    html = client.get("/models/").content.decode()
    snapshot, building = registry["snapshot"], registry["building"]

    assert f'data-snapshot="{snapshot.pk}" data-status="succeeded"' in html
    assert snapshot.files_sha256[:12] in html and "117.7\xa0MB" in html
    assert "240 scans · 7200 slices · 108 positive" in html
    # the building snapshot shows its progress and keeps the tables refreshing
    assert f'data-snapshot="{building.pk}" data-status="running"' in html
    assert 'value="120"' in html and "120 / 400 scans" in html
    assert '<section id="snapshots" data-active="true">' in html
    assert '<section id="runs" data-active="true">' in html  # the pending run
    # only built snapshots can be trained on, and they carry their image size
    assert f'<option value="{snapshot.pk}" data-image-size="128">' in html
    assert f'<option value="{building.pk}" data-image-size' not in html
    for run in registry["runs"]:
        assert f'href="/models/runs/{run.pk}/"' in html
    a, b = registry["models"]
    auroc = a.metrics["validation"]["any"]["auroc"]
    assert f"{_pct(auroc)}%" in html
    assert f'name="ids" value="{a.pk}"' in html and f'name="ids" value="{b.pk}"' in html
    assert 'id="snapshot-form"' in html and 'id="run-form"' in html


def test_coordinators_watch_without_the_forms(client, registry):
    client.force_login(registry["coordinator"])
    html = client.get("/models/").content.decode()

    assert 'id="snapshot-form"' not in html and 'id="run-form"' not in html
    assert 'data-may-act="false"' in html
    version_html = client.get(f"/models/versions/{registry['models'][0].pk}/").content.decode()
    assert "data-set-status" not in version_html
    run_html = client.get(f"/models/runs/{registry['runs'][2].pk}/").content.decode()
    assert "badge pending" in run_html and 'id="cancel-run"' not in run_html


def test_the_run_page_shows_state_history_and_configuration(client, registry):
    client.force_login(registry["engineer"])
    run, _, pending = registry["runs"]
    html = client.get(f"/models/runs/{run.pk}/").content.decode()

    assert '<span id="run-status" class="badge succeeded">succeeded</span>' in html
    assert 'href="/models/versions/' in html and "baseline-1" in html
    assert '<tr data-key="rnn_units"><td>rnn_units</td><td><code>64</code></td></tr>' in html
    assert '<tr data-key="augment"><td>augment</td><td><code>true</code></td></tr>' in html
    assert '<th class="num">val_auroc_any</th>' in html and '<td class="num">0.94</td>' in html
    assert 'id="cancel-run" hidden' in html
    pending_html = client.get(f"/models/runs/{pending.pk}/").content.decode()
    assert 'id="cancel-run">' in pending_html and "badge pending" in pending_html


def test_the_version_page_lays_out_table_2_from_the_report(client, registry):
    client.force_login(registry["engineer"])
    model = registry["models"][0]
    html = client.get(f"/models/versions/{model.pk}/").content.decode()
    report = model.evaluation

    for split in ("train", "validation", "test"):
        assert f'id="report-{split}"' in html
        rows = {row["hemorrhage_class"]: row for row in report["splits"][split]["rows"]}
        for cls, label in (("any", "Any"), ("iph", "IPH"), ("edh", "EDH")):
            row = rows[cls]
            assert f'<tr data-class="{cls}"><th scope="row">{label}</th>' in html
            assert (
                f'<td class="num">{row["n_positive"]}</td><td class="num">{row["n_negative"]}</td>'
                in html
            )
            for metric in ("accuracy", "sensitivity", "specificity", "precision", "f1", "auroc"):
                figure = row[metric]
                text = f"{_pct(figure['value'])}% ({_pct(figure['lower'])}–{_pct(figure['upper'])})"
                assert f'data-metric="{metric}">{text}</td>' in html, (split, cls, metric)
            assert f'title="true positives">{row["tp"]}</td>' in html
    assert "Wilson score interval" in html and "DeLong" in html and "bootstrap" in html
    threshold = report["thresholds"]["any"]
    assert f"{threshold['value']:.4f}" in html and "Youden&#x27;s J" in html
    assert "chosen on the validation split and then frozen" in html
    assert model.artifact_sha256 in html and registry["version"].content_sha256 in html
    assert f'href="/api/v1/modelops/models/{model.pk}/artifact/"' in html
    assert 'id="roc-data"' in html and 'id="roc-test"' in html
    assert 'data-set-status="approved"' in html and 'data-set-status="retired"' in html


def test_an_undefined_figure_shows_a_dash(client, registry):
    client.force_login(registry["engineer"])
    model = registry["models"][0]
    row = model.evaluation["splits"]["test"]["rows"][5]
    row["precision"] = {"value": None, "lower": None, "upper": None, "method": "wilson"}
    row["auroc"] = None
    model.save()
    html = client.get(f"/models/versions/{model.pk}/").content.decode()

    assert 'data-metric="precision">—</td>' in html and 'data-metric="auroc">—</td>' in html


def test_the_comparison_marks_differences_and_the_best_figures(client, registry):
    client.force_login(registry["engineer"])
    a, b = registry["models"]
    html = client.get(f"/models/compare/?ids={a.pk},{b.pk}").content.decode()

    assert html.index("baseline-1") < html.index("wider-1")
    assert '<tr data-key="rnn_units" class="differs">' in html
    assert '<tr data-key="augment" class="differs">' in html
    assert '<tr data-key="backbone">' in html
    a_auroc = a.metrics["test"]["any"]["auroc"]
    b_auroc = b.metrics["test"]["any"]["auroc"]
    best, other = (b_auroc, a_auroc) if b_auroc > a_auroc else (a_auroc, b_auroc)
    row = '<tr data-split="test" data-class="any" data-metric="auroc">'
    cells = html[html.index(row) : html.index("</tr>", html.index(row))]
    assert f'<td class="num best">{_pct(best)}%</td>' in cells
    assert f'<td class="num">{_pct(other)}%</td>' in cells
    # the form's "?ids=1&ids=2" works as well, and unknown ids are named
    html = client.get(f"/models/compare/?ids={a.pk}&ids={b.pk}&ids=999999").content.decode()
    assert 'id="compare-table"' in html and "Not found: 999999" in html
