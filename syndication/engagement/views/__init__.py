"""Engagement's views, one module a screen.

* ``reader``: the collector (``POST /e/``) and share links, for readers;
* ``report``: *Reports → Engagement*; ``journeys``: *Reports → Reader journeys*;
* ``story``: one story's engagement, opened from its editor;
* ``filters``: the period and narrowing filters the two reports share.

The admin's URLs are in ``admin_urls``, the dashboard panel in ``components``, and
``wagtail_hooks`` registers them (docs/metrics.md).
"""
