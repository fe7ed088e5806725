"""A person's own account: each role lands on its own start page after logging in (or on the
page a link asked for), and every user changes their own password in the site's layout."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.conftest import user_with_role

pytestmark = pytest.mark.django_db


def log_in(username: str, next_page: str = "") -> str:
    path = f"/login/?next={next_page}" if next_page else "/login/"
    answer = Client().post(path, {"username": username, "password": f"pw-{username}"})
    assert answer.status_code == 302, answer.content
    return answer["Location"]


@pytest.mark.parametrize(
    ("roles", "start"),
    [
        (("neuroradiologist",), "/reading/"),
        (("coordinator",), "/study/"),
        (("ml_engineer",), "/models/"),
        (("coordinator", "neuroradiologist"), "/study/"),
        ((), "/"),
    ],
)
def test_each_role_lands_on_its_start_page(roles, start):
    user_with_role("someone", *roles)

    assert log_in("someone") == start


def test_the_admin_lands_on_the_study_and_staff_without_a_role_on_the_admin():
    User.objects.create_superuser("root", password="pw-root")
    staff = user_with_role("staff")
    staff.is_staff = True
    staff.save()

    assert log_in("root") == "/study/"
    assert log_in("staff") == "/admin/"


def test_a_link_that_asked_for_a_page_is_followed_and_another_site_is_not():
    user_with_role("reader", "neuroradiologist")

    assert log_in("reader", "/reading/7/") == "/reading/7/"
    assert log_in("reader", "https://elsewhere.example/") == "/reading/"


def test_the_home_page_sends_each_role_to_its_start_page(client):
    client.force_login(user_with_role("ml", "ml_engineer"))
    assert client.get("/")["Location"] == "/models/"


NEW = "tall-grey-lighthouse"


def change(old: str, new: str) -> dict:
    return {"old_password": old, "new_password1": new, "new_password2": new}


def test_every_user_changes_their_own_password_by_the_sites_rules(client, caplog):
    reader = user_with_role("reader", "neuroradiologist")
    client.force_login(reader)
    page = client.get("/password/").content.decode()
    assert 'id="password-change-form"' in page and 'class="topbar"' in page
    assert 'href="/password/"' in client.get("/reading/").content.decode()  # in the user menu

    wrong_old = client.post(
        "/password/",
        {
            "old_password": "nope",
            "new_password1": "tall-grey-lighthouse",
            "new_password2": "tall-grey-lighthouse",
        },
    )
    too_common = client.post(
        "/password/",
        {"old_password": "pw-reader", "new_password1": "password", "new_password2": "password"},
    )
    assert wrong_old.status_code == 200 and too_common.status_code == 200
    assert "too common" in too_common.content.decode()
    reader.refresh_from_db()
    assert reader.check_password("pw-reader")

    with caplog.at_level("INFO", logger="ichlabel.accounts"):
        changed = client.post(
            "/password/",
            {
                "old_password": "pw-reader",
                "new_password1": "tall-grey-lighthouse",
                "new_password2": "tall-grey-lighthouse",
            },
            follow=True,
        )

    reader.refresh_from_db()
    assert reader.check_password(NEW)
    assert changed.redirect_chain[-1][0] == "/reading/"  # still logged in, on the start page
    assert "Your password was changed." in changed.content.decode()
    assert any("password changed: user reader" in record.getMessage() for record in caplog.records)


def test_anonymous_visitors_are_asked_to_log_in_before_changing_a_password(client):
    assert client.get("/password/")["Location"] == "/login/?next=/password/"
