"""The test kit never touches a database that is not plainly a test database."""

from __future__ import annotations

import pytest

from chatops.testing.fixtures import UnsafeTestDatabase, check_test_url, create_test_database, postgres_url


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres@127.0.0.1:5432/chatops", "postgresql://u:p@db.example/production", "postgresql://h/"],
)
def test_a_url_not_naming_a_test_database_is_refused(url: str) -> None:
    with pytest.raises(UnsafeTestDatabase, match="must name a test database"):
        check_test_url(url)


async def test_refused_before_anything_is_created() -> None:
    # No server at this address: the refusal must come before any connection is tried.
    with pytest.raises(UnsafeTestDatabase):
        await create_test_database("postgresql://postgres@127.0.0.1:1/prod")


def test_the_fixture_database_is_one_of_its_own(database_url: str) -> None:
    given = postgres_url()
    if database_url.startswith("sqlite"):
        pytest.skip("the SQLite variant uses a file per test")
    assert given is not None
    assert database_url != given
    assert database_url.rsplit("/", 1)[1].startswith(given.rsplit("/", 1)[1] + "_")
