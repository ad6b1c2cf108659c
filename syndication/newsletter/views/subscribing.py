"""The newsletter's pages for readers: sign up, confirm, preferences, leave, their data.

Nothing changes on a GET. Mail providers and link scanners open the links in emails,
so every change waits for a button (a POST); a GET only shows that button.

Every page behind a token answers a changed, expired or orphaned link with the same
"bad link" page (400, 410 or 404) and changes nothing.
"""

import json
from functools import wraps

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from cms import ratelimit

from .. import subscriptions, tasks
from ..forms import InterestsForm, PreferencesLinkForm, SubscribeForm
from ..models import Subscriber

Status = Subscriber.Status
TEMPLATES = "newsletter/"

#: What the preferences page says after a change (``?done=…``: never free text).
DONE = {
    "interests": "Your interests are saved.",
    "pause": "The newsletter is paused: nothing will come until you resume it.",
    "resume": "Welcome back: the newsletter will come again.",
    "leave": "You have left the newsletter. Nothing more will be sent to you.",
}
ACTIONS = {
    "pause": subscriptions.pause,
    "resume": subscriptions.resume,
    "leave": subscriptions.unsubscribe,
}

get_or_post = require_http_methods(["GET", "HEAD", "POST"])


def with_token(read):
    """Views behind a signed link: ``read`` the token into a subscriber, or answer
    with the bad-link page. Never cached: each page shows one person's data."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, token):
            try:
                subscriber = read(token)
            except subscriptions.BadToken as error:
                return render(
                    request, TEMPLATES + "bad_link.html", {"error": error}, status=error.status
                )
            return view(request, subscriber, token)

        return never_cache(get_or_post(wrapped))

    return decorate


# --- Signing up ------------------------------------------------------------------------
def too_many(request, template: str, context: dict):
    """The form again, saying when to come back, when this address sent too many.

    Sign-ups and link requests send email to whatever address is typed: a limit per
    client (``NEWSLETTER_REQUESTS_PER_ADDRESS``) keeps the form from being a mail cannon.
    Counted for every POST alike, so the answer says nothing about the address typed.
    """
    if request.method != "POST":
        return None
    limited = ratelimit.limit_request(request, "newsletter", "NEWSLETTER_REQUESTS_PER_ADDRESS")
    if limited is None:
        return None
    wait = int(limited["Retry-After"])
    response = render(
        request, template, {**context, "retry_minutes": max(1, -(-wait // 60))}, status=429
    )
    response["Retry-After"] = str(wait)
    return response


def check_inbox(request, email: str, asked: str):
    return render(request, TEMPLATES + "check_inbox.html", {"email": email, "asked": asked})


@never_cache
@get_or_post
def subscribe(request):
    limited = too_many(
        request,
        TEMPLATES + "subscribe.html",
        {"form": SubscribeForm(), "link_form": PreferencesLinkForm()},
    )
    if limited:
        return limited
    form = SubscribeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        email = form.cleaned_data["email"]
        # The same work and the same page whatever the address's state: a task looks
        # it up and sends; the email says the rest.
        tasks.queue_request(subscriptions.SUBSCRIBE, email, form.cleaned_data["interests"])
        return check_inbox(request, email, "subscribe")
    return render(
        request,
        TEMPLATES + "subscribe.html",
        {"form": form, "link_form": PreferencesLinkForm()},
    )


@never_cache
@get_or_post
def request_link(request):
    """ "Already subscribed? Email me a link to my preferences." """
    limited = too_many(
        request, TEMPLATES + "request_link.html", {"link_form": PreferencesLinkForm()}
    )
    if limited:
        return limited
    form = PreferencesLinkForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        email = form.cleaned_data["email"]
        tasks.queue_request(subscriptions.PREFERENCES_LINK, email)
        return check_inbox(request, email, "link")
    return render(request, TEMPLATES + "request_link.html", {"link_form": form})


#: What the confirmation page says, by the subscriber's status.
STATES = {
    Status.PENDING: "ask",
    Status.ACTIVE: "already",
    Status.PAUSED: "already",
    Status.UNSUBSCRIBED: "left",
}


# --- The confirmation link ---------------------------------------------------------------
@with_token(subscriptions.read_confirm_token)
def confirm(request, subscriber, token):
    state = STATES[subscriber.status]
    if request.method == "POST" and state == "ask":
        # confirm() re-reads the row under a lock: it may have changed since.
        state = "confirmed" if subscriptions.confirm(subscriber) else STATES[subscriber.status]
    context = {"state": state, "subscriber": subscriber}
    if state in ("confirmed", "already"):
        context["preferences_url"] = subscriptions.preferences_url(subscriber, request)
    return render(request, TEMPLATES + "confirm.html", context)


# --- Preferences -------------------------------------------------------------------------
@with_token(subscriptions.read_preferences_token)
def preferences(request, subscriber, token):
    form = InterestsForm(initial={"interests": subscriber.interests.all()})
    problem, status = None, 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "interests":
                if subscriber.status == Status.UNSUBSCRIBED:
                    raise subscriptions.NotAllowed("Sign up again to choose interests.")
                form = InterestsForm(request.POST)
                if form.is_valid():
                    subscriptions.set_interests(subscriber, form.cleaned_data["interests"])
                    return redirect(f"{request.path}?done=interests")
            elif action in ACTIONS:
                ACTIONS[action](subscriber)
                return redirect(f"{request.path}?done={action}")
            else:
                problem, status = "That button is not one we know. Please try again.", 400
        except subscriptions.NotAllowed:
            problem, status = "That change is not possible for this subscription just now.", 409
    return render(
        request,
        TEMPLATES + "preferences.html",
        {
            "subscriber": subscriber,
            "form": form,
            "done": DONE.get(request.GET.get("done", "")),
            "problem": problem,
            "token": token,
        },
        status=status,
    )


@with_token(subscriptions.read_preferences_token)
def download_data(request, subscriber, token):
    body = json.dumps(subscriptions.export_data(subscriber), indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{subscriptions.export_filename()}"'
    return response


@with_token(subscriptions.read_preferences_token)
def delete_data(request, subscriber, token):
    if request.method == "POST":
        subscriptions.delete_subscriber(subscriber)
        return render(request, TEMPLATES + "deleted.html")
    return render(request, TEMPLATES + "delete.html", {"subscriber": subscriber, "token": token})


# --- Leaving ---------------------------------------------------------------------------
# CSRF-exempt, this endpoint only: RFC 8058 one-click unsubscribe is a POST made by the
# mail provider, with no cookies and so no CSRF token. The signed token in the address
# is the whole authority; a forged request would need it, and can only stop mail.
@csrf_exempt
@with_token(subscriptions.read_unsubscribe_token)
def unsubscribe(request, subscriber, token):
    if request.method == "POST":
        subscriptions.unsubscribe(subscriber)  # idempotent: a second POST changes nothing
        state = "left"
    else:
        state = "already" if subscriber.status == Status.UNSUBSCRIBED else "ask"
    context = {"state": state, "subscriber": subscriber}
    if state != "ask":
        # A fresh link, so someone who left can still download or delete their data.
        context["preferences_url"] = subscriptions.preferences_url(subscriber, request)
    return render(request, TEMPLATES + "unsubscribe.html", context)
