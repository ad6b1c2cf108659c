"""Every admin URL × anonymous, editor, social manager and admin: who reaches what.

The URLs come from the resolver (everything under ``/admin/``: Wagtail's own screens and
ours), their arguments filled with real objects made here. Each role GETs every URL, then
POSTs (empty forms) to every URL that changes something. The table ``EXPECTED`` says, per
area, what each role gets; no answer is ever a 5xx. A new admin screen is walked the day
it is registered: give its area a line in the table if the default is not right.
"""

import re

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from wagtail.contrib.redirects.models import Redirect
from wagtail.contrib.settings.registry import registry as settings_registry
from wagtail.documents.models import Document
from wagtail.models import Collection, Page, Site, Task, Workflow

import pytest

from cms.models import QuarantinedMessage, TaskFailure
from stories.models import AudienceInterest, StorySeries
from syndication import states
from syndication.conversation.models import ConversationAlert, ConversationItem
from syndication.models import ChannelAccount, SyndicationPost
from syndication.newsletter.models import Edition, Subscriber
from tests.factories import (
    AudienceInterestFactory,
    ChannelAccountFactory,
    ImageFactory,
    StoryPageFactory,
    SubscriberFactory,
    site_tree,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "editor", "social_manager", "admin")
#: Open to anyone: signing in, resetting a password, the admin's static catalogue.
OPEN = re.compile(
    r"^wagtailadmin_(login|password_reset\w*|javascript_catalog|sprite)$|^wagtailadmin_logout$"
)
#: URL names whose POST changes something (an empty form: refused, invalid or done).
CHANGES = re.compile(
    r"(^|[:_])(add|add_subpage|edit|delete\w*|copy|unpublish|move_confirm|set_page_position"
    r"|lock|unlock|convert_alias|revisions_revert|revisions_unschedule|set_privacy|enable"
    r"|disable|enable_task|disable_task|remove|workflow_action|action|resend|disconnect"
    r"|reconnect|connect_\w+|create|bulk_action|process_import|compose|state|moderate|show"
    r"|acknowledge|answer|forget|reschedule)$"
)
#: Of those, the forms: people who may use them get an empty POST only where they are
#: refused (Wagtail's page and chooser forms read their formset counts unchecked).
FORMS = re.compile(r"(^|[:_])(add|add_subpage|edit|copy|revisions_revert|create|process_import)$")
#: Wagtail's deliberate error page, for checking error reporting.
SKIPPED = {"wagtailadmin_error_test"}

#: (area, URL name pattern): the first line that matches names the area.
AREAS = [
    ("open", OPEN.pattern),
    # Syndication that editors take part in: the queue (read), composing, the voice check.
    ("proposing", r"^syndication_posts:(index|index_results|inspect)$"),
    ("proposing", r"^syndication_admin:(pick_story|compose|check|picture_preview)$"),
    ("proposing", r"^syndication_calendar:index$"),
    # Channel accounts, queue actions, the newsletter, operations reports.
    ("syndication", r"^syndication_accounts:"),
    ("syndication", r"^syndication_admin:connect"),
    ("syndication", r"^syndication_posts:action$"),
    ("syndication", r"^syndication_calendar:reschedule$"),
    ("syndication", r"^newsletter_"),
    ("syndication", r"^(task_failures|quarantined_messages):"),
    ("engagement", r"^syndication_engagement_"),
    # The conversation: everyone who works on stories reads it; social managers act on it.
    ("conversation", r"^conversation_(state|moderate|story_show|acknowledge|answer|forget)$"),
    ("reading", r"^conversation_(inbox:|thread$)"),
    # Who may run the site: people, groups, sites, settings, workflows, redirects.
    ("site", r"^wagtail(users_users|users_groups|sites|settings|redirects):"),
    ("site", r"^wagtailadmin_workflows:(?!task_chooser|task_chosen)"),
    ("site", r"^wagtailadmin_collections:"),
    # Writing stories: editors do; social managers do not.
    ("writing", r"^wagtailadmin_pages:(add|add_subpage|edit|preview_on_add|preview_on_edit)$"),
    # Everything else that changes pages, snippets, images and documents: editors as
    # Wagtail's Editors group allows (no publishing, locking or deleting others' pages).
    (
        "content",
        r"^wagtailadmin_pages:(delete|unpublish|move|move_confirm|set_page_position|copy|lock"
        r"|unlock|convert_alias|revisions_revert|set_privacy|revisions_unschedule)$",
    ),
    ("content", r"^wagtailsnippets_stories_\w+:(add|edit|delete|copy)$"),
    ("content", r"^wagtail(images|docs):(add|edit|delete)"),
    ("any", r""),
]

#: What each role gets in each area: "login" (sent to sign in), "denied" (Wagtail's
#: refusal: a 403 or back to the dashboard; or a 404/405, nothing there for them),
#: "reached" (anything else below 500, a 404/405 included: an object a view only shows
#: in some states, a POST-only URL) or "any" (either; still never a 5xx). Anonymous
#: people are sent to sign in everywhere but on the open screens. ``SCREENS`` checks
#: that the screens each role works in really open (200).
EXPECTED = {
    "open": {"anonymous": "any", "editor": "any", "social_manager": "any", "admin": "any"},
    "proposing": {"editor": "reached", "social_manager": "reached", "admin": "reached"},
    "syndication": {"editor": "denied", "social_manager": "reached", "admin": "reached"},
    "engagement": {"editor": "reached", "social_manager": "reached", "admin": "reached"},
    "reading": {"editor": "reached", "social_manager": "reached", "admin": "reached"},
    "conversation": {"editor": "denied", "social_manager": "reached", "admin": "reached"},
    "site": {"editor": "denied", "social_manager": "denied", "admin": "reached"},
    "writing": {"editor": "reached", "social_manager": "denied", "admin": "reached"},
    "content": {"editor": "any", "social_manager": "denied", "admin": "reached"},
    "any": {"editor": "any", "social_manager": "any", "admin": "any"},
}


#: The screens each role works in: they must open (200), not merely avoid a refusal.
SCREENS = {
    "editor": [
        "wagtailadmin_pages:edit",
        "wagtailadmin_pages:add",
        "syndication_posts:index",
        "syndication_calendar:index",
        "syndication_admin:compose",
        "syndication_engagement_report",
        "conversation_inbox:index",
        "conversation_thread",
    ],
    "social_manager": [
        "syndication_accounts:index",
        "syndication_admin:connect",
        "syndication_posts:index",
        "syndication_calendar:index",
        "syndication_accounts:slots",
        "newsletter_editions:index",
        "newsletter_subscribers:index",
        "task_failures:index",
        "quarantined_messages:index",
        "quarantined_messages:inspect",
        "conversation_inbox:index",
        "conversation_thread",
        "conversation_answer",
    ],
    "admin": [
        "wagtailadmin_pages:edit",
        "wagtailusers_users:index",
        "wagtailusers_users:edit",
        "wagtailusers_groups:edit",
        "wagtailsites:index",
        "wagtailsettings:edit",
        "syndication_accounts:index",
        "newsletter_subscribers:index",
    ],
}


def area_of(name: str) -> str:
    for area, name_pattern in AREAS:
        if re.search(name_pattern, name):
            return area
    raise AssertionError(name)  # pragma: no cover - the last line matches everything


def admin_patterns():
    """(name, pattern, view model) of every URL under /admin/, from the resolver."""
    found = []

    def walk(resolver, prefix, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                if route.startswith("admin/"):
                    initkwargs = getattr(entry.callback, "view_initkwargs", None) or {}
                    name = f"{namespace}{entry.name}" if entry.name else ""
                    found.append((name, entry.pattern, initkwargs.get("model")))

    walk(get_resolver(), "", "")
    return found


class World:
    """Real objects for every kind of URL argument."""

    def __init__(self):
        self.home, self.index = site_tree()
        self.story = StoryPageFactory(
            parent=self.index, interests=[AudienceInterestFactory(name="Home")]
        )
        self.revision = self.story.save_revision()
        self.image = ImageFactory()
        self.editor = make_user("editor", "Editors")
        self.social_manager = make_user("social_manager", "Social managers")
        self.admin = make_user("admin", superuser=True)
        self.victim = make_user("victim", "Editors")
        self.account = ChannelAccountFactory(remote_id="role-matrix")
        self.post = SyndicationPost.objects.create(
            story=self.story,
            account=self.account,
            text="A story. {story_url}",
            scheduled_at=timezone.now(),
            state=states.FAILED,
        )
        self.edition = Edition.objects.create(title="This week")
        self.subscriber = SubscriberFactory()
        self.failure = TaskFailure.objects.create(
            task_name="stories.tasks.publish_scheduled_pages",
            exception_type="RuntimeError",
            message="boom",
        )
        self.quarantined = QuarantinedMessage.objects.create(
            consumer="engagement stream", key="1-0", payload="{}", error="DataError: NUL"
        )
        self.series = StorySeries.objects.create(name="A series")
        self.interest = AudienceInterest.objects.first()
        self.workflow = Workflow.objects.first()
        self.task = Task.objects.first()
        self.collection = Collection.get_first_root_node().add_child(name="Press")
        self.group = Group.objects.get(name="Editors")
        self.site = Site.objects.get(is_default_site=True)
        self.redirect = Redirect.objects.create(old_path="/old", redirect_link="/new")
        self.document = Document.objects.create(
            title="A document", file=ContentFile(b"Minutes.", name="minutes.txt")
        )
        self.setting = next(iter(settings_registry))._meta  # Settings → Voice check
        self.post.state = states.PUBLISHED
        self.post.remote_id = "1"
        self.post.save()
        self.item = ConversationItem.objects.create(
            post=self.post,
            network="mastodon",
            remote_id="social.example/1",
            kind="reply",
            text="Which key fits?",
            remote_ref={"id": "1"},
        )
        self.alert = ConversationAlert.objects.create(
            story=self.story,
            window_start=timezone.now(),
            window_end=timezone.now(),
            complaints=3,
        )

    def kwargs_for(self, name, pattern, model) -> dict:
        """The URL's arguments, each a real object where one exists."""
        names = set(pattern.regex.groupindex) | set(getattr(pattern, "converters", {}))
        if isinstance(model, str):
            model = apps.get_model(model)
        by_model = {
            ChannelAccount: self.account,
            SyndicationPost: self.post,
            Edition: self.edition,
            Subscriber: self.subscriber,
            TaskFailure: self.failure,
            QuarantinedMessage: self.quarantined,
            StorySeries: self.series,
            AudienceInterest: self.interest,
            Site: self.site,
            Group: self.group,
            Page: self.story,
            Collection: self.collection,
            Workflow: self.workflow,
        }
        by_namespace = {
            "syndication_accounts": self.account,
            "syndication_posts": self.post,
            "syndication_calendar": self.post,
            "newsletter_editions": self.edition,
            "newsletter_subscribers": self.subscriber,
            "wagtailusers_users": self.victim,
            "wagtailusers_groups": self.group,
            "wagtailadmin_collections": self.collection,
            "wagtailadmin_workflows": self.task if "task" in name else self.workflow,
            "wagtailadmin_api:pages": self.story,
            "wagtailadmin_api:images": self.image,
            "wagtailadmin_api:documents": self.document,
            "wagtailimages_chooser": self.image,
            "wagtaildocs_chooser": self.document,
            "conversation_acknowledge": self.alert,
            "conversation_": self.item,
        }
        owner = by_model.get(model)
        if owner is None and model is not None:
            owner = model.objects.order_by("pk").first()
        for namespace, instance in by_namespace.items():
            if name.startswith(f"{namespace}:") or (
                namespace.startswith("conversation_") and name.startswith(namespace)
            ):
                owner = instance
                break
        values = {
            "pk": getattr(owner, "pk", 0),
            "page_id": self.story.pk,
            "story_id": self.story.pk,
            "page_pk": self.story.pk,
            "page_to_move_id": self.story.pk,
            "parent_page_id": self.index.pk,
            "destination_id": self.home.pk,
            "revision_id": self.revision.pk,
            "image_id": self.image.pk,
            "document_id": self.document.pk,
            "doc_id": self.document.pk,
            "collection_id": self.collection.pk,
            "redirect_id": self.redirect.pk,
            "workflow_pk": self.workflow.pk,
            "task_id": self.task.pk,
            "task_state_id": 0,
            "workflow_state_id": 0,
            "uploaded_file_id": 0,
            "session_id": 0,
            "object_id": str(self.story.pk),
            "app_label": "wagtailcore",
            "model_name": "page",
            "app_name": self.setting.app_label,
            "content_type_app_name": "stories",
            "content_type_model_name": "storypage",
            "action": "retry" if name.endswith("posts:action") else "delete",
            "action_name": "approve",
            "filter_spec": "original",
            "network": "linkedin",
            "uidb64": "MQ",
            "token": "set-password",
        }
        if name.startswith("wagtailsettings:"):
            values["model_name"] = self.setting.model_name
            values["pk"] = self.site.pk
        if name == "newsletter_editions:action":
            values["action"] = "cancel"
        if name == "wagtailadmin_pages:choose_parent":
            values.update(app_label="stories", model_name="storypage")
        return {key: values[key] for key in names}


def make_user(username, *groups, superuser=False):
    user = get_user_model().objects.create_user(
        username=username, password="pw", is_superuser=superuser, is_staff=superuser
    )
    user.groups.add(*Group.objects.filter(name__in=groups))
    assert user.groups.count() == len(groups)
    return user


def urls_of(world):
    """(area, name, url, changes) for every admin URL."""
    walked = []
    for name, pattern, model in admin_patterns():
        if not name:  # Wagtail's catch-all 404 and its test page
            walked.append(("any", "unnamed", "/admin/no-such-screen/", False))
            continue
        if name in SKIPPED:
            continue
        kwargs = world.kwargs_for(name, pattern, model)
        try:
            url = reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            if name == "wagtailadmin_pages:revisions_compare":
                url = reverse(name, args=[world.story.pk, "earliest", "live"])
            else:
                raise
        if name == "wagtail_bulk_action":
            url += f"?id={world.story.pk}"
        walked.append((area_of(name), name, url, bool(CHANGES.search(name))))
    return sorted(set(walked), key=lambda entry: entry[2])


def outcome(response) -> str:
    if response.status_code >= 500:
        return "error"
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith("/admin/login/"):
        return "login"
    if response.status_code == 403 or (response.status_code == 302 and location == "/admin/"):
        return "denied"
    if response.status_code in (404, 405):
        return "absent"
    return "reached"


def matches(expected: str, got: str) -> bool:
    if got == "error":
        return False
    if expected == "any":
        return True
    if expected in ("denied", "reached"):
        return got in (expected, "absent")
    return got == expected


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_url_answers_each_role_as_designed(role):
    world = World()
    client = Client(HTTP_HOST="localhost", raise_request_exception=False)
    if role != "anonymous":
        client.force_login(getattr(world, role))
    walked = urls_of(world)
    assert len(walked) > 200  # the resolver was walked, not a short list
    requests = 0

    wrong, statuses = [], {}
    for method in ("GET", "POST"):
        for area, name, url, changes in walked:
            if name == "wagtailadmin_logout" and role != "anonymous":
                continue  # would end this role's session halfway
            if method == "POST" and not changes:
                continue
            may = role == "admin" or (role != "anonymous" and EXPECTED[area][role] != "denied")
            if method == "POST" and FORMS.search(name) and may:
                continue
            response = client.get(url) if method == "GET" else client.post(url, {})
            requests += 1
            got = outcome(response)
            statuses.setdefault((method, name), set()).add(response.status_code)
            if role == "anonymous":
                expected = "any" if area == "open" else "login"
            else:
                expected = EXPECTED[area][role]
            if not matches(expected, got):
                wrong.append(f"{method} {url} ({name}, {area}): {got}, not {expected}")
    assert not wrong, "\n".join(wrong)
    assert requests < 400  # a few hundred per role keeps the walk quick
    for name in SCREENS.get(role, []):
        assert 200 in statuses[("GET", name)], name

    # Nothing a refused POST aimed at is gone.
    kept = {
        "anonymous": ["account", "subscriber", "edition", "victim", "group", "story"],
        "editor": ["account", "subscriber", "edition", "victim", "group"],
        "social_manager": ["victim", "group", "story", "series", "interest"],
        "admin": [],
    }
    for attribute in kept[role]:
        instance = getattr(world, attribute)
        assert type(instance).objects.filter(pk=instance.pk).exists(), attribute
