"""``{% send_times account %}``: the compose form's suggested times for one account.

The view puts ``send_time_advice`` (``sendtimes.advice_for``: every account's, in three
queries) in the context; this renders one account's part of it.
"""

from django import template
from django.utils import dateformat, timezone

from wagtail.admin.widgets import AdminDateTimeInput

register = template.Library()


@register.inclusion_tag("syndication/admin/includes/compose_send_times.html", takes_context=True)
def send_times(context, account):
    advice = context.get("send_time_advice", {}).get(account.pk)
    shown_format = AdminDateTimeInput().format
    suggestions = []
    if advice is not None:
        for suggestion in advice.suggestions:
            # The form reads the time in the admin's zone, which may not be the site's.
            local = timezone.localtime(suggestion.at)
            suggestions.append(
                {
                    "value": local.strftime(shown_format),
                    "label": dateformat.format(local, "D j M, H:i"),
                    "reason": suggestion.reason,
                    "lift": suggestion.figure.lift,
                }
            )
    return {"account": account, "advice": advice, "suggestions": suggestions}
