"""Social managers choose pictures for posts from the image library (issue 21).

Wagtail's image chooser asks for ``choose_image`` on a collection; Wagtail gives it to
the groups it knows (Editors, Moderators), not to ours. Choosing is all: social managers
still cannot add, change or delete images.
"""

from django.db import migrations


def grant_choose(apps, schema_editor):
    ContentType = apps.get_model("contenttypes.ContentType")
    Permission = apps.get_model("auth.Permission")
    Group = apps.get_model("auth.Group")
    Collection = apps.get_model("wagtailcore.Collection")
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")
    group = Group.objects.filter(name="Social managers").first()
    root = Collection.objects.filter(depth=1).first()
    if group is None or root is None:
        return
    image_type, _ = ContentType.objects.get_or_create(app_label="wagtailimages", model="image")
    choose, _ = Permission.objects.get_or_create(
        content_type=image_type, codename="choose_image", defaults={"name": "Can choose image"}
    )
    GroupCollectionPermission.objects.get_or_create(group=group, collection=root, permission=choose)


def revoke_choose(apps, schema_editor):
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")
    GroupCollectionPermission.objects.filter(
        group__name="Social managers",
        permission__codename="choose_image",
        permission__content_type__app_label="wagtailimages",
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syndication", "0013_pictures"),
        ("wagtailimages", "0027_image_description"),
        ("wagtailcore", "0094_alter_page_locale"),
    ]

    operations = [migrations.RunPython(grant_choose, revoke_choose)]
