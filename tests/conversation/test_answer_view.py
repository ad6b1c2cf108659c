"""The answer screen in the admin: who may use it, what it shows, what it refuses."""

from django.urls import NoReverseMatch, reverse

import pytest

from syndication import states
from syndication.conversation.models import Answer
from syndication.models import SyndicationPost
from tests.syndication.conftest import make_user

from .answering import PITCH, THANKS, Thread, nothing_stored, run_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(mastodon_server, make_story):
    return Thread(mastodon_server, make_story)


@pytest.fixture
def url(thread):
    return reverse("conversation_answer", args=[thread.item.pk])


@pytest.fixture
def client(client):
    client.defaults["HTTP_HOST"] = "localhost"
    return client


@pytest.fixture
def manager(client, django_user_model):
    user = make_user(django_user_model, "sam", "Social managers")
    client.force_login(user)
    return user


@pytest.fixture
def editor(client, django_user_model):
    user = make_user(django_user_model, "eddie", "Editors")
    client.force_login(user)
    return user


def errors_of(response) -> str:
    form = response.context["form"]
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


def test_the_url_is_the_one_the_thread_links_to(thread, url):
    assert url == f"/admin/conversation/items/{thread.item.pk}/answer/"


def test_a_social_manager_answers_and_goes_back_to_the_thread(client, thread, url, manager):
    page = client.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Lovely story! Is there a part two?" in body
    assert 'name="text"' in body and "@alice </textarea>" in body  # mention prefilled
    assert "Voice check: no sales speak found." in body
    assert 'name="override_reason"' not in body  # only when the check flags

    response = client.post(url, {"text": f"@alice {THANKS}"})

    answer = Answer.objects.get()
    assert answer.item == thread.item and answer.created_by == manager
    assert answer.post.text == f"@alice {THANKS}"
    assert answer.post.reply_to_ref == {"id": thread.reply_id}
    assert answer.post.state == states.SCHEDULED
    assert response.status_code == 302
    try:
        expected = reverse("conversation_thread", args=[thread.item.pk])
    except NoReverseMatch:
        expected = url
    assert response["Location"] == expected

    assert run_due() == ["published"]
    [status] = thread.answers_on_server()
    assert status["text"] == f"@alice {THANKS}"


def test_a_pitch_shows_the_voice_checks_reasons_and_needs_a_reason(client, thread, url, manager):
    response = client.post(url, {"text": PITCH})

    assert response.status_code == 200
    body = response.content.decode()
    assert "Reads as selling" in body
    assert "<mark>Buy now</mark>" in body
    assert "tells the reader to spend money" in body
    assert 'name="override_reason"' in body
    assert "say why it should go out anyway" in errors_of(response)
    assert nothing_stored()

    response = client.post(url, {"text": PITCH, "override_reason": "Alice asked for the deal"})
    assert response.status_code == 302
    post = Answer.objects.get().post
    assert post.voice_override_reason == "Alice asked for the deal"


def test_editors_are_refused_and_nothing_is_stored(client, thread, url, editor):
    page = client.get(url)
    # The Wagtail way for a page (as every syndication screen): back to the dashboard.
    assert page.status_code == 302 and page["Location"] == "/admin/"
    response = client.post(url, {"text": THANKS})
    assert response.status_code == 403
    assert nothing_stored()


def test_anonymous_people_are_sent_to_the_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"text": "Thanks\x00 Alice"}, "Null characters are not allowed"),
        # A lone surrogate as a browser would have to send it: bytes that are not UTF-8.
        (b"text=Thanks+%ED%A0%80+Alice", "could not be read"),
        ({"text": "x" * 100_000}, "at most 10,000 characters"),
        ({"text": "x" * 501}, "over Mastodon's 500-character limit"),
        ({"text": "   "}, "Write the answer."),
    ],
)
def test_hostile_text_gets_a_clear_form_error_and_stores_nothing(
    client, thread, url, manager, body, says
):
    if isinstance(body, bytes):
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
    else:
        response = client.post(url, body)
    assert response.status_code == 200
    assert says in errors_of(response)
    assert says in response.content.decode().replace("&#x27;", "'")
    assert nothing_stored()
    assert SyndicationPost.objects.count() == 1  # only our post


def test_an_item_that_cannot_be_answered_says_why_instead_of_a_form(client, thread, url, manager):
    thread.item.kind = "like"
    thread.item.save()
    page = client.get(url)
    assert "says nothing to answer" in page.content.decode()
    assert 'name="text"' not in page.content.decode()
    response = client.post(url, {"text": THANKS})
    assert response.status_code == 200
    assert "says nothing to answer" in response.content.decode()
    assert nothing_stored()


def test_the_form_partial_renders_on_its_own(thread, manager, rf):
    from django.template.loader import render_to_string

    from syndication.conversation.forms import AnswerForm

    form = AnswerForm(item=thread.item)
    form.check_initial()
    request = rf.get("/")
    request.user = manager
    html = render_to_string(
        "conversation/admin/includes/answer_form.html",
        {"item": thread.item, "form": form},
        request=request,
    )
    assert f'action="/admin/conversation/items/{thread.item.pk}/answer/"' in html
    assert "csrfmiddlewaretoken" in html
    assert "Send answer" in html
