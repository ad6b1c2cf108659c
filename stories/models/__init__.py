from .pages import HomePage, StoryIndexPage, StoryLink, StoryPage
from .snippets import AudienceInterest, StorySeries

__all__ = [
    "AudienceInterest",
    "HomePage",
    "StoryIndexPage",
    "StoryLink",
    "StoryPage",
    "StorySeries",
]
