"""System checks for the publishing engine's timing, which exactly-once depends on."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def publishing_timeouts(app_configs, **kwargs):
    limit = settings.SYNDICATION_TASK_TIME_LIMIT
    errors = []
    if limit >= settings.SYNDICATION_STUCK_AFTER:
        errors.append(
            Error(
                "SYNDICATION_STUCK_AFTER_SECONDS must be longer than "
                "SYNDICATION_TASK_TIME_LIMIT_SECONDS, or the sweeper could take a post from "
                "a task that is still running.",
                id="syndication.E001",
            )
        )
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout")
    if visibility is not None and visibility <= limit:
        errors.append(
            Error(
                "The broker's visibility_timeout must be longer than "
                "SYNDICATION_TASK_TIME_LIMIT_SECONDS, or a slow task is handed to a second "
                "worker while it runs.",
                id="syndication.E002",
            )
        )
    if limit <= settings.SYNDICATION_HTTP_TIMEOUT * 3:
        errors.append(
            Error(
                "SYNDICATION_HTTP_TIMEOUT_SECONDS is too close to the task time limit: a "
                "publish makes up to three calls (refresh, read back, create).",
                id="syndication.E003",
            )
        )
    return errors


@register()
def outbound_settings(app_configs, **kwargs):
    """The guard's settings are read at each request: a typo must stop start-up instead."""
    import ipaddress

    errors = []
    for port in settings.SYNDICATION_OUTBOUND_ALLOWED_PORTS:
        if str(port) != "*" and not (str(port).isdigit() and 0 < int(port) < 65536):
            errors.append(
                Error(
                    f"SYNDICATION_OUTBOUND_ALLOWED_PORTS has {port!r}: give port numbers, "
                    'or "*" for any port.',
                    id="syndication.E004",
                )
            )
    for cidr in settings.SYNDICATION_OUTBOUND_ALLOW_PRIVATE:
        try:
            ipaddress.ip_network(str(cidr).strip(), strict=False)
        except ValueError:
            errors.append(
                Error(
                    f"SYNDICATION_OUTBOUND_ALLOW_PRIVATE has {cidr!r}, which is not an "
                    "address range such as 127.0.0.0/8.",
                    id="syndication.E005",
                )
            )
    return errors
