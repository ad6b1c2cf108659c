"""The newsletter's views, one module a screen.

For readers: ``subscribing`` (sign up, confirm, preferences, leaving, a person's data)
and ``for_you`` (a newsletter link's click, the "For you" fragment and its consent).
In the admin: ``editions`` and ``subscribers``, gathered into viewsets by
``syndication.newsletter.viewsets`` and registered by ``wagtail_hooks``.
"""
