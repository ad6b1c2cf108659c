from django.apps import AppConfig


class CmsConfig(AppConfig):
    """The project itself, as an app: what operations need across all the apps.

    One model (``TaskFailure``: background task failures for the admin), the
    ``storyloom_status`` command and the failures report. Why here and not in a fourth
    app or in ``syndication``: docs/architecture.md, "Operations".
    """

    name = "cms"
    verbose_name = "Operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import exports, ops

        ops.connect_signals()
        # Every admin CSV export escapes cells a spreadsheet would run as formulas.
        exports.install()
