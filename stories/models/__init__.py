from .pages import HomePage, StoryIndexPage, StoryLink, StoryPage
from .snippets import AudienceInterest, StorySeries
from .voice import VoiceApproval, VoiceReviewTask, VoiceSettings

__all__ = [
    "AudienceInterest",
    "HomePage",
    "StoryIndexPage",
    "StoryLink",
    "StoryPage",
    "StorySeries",
    "VoiceApproval",
    "VoiceReviewTask",
    "VoiceSettings",
]
