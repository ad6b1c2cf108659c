"""A syndication post's life, written once.

::

    draft ──► scheduled ──► publishing ──► published
                 ▲  │            │  ▲
                 │  │            ▼  │ (reconcile)
                 │  │        unconfirmed ──► published | failed
                 │  ├──► missed   (overdue beyond the window: waits for a person)
                 │  └──► cancelled
                 └──── failed / missed (a person retries or reschedules)

Every state change goes through ``SyndicationPost.move`` (a conditional UPDATE on the
expected state), so two workers, a sweeper and a person can race without a post being
published twice or lost. No Django imports here.
"""

DRAFT = "draft"
SCHEDULED = "scheduled"
PUBLISHING = "publishing"
UNCONFIRMED = "unconfirmed"
PUBLISHED = "published"
FAILED = "failed"
MISSED = "missed"
CANCELLED = "cancelled"

LABELS = {
    DRAFT: "Draft",
    SCHEDULED: "Scheduled",
    PUBLISHING: "Publishing",
    UNCONFIRMED: "Unconfirmed",
    PUBLISHED: "Published",
    FAILED: "Failed",
    MISSED: "Missed",
    CANCELLED: "Cancelled",
}

TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SCHEDULED, CANCELLED}),
    SCHEDULED: frozenset({PUBLISHING, SCHEDULED, DRAFT, MISSED, CANCELLED}),
    # Back to scheduled only when the request provably never created anything
    # (not sent, rate limited, account needs reconnecting).
    PUBLISHING: frozenset({PUBLISHED, UNCONFIRMED, SCHEDULED, FAILED}),
    # An unconfirmed post is settled by reading back (or resending with the same
    # idempotency key) under a fresh claim; it is never cancelled blindly.
    UNCONFIRMED: frozenset({PUBLISHING, PUBLISHED, FAILED}),
    FAILED: frozenset({SCHEDULED, CANCELLED}),
    MISSED: frozenset({SCHEDULED, CANCELLED}),
    PUBLISHED: frozenset(),
    CANCELLED: frozenset(),
}

#: States a person sees as "still to happen".
UPCOMING = (DRAFT, SCHEDULED, PUBLISHING, UNCONFIRMED)
#: States that need a person's attention.
NEEDS_ATTENTION = (UNCONFIRMED, FAILED, MISSED)
TERMINAL = (PUBLISHED, CANCELLED)

#: What a social manager can do to a post in the queue: action → (from states, to state).
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "schedule": (frozenset({DRAFT}), SCHEDULED),
    "retry": (frozenset({FAILED, MISSED}), SCHEDULED),
    "reschedule": (frozenset({SCHEDULED, FAILED, MISSED}), SCHEDULED),
    "cancel": (frozenset({DRAFT, SCHEDULED, FAILED, MISSED}), CANCELLED),
}


def sources_for(target: str) -> frozenset[str]:
    """Every state from which ``target`` may be entered."""
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


def allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, ())


def actions_for(state: str) -> list[str]:
    return [name for name, (sources, _) in ACTIONS.items() if state in sources]
