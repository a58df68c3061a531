"""Brute-force protection (django-axes) on the learner login and the admin login.

Five failures for one username from one address lock that pair for 15 minutes
with a 429 page; other addresses are not affected (nobody can lock a learner
out from elsewhere); a successful login resets the count.
"""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.utils import timezone

from tests.factories import make_user
from tests.helpers import soup_of, text

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "correct-horse-battery-staple"
HOME = "203.0.113.7"
ELSEWHERE = "198.51.100.9"


@pytest.fixture
def ada(db):
    return make_user(username="ada", password=PASSWORD)


def attempt(client, password, *, address=HOME, url=LOGIN, username="ada"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def fail(client, times, **kwargs):
    """Fail ``times`` times; the failures before the limit show the form again."""
    for number in range(1, times + 1):
        response = attempt(client, "wrong password", **kwargs)
        assert response.status_code == (200 if number < 5 else 429), f"failure {number}"


def test_four_failures_still_let_the_right_password_in(client, ada):
    fail(client, 4)

    assert attempt(client, PASSWORD)["Location"] == "/dashboard/"


def test_the_fifth_failure_locks_the_username_from_that_address(client, ada, caplog):
    caplog.set_level(logging.WARNING, logger="axes")
    fail(client, 4)

    response = attempt(client, "wrong password")

    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    page = soup_of(response)
    assert text(page.h1) == "Too many failed log-in attempts"
    assert "Try again in 15 minutes." in text(page.select_one("[role=alert]"))
    # Even the right password is refused while locked.
    assert attempt(client, PASSWORD).status_code == 429
    assert any("Locking out" in record.getMessage() for record in caplog.records)


def test_a_lock_from_one_address_does_not_lock_the_learner_out_elsewhere(client, ada):
    fail(client, 5)

    assert attempt(client, PASSWORD, address=ELSEWHERE)["Location"] == "/dashboard/"


def test_a_success_resets_the_count(client, ada):
    fail(client, 4)
    assert attempt(client, PASSWORD)["Location"] == "/dashboard/"
    client.post("/accounts/logout/")

    fail(client, 4)
    assert attempt(client, PASSWORD)["Location"] == "/dashboard/"


def test_the_lock_lifts_after_15_minutes(client, ada):
    fail(client, 5)
    assert attempt(client, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=1))

    assert attempt(client, PASSWORD)["Location"] == "/dashboard/"


def test_the_admin_login_is_protected_too(client, admin_user):
    for _ in range(4):
        assert attempt(client, "wrong", url=ADMIN_LOGIN, username="admin").status_code == 200

    response = attempt(client, "wrong", url=ADMIN_LOGIN, username="admin")

    assert response.status_code == 429
    assert text(soup_of(response).h1) == "Too many failed log-in attempts"


def test_the_address_is_the_one_nginx_saw(client, ada, settings):
    """Behind one proxy the client is X-Forwarded-For's last entry; what the client wrote before it is ignored."""
    settings.TRUSTED_PROXY_COUNT = 1
    for forged in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"):
        forwarded = f"{forged}, {HOME}"
        client.post(
            LOGIN, {"username": "ada", "password": "wrong"}, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded
        )

    assert AccessAttempt.objects.get().ip_address == HOME
    locked = client.post(LOGIN, {"username": "ada", "password": PASSWORD}, HTTP_X_FORWARDED_FOR=HOME)
    assert locked.status_code == 429


def test_lockouts_are_listed_in_the_admin(client, admin_client, ada):
    fail(client, 5)

    response = admin_client.get("/admin/axes/accessattempt/")

    assert response.status_code == 200
    assert "ada" in text(soup_of(response).select_one("#result_list"))


def test_password_reset_does_not_reveal_whether_an_email_is_registered(client, ada):
    known = client.post("/accounts/password_reset/", {"email": "ada@example.com"}, follow=True)
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True)

    assert known.redirect_chain == unknown.redirect_chain == [("/accounts/password_reset/done/", 302)]
    assert text(soup_of(known).main) == text(soup_of(unknown).main)
