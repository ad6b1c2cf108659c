"""Who may look at engagement: anyone with ``engagement.view_engagementrollup``.

Social managers, editors and moderators are given it (the app's migrations). The admin's
reports, the story page, the dashboard panel and the header button all ask here.
"""

from wagtail.permission_policies import ModelPermissionPolicy

from .models import EngagementRollup

VIEW_PERMISSION = "engagement.view_engagementrollup"
permission_policy = ModelPermissionPolicy(EngagementRollup)


def can_view_engagement(user) -> bool:
    return user.is_active and user.has_perm(VIEW_PERMISSION)
