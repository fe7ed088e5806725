"""Validation at the edge: every query key and body field an operation does not know, every
number that is not ASCII digits or lies beyond the database's 64-bit integers, and every wrong
shape is a 400 in the API's one error shape, and changes nothing; so is a wrong method (405).
"""

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from ichlabel.input_checks import INT_MAX, number_errors, unknown_fields
from tests.ichlabel.test_permission_matrix import rows_now

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = str(2**64)


@pytest.fixture
def as_coordinator(coordinator) -> APIClient:
    client = APIClient()
    client.force_authenticate(coordinator)
    return client


def _fields(response) -> dict:
    body = response.json()
    assert set(body) == {"message", "extra"}, body
    return body["extra"].get("fields", {})


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/centers/?centre=1",  # a list without filters
        "/api/v1/study-reads/?reeder=1",  # a misspelt filter
        "/api/v1/progress/?x=",  # not paginated: not even paging keys
        "/api/v1/progress/?limit=5",
    ],
)
def test_an_unknown_query_key_is_a_400_that_names_it(as_coordinator, url):
    response = as_coordinator.get(url)

    assert response.status_code == 400
    assert list(_fields(response)) == [url.split("?")[1].split("=")[0]]


def test_a_write_refuses_query_keys(as_coordinator):
    before = rows_now()

    response = as_coordinator.post("/api/v1/centers/create/?name=x", {"name": "A"}, format="json")

    assert response.status_code == 400
    assert "name" in _fields(response)
    assert rows_now() == before


def test_paging_and_format_keys_are_known_to_every_list(as_coordinator):
    assert as_coordinator.get("/api/v1/scans/?limit=5&offset=0&format=json").status_code == 200
    assert as_coordinator.get("/api/v1/study-reads/?status=assigned&limit=1").status_code == 200


@pytest.mark.parametrize(
    "query",
    ["limit=١٢", "offset=-1", f"offset={BEYOND_64_BITS}", "limit=1&limit=2", "limit=1.0"],
)
def test_paging_takes_one_whole_number_in_ascii_digits(as_coordinator, query):
    response = as_coordinator.get(f"/api/v1/scans/?{query}")

    assert response.status_code == 400
    assert set(_fields(response)) <= {"limit", "offset"}


@pytest.mark.parametrize("value", ["١٢", "１２", BEYOND_64_BITS, f"-{BEYOND_64_BITS}"])
def test_query_integers_are_ascii_digits_within_64_bits(as_coordinator, value):
    response = as_coordinator.get("/api/v1/study-reads/", {"scan": value})

    assert response.status_code == 400
    assert "scan" in _fields(response)


@pytest.mark.parametrize("value", ["١", BEYOND_64_BITS, "-1"])
def test_a_version_id_in_a_query_is_an_ascii_id(as_coordinator, value):
    response = as_coordinator.get("/api/v1/agreement/", {"version": value, "n_boot": 0})

    assert response.status_code == 400
    assert "version" in _fields(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"center": 2**64}, "center"),
        ({"center": "١"}, "center"),
        ({"scans": [1, 2**70]}, "scans[1]"),
        ({"readers": ["٣"]}, "readers[0]"),
        ({"capacities": {"1": 2**64}}, "capacities.1"),
        ({"capacities": {"reader-a": 3}}, "capacities"),  # a reader id that is no id
        ({"seed": -(2**63) - 1}, "seed"),
    ],
)
def test_body_integers_are_ascii_digits_within_64_bits(as_coordinator, body, field):
    before = rows_now()

    response = as_coordinator.post("/api/v1/assignments/", body, format="json")

    assert response.status_code == 400, response.content
    assert field in _fields(response)
    assert rows_now() == before


@pytest.mark.parametrize(
    "body",
    [[{"name": "A"}], "A", 3, None, {"name": ["A"]}, {"name": {"first": "A"}}],
    ids=["list", "string", "number", "null", "list-field", "object-field"],
)
def test_a_wrong_shape_is_a_400(as_coordinator, body):
    before = rows_now()

    response = as_coordinator.post("/api/v1/centers/create/", body, format="json")

    assert response.status_code == 400
    assert rows_now() == before


def test_a_wrong_method_is_a_json_405(as_coordinator):
    response = as_coordinator.delete("/api/v1/centers/")

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message", "extra"}


def test_an_error_is_json_whatever_format_the_request_asks_for():
    response = APIClient().get("/api/v1/agreement/?format=csv")

    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message", "extra"}


def test_the_schema_documents_the_error_shape_for_every_operation(as_coordinator):
    schema = as_coordinator.get("/api/schema/?format=json").json()

    assert schema["components"]["schemas"]["Error"]["required"] == ["message", "extra"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status in ("400", "403", "404"):
                content = operation["responses"][status]["content"]
                assert content["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, (method, path, status)


class Inner(serializers.Serializer):
    count = serializers.IntegerField(required=False)
    share = serializers.FloatField(required=False)


class Outer(serializers.Serializer):
    inner = Inner(required=False)
    items = Inner(many=True, required=False)
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"inner": {"count": "12"}}, set()),
        ({"inner": {"count": 12.0}}, set()),
        ({"inner": {"count": INT_MAX}}, set()),
        ({"inner": {"count": INT_MAX + 1}}, {"inner.count"}),
        ({"inner": {"count": "٤٢"}}, {"inner.count"}),
        ({"inner": {"share": "٠٫٥"}}, {"inner.share"}),
        ({"items": [{"count": 1}, {"count": 1e30}]}, {"items[1].count"}),
        ({"ids": ["7", "٧"]}, {"ids[1]"}),
        ({"inner": {"count": "abc"}}, set()),  # not a number at all: the serializer says so
    ],
)
def test_number_errors_name_each_bad_number_by_its_path(data, errors):
    assert set(number_errors(Outer(data=data), data)) == errors


def test_unknown_fields_are_named_at_any_depth():
    data = {"inner": {"count": 1, "cuont": 2}, "items": [{}, {"x": 1}], "extra": 0}

    assert sorted(unknown_fields(Outer(data=data), data)) == ["extra", "inner.cuont", "items[1].x"]
