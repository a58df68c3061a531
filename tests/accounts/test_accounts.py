"""Account pages: sign up, log in and out, password change and reset, profile, account deletion."""

import io
import re

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from PIL import Image

from accounts.forms import SignupForm
from accounts.models import Note, Progress, User
from tests.factories import make_topic

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
NEW_PASSWORD = "tr0ub4dor-and-three"
SIGNUP = "/accounts/signup/"
LOGIN = "/accounts/login/"
PROFILE = "/accounts/profile/"
DELETE = "/accounts/delete/"
DASHBOARD = "/dashboard/"


def make_user(username: str = "ada", email: str = "ada@example.com", **fields) -> User:
    return User.objects.create_user(username=username, email=email, password=PASSWORD, **fields)


@pytest.fixture
def user() -> User:
    return make_user()


@pytest.fixture
def user_client(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def parse(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def text(element) -> str:
    return " ".join(element.get_text().split())


def field_errors(response, name: str) -> str:
    """The errors crispy renders inside the field's own wrapper (next to its input)."""
    wrapper = parse(response).select_one(f"#div_id_{name}")
    assert wrapper is not None, f"no field {name!r} on the page"
    return " ".join(text(error) for error in wrapper.select(".invalid-feedback"))


def signup_data(**overrides: str) -> dict[str, str]:
    return {
        "username": "grace",
        "email": "grace@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }


def png_upload(name: str = "me.png", size: tuple[int, int] = (40, 30), color: str = "red") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def profile_data(**overrides) -> dict:
    return {"display_name": "Ada L.", "bio": "Counting engines.", **overrides}


def logged_in_user(client: Client) -> User | None:
    """Who the next request is made as."""
    request = client.get(PROFILE).wsgi_request
    return request.user if request.user.is_authenticated else None


# Sign up


def test_signup_creates_the_user_logs_them_in_and_returns_to_next(client):
    response = client.post(SIGNUP, signup_data(next="/roadmaps/django-roadmap/"))

    assert response.status_code == 302
    assert response["Location"] == "/roadmaps/django-roadmap/"
    user = User.objects.get(username="grace")
    assert user.email == "grace@example.com"
    assert user.check_password(PASSWORD)
    assert client.session[SESSION_KEY] == str(user.pk)
    assert logged_in_user(client) == user


def test_signup_takes_next_from_the_query_string(client):
    response = client.post(f"{SIGNUP}?next=/roadmaps/", signup_data())

    assert response["Location"] == "/roadmaps/"


def test_signup_page_passes_next_on_in_a_hidden_field(client):
    soup = parse(client.get(f"{SIGNUP}?next=/roadmaps/django-roadmap/"))

    assert soup.select_one("main form input[type=hidden][name=next]")["value"] == "/roadmaps/django-roadmap/"


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example", "http://testserver.evil.example/"])
def test_signup_ignores_an_unsafe_next_and_goes_to_the_dashboard(client, next_url):
    response = client.post(SIGNUP, signup_data(next=next_url))

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert User.objects.filter(username="grace").exists()


def test_signup_without_next_goes_to_the_dashboard(client):
    response = client.post(SIGNUP, signup_data())

    assert response["Location"] == DASHBOARD


def test_signup_rejects_an_email_already_used_in_another_case(client):
    make_user(email="grace@example.com")

    response = client.post(SIGNUP, signup_data(email="Grace@EXAMPLE.com"))

    assert response.status_code == 200
    assert "An account with this email address already exists." in field_errors(response, "email")
    assert not User.objects.filter(username="grace").exists()


def test_signup_requires_an_email(client):
    response = client.post(SIGNUP, signup_data(email=""))

    assert "This field is required." in field_errors(response, "email")
    assert not User.objects.filter(username="grace").exists()


def test_signup_rejects_a_username_taken_in_another_case(client):
    make_user(username="Grace", email="other@example.com")

    response = client.post(SIGNUP, signup_data(username="grace"))

    assert "A user with that username already exists." in field_errors(response, "username")
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("x7#kq-Lm2vQ", "This password is too short. It must contain at least 12 characters."),
        ("password1234", "This password is too common."),
        ("gracehopper1906", "The password is too similar to the username."),
    ],
)
def test_signup_applies_the_password_validators(client, password, message):
    response = client.post(SIGNUP, signup_data(username="gracehopper1906x", password1=password, password2=password))

    assert message in field_errors(response, "password2")
    assert not User.objects.exists()


def test_signup_has_no_composition_rules(client):
    """OWASP ASVS 5.0 V6.2.5: any characters go, as long as the password is long and not common."""
    password = "582910473625"
    response = client.post(SIGNUP, signup_data(password1=password, password2=password))

    assert response.status_code == 302
    assert User.objects.get().check_password(password)


def test_signup_rejects_passwords_that_do_not_match(client):
    response = client.post(SIGNUP, signup_data(password2=PASSWORD + "!"))

    assert str(SignupForm.error_messages["password_mismatch"]) in field_errors(response, "password2")
    assert not User.objects.exists()


def test_signup_sends_logged_in_users_to_the_dashboard(user_client):
    response = user_client.get(SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == DASHBOARD


# Log in and out


def test_login_returns_to_next(client, user):
    response = client.post(LOGIN, {"username": "ada", "password": PASSWORD, "next": "/roadmaps/django-roadmap/"})

    assert response.status_code == 302
    assert response["Location"] == "/roadmaps/django-roadmap/"
    assert logged_in_user(client) == user


def test_login_page_passes_next_on_and_links_to_signup_and_password_reset(client):
    soup = parse(client.get(f"{LOGIN}?next=/roadmaps/"))

    assert soup.select_one("main form input[type=hidden][name=next]")["value"] == "/roadmaps/"
    links = {text(a): a["href"] for a in soup.select("main a")}
    assert links["Sign up"] == f"{SIGNUP}?next=/roadmaps/"
    assert links["Forgot your password?"] == "/accounts/password_reset/"


def test_login_with_a_wrong_password_shows_the_error(client, user):
    response = client.post(LOGIN, {"username": "ada", "password": "wrong"})

    assert response.status_code == 200
    summary = parse(response).select_one("main [role=alert][data-error-summary]")
    assert "Please enter a correct username and password." in text(summary)
    assert logged_in_user(client) is None


def test_form_errors_are_summarised_and_linked_to_their_fields(client):
    response = client.post(SIGNUP, {"username": "", "email": "not-an-email", "password1": "x", "password2": "y"})

    soup = parse(response)
    summary = soup.select_one("main [role=alert][data-error-summary]")
    links = {a["href"]: text(a) for a in summary.select("a")}
    assert links["#id_email"] == "Email address: Enter a valid email address."
    assert links["#id_username"] == "Username: This field is required."
    email = soup.select_one("#id_email")
    assert email["aria-invalid"] == "true"
    assert "id_email_error" in email["aria-describedby"].split()
    assert "Enter a valid email address." in text(soup.select_one("#id_email_error"))


def test_logout_by_get_is_not_allowed(user_client, user):
    response = user_client.get("/accounts/logout/")

    assert response.status_code == 405
    assert logged_in_user(user_client) == user


def test_logout_by_post_logs_out_and_goes_home(user_client):
    response = user_client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert SESSION_KEY not in user_client.session


# Passwords


def test_password_change_sets_the_new_password_and_keeps_the_user_logged_in(user_client, user):
    response = user_client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response["Location"] == "/accounts/password_change/done/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert user_client.get(response["Location"]).status_code == 200


def test_password_change_with_a_wrong_old_password_is_refused(user_client, user):
    response = user_client.post(
        "/accounts/password_change/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert "Your old password was entered incorrectly." in field_errors(response, "old_password")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_password_reset_emails_a_link_that_sets_a_new_password(client, user):
    response = client.post("/accounts/password_reset/", {"email": "ADA@example.com"})

    assert response["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@example.com"]
    assert message.subject == "Reset your Learning Roadmaps password"
    assert "reset the password" in message.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/\S+/)", message.body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    assert text(parse(form_page).h1) == "Choose a new password"
    done = client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done["Location"] == "/accounts/reset/done/"
    logged_in = client.post("/accounts/login/", {"username": "ada", "password": NEW_PASSWORD})
    assert logged_in["Location"] == DASHBOARD


def test_password_reset_for_an_unknown_email_sends_nothing_but_looks_the_same(client, user):
    response = client.post("/accounts/password_reset/", {"email": "nobody@example.com"}, follow=True)

    assert response.redirect_chain == [("/accounts/password_reset/done/", 302)]
    assert text(parse(response).h1) == "Check your email"
    assert mail.outbox == []


def test_password_reset_link_used_twice_is_refused(client, user):
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    url = f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"
    form_page = client.get(url, follow=True)
    client.post(form_page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    again = Client().get(url, follow=True)

    assert text(parse(again).h1) == "Reset link not valid"
    assert parse(again).select("form input[type=password]") == []


# Profile


def test_profile_requires_login(client):
    response = client.get(PROFILE)

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


def test_profile_edit_saves_display_name_bio_and_public_switch(user_client, user):
    response = user_client.post(PROFILE, profile_data(is_profile_public="on"))

    assert response.status_code == 302
    assert response["Location"] == PROFILE
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.is_profile_public) == ("Ada L.", "Counting engines.", True)
    page = user_client.get(PROFILE)
    assert "Your profile was saved." in text(parse(page).select_one(".messages"))


def test_profile_links_to_the_public_profile_only_when_it_is_public(user_client, user):
    assert parse(user_client.get(PROFILE)).select_one('a[href="/u/ada/"]') is None

    User.objects.filter(pk=user.pk).update(is_profile_public=True)

    assert text(parse(user_client.get(PROFILE)).select_one('a[href="/u/ada/"]')) == "View your public profile"


def test_profile_form_is_multipart(user_client):
    soup = parse(user_client.get(PROFILE))

    assert soup.select_one("main form:has(input[name=avatar])")["enctype"] == "multipart/form-data"


def test_avatar_upload_is_stored_as_webp_under_avatars_and_shown(user_client, user):
    response = user_client.post(PROFILE, profile_data(avatar=png_upload()))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.avatar.name.startswith("avatars/")
    assert user.avatar.name.endswith(".webp")
    assert default_storage.exists(user.avatar.name)
    with default_storage.open(user.avatar.name) as stored, Image.open(stored) as image:
        assert (image.format, image.size) == ("WEBP", (40, 30))
    img = parse(user_client.get(PROFILE)).select_one(f'img[src="{user.avatar.url}"]')
    assert (img["alt"], img["width"], img["height"]) == ("Your avatar", "96", "96")


def test_avatar_that_is_not_an_image_is_rejected_next_to_the_field_and_nothing_is_saved(user_client, user):
    fake = SimpleUploadedFile("me.png", b"just some text, not a picture", content_type="image/png")

    response = user_client.post(PROFILE, profile_data(avatar=fake, is_profile_public="on"))

    assert response.status_code == 200
    assert "That file is not a PNG, JPEG, WebP or GIF image." in field_errors(response, "avatar")
    user.refresh_from_db()
    assert (user.display_name, user.bio, user.is_profile_public, user.avatar.name) == ("", "", False, "")


def test_replacing_the_avatar_deletes_the_old_file(user_client, user, django_capture_on_commit_callbacks):
    user_client.post(PROFILE, profile_data(avatar=png_upload(color="red")))
    user.refresh_from_db()
    old = user.avatar.name
    assert default_storage.exists(old)

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(PROFILE, profile_data(avatar=png_upload(color="blue")))

    user.refresh_from_db()
    assert user.avatar.name != old
    assert default_storage.exists(user.avatar.name)
    assert not default_storage.exists(old)


def test_clearing_the_avatar_deletes_the_file(user_client, user, django_capture_on_commit_callbacks):
    user_client.post(PROFILE, profile_data(avatar=png_upload()))
    user.refresh_from_db()
    old = user.avatar.name
    assert default_storage.exists(old)

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(PROFILE, profile_data(**{"avatar-clear": "on"}))

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.avatar.name == ""
    assert not default_storage.exists(old)
    assert parse(user_client.get(PROFILE)).select("main img") == []


def test_saving_the_profile_without_a_new_upload_keeps_the_avatar(
    user_client, user, django_capture_on_commit_callbacks
):
    user_client.post(PROFILE, profile_data(avatar=png_upload()))
    user.refresh_from_db()
    avatar = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(PROFILE, profile_data(display_name="Countess"))

    user.refresh_from_db()
    assert (user.display_name, user.avatar.name) == ("Countess", avatar)
    assert default_storage.exists(avatar)


# Deleting the account


def learner_with_records() -> User:
    user = make_user()
    topic = make_topic()
    Progress.objects.create(user=user, topic=topic, status="done", updated_at=timezone.now())
    Note.objects.create(user=user, topic=topic, text="x")
    return user


def test_delete_requires_login(client):
    response = client.get(DELETE)

    assert response["Location"] == "/accounts/login/?next=/accounts/delete/"


def test_delete_page_explains_what_is_deleted(user_client):
    main = text(parse(user_client.get(DELETE)).main)

    assert all(word in main for word in ("progress", "notes", "profile"))


def test_delete_with_a_wrong_password_keeps_everything(client):
    user = learner_with_records()
    client.force_login(user)

    response = client.post(DELETE, {"password": "wrong"})

    assert response.status_code == 200
    assert "Your password was entered incorrectly." in field_errors(response, "password")
    assert User.objects.filter(pk=user.pk).exists()
    assert Progress.objects.filter(user=user).count() == Note.objects.filter(user=user).count() == 1


def test_delete_with_the_right_password_deletes_everything_logs_out_and_goes_home(client):
    user = learner_with_records()
    client.force_login(user)

    response = client.post(DELETE, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/", 302)]
    assert not User.objects.filter(pk=user.pk).exists()
    assert not Progress.objects.filter(user_id=user.pk).exists()
    assert not Note.objects.filter(user_id=user.pk).exists()
    assert SESSION_KEY not in client.session
    assert "Your account and all your data were deleted." in text(parse(response).select_one(".messages"))


def test_deleting_the_account_deletes_the_avatar_file(user_client, user, django_capture_on_commit_callbacks):
    user_client.post(PROFILE, profile_data(avatar=png_upload()))
    user.refresh_from_db()
    avatar = user.avatar.name

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(DELETE, {"password": PASSWORD})

    assert not default_storage.exists(avatar)


# Every form page


def _reset_confirm_url(user: User) -> str:
    return f"/accounts/reset/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


@pytest.mark.parametrize(
    ("url", "logged_in"),
    [
        (lambda user: LOGIN, False),
        (lambda user: SIGNUP, False),
        (lambda user: "/accounts/password_reset/", False),
        (_reset_confirm_url, False),
        (lambda user: "/accounts/password_change/", True),
        (lambda user: PROFILE, True),
        (lambda user: DELETE, True),
    ],
    ids=["login", "signup", "password_reset", "password_reset_confirm", "password_change", "profile", "delete"],
)
def test_form_pages_render_with_crispy_labels_and_one_h1(client, user, url, logged_in):
    if logged_in:
        client.force_login(user)

    response = client.get(url(user), follow=True)

    assert response.status_code == 200
    soup = parse(response)
    assert len(soup.find_all("h1")) == 1
    form = soup.select_one("main form[method=post]")
    assert form.select_one("input[name=csrfmiddlewaretoken]")
    assert form.select(".form-control")
    for field in form.select("input:not([type=hidden]), textarea, select"):
        assert soup.select_one(f'label[for="{field["id"]}"]'), f"no label for {field['name']}"
    assert form.select_one("button[type=submit]")
    assert soup.select("[style]") == []
    assert all(script.get("src") for script in soup.find_all("script"))
