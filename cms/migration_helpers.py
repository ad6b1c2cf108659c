"""What data migrations share: giving groups permissions.

Migration files import this module by name, so it is part of the migration history:
change what ``grant()`` does and every database migrated from now on differs from those
migrated before. Add a parameter if a new migration needs something else; never change
the default behaviour.
"""

from collections.abc import Iterable

from django.contrib.auth.management import create_permissions


def grant(
    permissions: Iterable[tuple[str, str]],
    groups: Iterable[str],
    *,
    create_groups: bool = False,
    create_for: Iterable[str] | None = None,
):
    """Return a ``RunPython`` function giving ``groups`` the ``permissions``.

    ``permissions`` are ``(app_label, codename)`` pairs; one that does not exist is
    skipped. Groups that do not exist are skipped too, unless ``create_groups``.

    Permissions (and content types) are made first, because Django only makes them in
    ``post_migrate``, after every migration has run: by default for every app in the
    migration state, or for the app labels in ``create_for``.
    """
    permissions = sorted(permissions)
    groups = list(groups)
    create_for = None if create_for is None else list(create_for)

    def run(apps, schema_editor):
        if create_for is None:
            app_configs = apps.get_app_configs()
        else:
            app_configs = [apps.get_app_config(label) for label in create_for]
        for app_config in app_configs:
            # create_permissions() skips an app without a models module; a historical
            # app has none, so lend it one for the call.
            app_config.models_module = True
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
        Group = apps.get_model("auth.Group")
        Permission = apps.get_model("auth.Permission")
        found = []
        for app_label, codename in permissions:
            found.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )
        for name in groups:
            if create_groups:
                group, _ = Group.objects.get_or_create(name=name)
            else:
                group = Group.objects.filter(name=name).first()
                if group is None:
                    continue
            group.permissions.add(*found)

    return run


def move_content_types(models: Iterable[str], from_label: str, to_label: str):
    """A ``RunPython`` function moving ``models``' content types from one app label to
    another, and so their permissions, the groups holding them and Wagtail's log entries
    about them (models moved between apps with ``SeparateDatabaseAndState``)."""

    def move(apps, schema_editor):
        ContentType = apps.get_model("contenttypes", "ContentType")
        content_types = ContentType.objects.using(schema_editor.connection.alias)
        for model in models:
            if not content_types.filter(app_label=from_label, model=model).exists():
                continue  # a database that never had the model's content type
            # The new label's own, made before the move by a stray create_permissions,
            # holds nothing yet: it gives way to the one that carries the grants.
            content_types.filter(app_label=to_label, model=model).delete()
            content_types.filter(app_label=from_label, model=model).update(app_label=to_label)

    return move
