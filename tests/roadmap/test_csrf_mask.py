"""roadmap.caching.masked_token: Django's CSRF token format and distribution, drawn faster."""

from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    _does_token_match,
    _get_new_csrf_string,
    _unmask_cipher_token,
)

from roadmap import caching


def test_django_unmasks_it_to_the_secret():
    for _ in range(200):
        secret = _get_new_csrf_string()
        token = caching.masked_token(secret)
        assert len(token) == 2 * CSRF_SECRET_LENGTH
        assert set(token) <= set(CSRF_ALLOWED_CHARS)
        assert _unmask_cipher_token(token) == secret
        assert _does_token_match(token, secret)


def test_every_token_is_masked_afresh():
    secret = _get_new_csrf_string()
    tokens = {caching.masked_token(secret) for _ in range(1000)}
    assert len(tokens) == 1000


def test_every_character_is_equally_likely_in_every_position():
    secret = "a" * CSRF_SECRET_LENGTH
    draws = 31_000  # 500 per character and position expected
    counts = [Counter() for _ in range(CSRF_SECRET_LENGTH)]
    for _ in range(draws):
        for position, char in enumerate(caching.masked_token(secret)[:CSRF_SECRET_LENGTH]):
            counts[position][char] += 1
    expected = draws / len(CSRF_ALLOWED_CHARS)
    for position in counts:
        assert set(position) == set(CSRF_ALLOWED_CHARS)
        # Chi-squared with 61 degrees of freedom: above 120 has a probability under 1e-5.
        assert sum((position[char] - expected) ** 2 / expected for char in CSRF_ALLOWED_CHARS) < 120
    # The bytes a modulo would favour (248-255 -> the first 8 characters) are dropped:
    first, rest = CSRF_ALLOWED_CHARS[:8], CSRF_ALLOWED_CHARS[8:]
    total = Counter()
    for position in counts:
        total.update(position)
    assert sum(total[c] for c in first) / 8 == pytest.approx(sum(total[c] for c in rest) / len(rest), rel=0.02)


def test_it_draws_again_when_too_many_bytes_are_dropped(monkeypatch):
    draws = iter([bytes([255] * 60 + [1] * 4), bytes(range(64))])
    monkeypatch.setattr(caching.secrets, "token_bytes", lambda n: next(draws))
    secret = _get_new_csrf_string()
    token = caching.masked_token(secret)
    assert token[:CSRF_SECRET_LENGTH] == CSRF_ALLOWED_CHARS[1] * 4 + "".join(CSRF_ALLOWED_CHARS[:28])
    assert _unmask_cipher_token(token) == secret


def test_a_request_without_a_usable_secret_gets_djangos_own(rf):
    request = rf.get("/")
    token = caching._fresh_token(request)
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    request = rf.get("/")
    request.META["CSRF_COOKIE"] = secret = _get_new_csrf_string()
    assert _unmask_cipher_token(caching._fresh_token(request)) == secret
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
