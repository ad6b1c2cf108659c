"""Syndication's admin screens, one module per screen.

* ``accounts``: Channel accounts (the listing, posting slots, reconnect, disconnect).
* ``connect``: Connect an account (Mastodon, Bluesky, LinkedIn, X) and the way back.
* ``queue``: the Post queue (listing, a post in full, schedule/retry/reschedule/cancel).
* ``calendar``: the Calendar (a week or a month of posts; moving a scheduled one).
* ``compose``: Syndicate a story (one post per account) and the live check as people type.
* ``pick_story``: Syndicate a story, picking the story first.

Every change to a post goes through ``syndication.posts`` (and so through the state
machine); these views only gather what people chose and report what happened. The
viewsets that route to them are in ``syndication/viewsets.py``, the other URLs in
``syndication/admin_urls.py``; columns and buttons other apps share are in
``cms/admin_ui.py``.
"""
