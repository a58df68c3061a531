"""Password storage: Argon2id first, older hashes upgraded on the next login."""

import pytest
from django.contrib.auth.hashers import make_password

from accounts.models import User
from roadmap_site import settings as project_settings
from tests.factories import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def production_hashers(settings):
    # The test settings swap in a fast hasher; these tests are about the real ones.
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS


def test_new_passwords_are_hashed_with_argon2id(client, production_hashers):
    client.post(
        "/accounts/signup/",
        {"username": "grace", "email": "grace@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )

    assert User.objects.get(username="grace").password.startswith("argon2$argon2id$")


def test_an_old_pbkdf2_hash_is_upgraded_on_login(client, production_hashers):
    user = make_user(username="ada")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    response = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})

    assert response["Location"] == "/dashboard/"
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)
