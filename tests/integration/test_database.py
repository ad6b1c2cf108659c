"""CI proves PostgreSQL; a fresh machine proves SQLite (no DATABASE_URL)."""

import os

from django.db import connection

import pytest

from stories.models import AudienceInterest
from tests.conftest import IN_CI
from tests.factories import AudienceInterestFactory

pytestmark = pytest.mark.django_db


def test_the_suite_runs_on_the_database_it_was_given():
    url = os.environ.get("DATABASE_URL", "")
    if IN_CI:
        assert url.startswith("postgres"), "CI must run the suite on PostgreSQL (DATABASE_URL)"
    expected = "postgresql" if url.startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_case_insensitive_interest_slug_constraint_is_enforced_by_the_database(tree):
    from django.db import IntegrityError, transaction

    AudienceInterestFactory(name="Pets", slug="pets")
    with pytest.raises(IntegrityError), transaction.atomic():
        # Bypass model validation and save(): the database itself must refuse.
        AudienceInterest.objects.bulk_create([AudienceInterest(name="PETS", slug="PETS")])
