"""Who may do what with the conversation (granted by migration 0004): social managers
read, sort, answer and moderate; editors and moderators read."""


def can_view(user) -> bool:
    return user.has_perm("conversation.view_conversationitem")


def can_sort(user) -> bool:
    """Mark items read, unread or done."""
    return user.has_perm("conversation.change_conversationitem")


def can_answer(user) -> bool:
    return user.has_perm("conversation.answer_conversationitem")


def can_moderate(user) -> bool:
    """Approve or hide replies for the story page, and switch the story's block on or off."""
    return user.has_perm("conversation.moderate_conversationitem")


def can_acknowledge(user) -> bool:
    return user.has_perm("conversation.change_conversationalert")
