from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_POST

from wagtail.models import Page

from stories import voice_review
from stories.models import StoryPage
from stories.models.voice import options_for


def _form_value(form, name):
    """A field's value as the editor typed it, whether or not the form is complete yet."""
    field = form.fields.get(name)
    if field is None:
        return None
    return field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))


@require_POST
def voice_check(request):
    """The voice check of a story's unsaved form, for the editor's side panel.

    Posted the whole page form (``page`` = the story being edited, or ``parent`` for a
    new one); answers JSON with the score and, per block, the flagged phrases.
    """
    if request.POST.get("page"):
        page = get_object_or_404(Page, pk=request.POST["page"]).specific
        if not isinstance(page, StoryPage):
            return JsonResponse({"error": "Only stories have a voice check."}, status=400)
        if not page.permissions_for_user(request.user).can_edit():
            return JsonResponse({"error": "You cannot edit this story."}, status=403)
        site_page = page
    else:
        parent = get_object_or_404(Page, pk=request.POST.get("parent") or 0)
        page = StoryPage()
        site_page = parent
    form_class = StoryPage.get_edit_handler().get_form_class()
    form = form_class(request.POST, request.FILES, instance=page, for_user=request.user)
    try:
        texts = voice_review.story_texts(
            _form_value(form, "title"), _form_value(form, "intro"), _form_value(form, "body")
        )
    except (ValueError, TypeError, KeyError):
        return JsonResponse({"error": "The form could not be read."}, status=400)
    result = voice_review.check_texts(texts, options_for(site_page))
    return JsonResponse(
        {
            "score": round(result.score, 3),
            "threshold": result.threshold,
            "is_salesy": result.is_salesy,
            "blocks": [
                {
                    "label": block.label,
                    "text": block.text,
                    "findings": [
                        {
                            "start": f.start,
                            "end": f.end,
                            # Context is cut here: JavaScript counts string offsets
                            # in UTF-16 units, Python in code points.
                            "before": block.text[max(0, f.start - 60) : f.start],
                            "phrase": block.text[f.start : f.end],
                            "after": block.text[f.end : f.end + 60],
                            "rule": f.rule,
                            "message": f.message,
                            "suggestion": f.suggestion,
                        }
                        for f in block.findings
                    ],
                }
                for block in result.blocks
            ],
        }
    )
