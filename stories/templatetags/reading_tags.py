"""Places on the reading pages that other apps fill in, without stories naming them.

Stories never imports ``syndication``, templates included: a reading page's template
marks a place with ``{% reading_page_hook "story_page_after_body" %}`` and an app with
something to show there registers a Wagtail hook of that name
(https://docs.wagtail.org/en/stable/reference/hooks.html). Each hook takes the
template context and returns the name of a template to include there, a
``(template name, extra context)`` pair, or None; the template is rendered like
``{% include %}``, with the page's context. The places:

* ``story_page_after_body``: under a story's text (share buttons, the conversation);
* ``story_page_footer``: at the end of a story's footer;
* ``home_page_after_latest``: under the home page's latest stories;
* ``interest_hub_head``: in an interest hub's ``<head>``;
* ``interest_hub_intro``: under an interest hub's description;
* ``site_head``, ``site_nav``, ``site_footer_links``: in every page's frame
  (``templates/base.html``): the ``<head>``, the main menu's items (``<li>``) and the
  footer's links (each followed by " · ", before the sitemap's).
"""

from django import template
from django.utils.html import format_html_join

from wagtail import hooks

register = template.Library()

PLACES = frozenset(
    {
        "story_page_after_body",
        "story_page_footer",
        "home_page_after_latest",
        "interest_hub_head",
        "interest_hub_intro",
        "site_head",
        "site_nav",
        "site_footer_links",
    }
)


@register.simple_tag(takes_context=True)
def reading_page_hook(context, place):
    if place not in PLACES:
        raise template.TemplateSyntaxError(f"No reading page place is called {place!r}.")
    parts = []
    for hook in hooks.get_hooks(place):
        included = hook(context)
        if not included:
            continue
        name, extra = included if isinstance(included, tuple) else (included, {})
        with context.push(**extra):
            parts.append(context.template.engine.get_template(name).render(context))
    return format_html_join("", "{}", ((part,) for part in parts))
