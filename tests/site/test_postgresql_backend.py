"""roadmap_site.postgresql: health checks skip a connection proven moments ago, and only then.

Django's request handler calls ``close_if_unusable_or_obsolete()`` as each
request starts and ends (the test client does not), so ``request()`` below
does the same around one query.
"""

import time

import pytest
from django.db import OperationalError, connection, connections

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def db_wrapper():
    """The default connection, persistent and health-checked as in production (the test runner's is neither)."""
    wrapper = connections["default"]
    old = wrapper.settings_dict["CONN_MAX_AGE"], wrapper.settings_dict["CONN_HEALTH_CHECKS"]
    wrapper.close()
    wrapper.settings_dict["CONN_MAX_AGE"], wrapper.settings_dict["CONN_HEALTH_CHECKS"] = 60, True
    yield wrapper
    wrapper.settings_dict["CONN_MAX_AGE"], wrapper.settings_dict["CONN_HEALTH_CHECKS"] = old
    wrapper.close()


@pytest.fixture
def checks(db_wrapper, monkeypatch) -> list[int]:
    """One entry per health check (``is_usable()`` runs its SELECT 1 on the raw connection)."""
    calls: list[int] = []
    real = type(db_wrapper).is_usable
    monkeypatch.setattr(type(db_wrapper), "is_usable", lambda self: calls.append(1) or real(self))
    return calls


def request(wrapper) -> None:
    wrapper.close_if_unusable_or_obsolete()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1 + 1")
    finally:
        wrapper.close_if_unusable_or_obsolete()


def test_the_settings_use_it():
    assert connections["default"].settings_dict["ENGINE"] == "roadmap_site.postgresql"
    assert type(connections["default"]).__module__ == "roadmap_site.postgresql.base"


def test_a_busy_connection_is_not_checked_before_each_request(db_wrapper, checks):
    request(db_wrapper)  # opens the connection: nothing to check
    for _ in range(5):
        request(db_wrapper)
    assert checks == []


def test_a_connection_idle_for_a_while_is_checked(db_wrapper, checks):
    request(db_wrapper)
    db_wrapper.proven_at = time.monotonic() - 5  # as after five idle seconds
    request(db_wrapper)
    assert checks == [1]
    request(db_wrapper)  # proven again
    assert checks == [1]


def test_a_broken_connection_fails_one_request_and_is_replaced(db_wrapper):
    """Killed right after a good request (a restart within the grace second): one request fails, the next works."""
    request(db_wrapper)
    pid = db_wrapper.connection.info.backend_pid
    other = connections.create_connection("default")
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    other.close()

    with pytest.raises(OperationalError):
        request(db_wrapper)
    assert db_wrapper.connection is None, "closed at the end of the failed request"
    request(db_wrapper)
    assert db_wrapper.connection.info.backend_pid != pid


def test_after_an_error_the_connection_is_checked_and_not_taken_as_proven(db_wrapper, checks):
    request(db_wrapper)
    proven_at = db_wrapper.proven_at
    db_wrapper.close_if_unusable_or_obsolete()
    with pytest.raises(Exception), db_wrapper.cursor() as cursor:  # noqa: B017 - any database error
        cursor.execute("SELECT * FROM no_such_table")
    db_wrapper.close_if_unusable_or_obsolete()  # Django checks it here, and it is fine
    assert checks == [1]
    assert db_wrapper.proven_at == proven_at, "a request with an error proves nothing"


# prepared_cursor() ---------------------------------------------------------------------

PREPARED = "SELECT %s::int + 1 AS roadmap_prepared_test"


def prepared_statements(marker: str = "roadmap_prepared_test") -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if marker in row[0]]


def test_a_prepared_cursor_prepares_its_statement_once_per_connection(django_assert_num_queries):
    from roadmap_site.db import prepared_cursor

    for value in (1, 2, 3):
        with django_assert_num_queries(1) as captured, prepared_cursor(connection) as cursor:
            cursor.execute(PREPARED, [value])
            assert cursor.fetchone() == (value + 1,)
        assert captured.captured_queries[0]["sql"] == f"SELECT {value}::int + 1 AS roadmap_prepared_test"
    assert len(prepared_statements()) == 1  # parsed and planned once, run three times
    with connection.cursor() as cursor:  # Django's own cursors still bind on the client and prepare nothing
        cursor.execute("SELECT %s::int + 2 AS roadmap_prepared_test", [1])
    assert len(prepared_statements()) == 1


def test_prepared_statements_can_be_turned_off(settings):
    from roadmap_site.db import prepared_cursor

    settings.DATABASE_PREPARED_STATEMENTS = False
    with prepared_cursor(connection) as cursor:
        cursor.execute("SELECT %s::int + 3 AS roadmap_prepared_off", [1])
        assert cursor.fetchone() == (4,)
    assert prepared_statements("roadmap_prepared_off") == []
