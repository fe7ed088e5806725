"""``user|reads_in_reader_study``: whether the nav shows a neuroradiologist the reader studies
(only those who read in one, open or closed)."""

from django import template

register = template.Library()


@register.filter
def reads_in_reader_study(user) -> bool:
    from modelops.reader_study.models import ReaderStudySession

    if not user.is_authenticated:
        return False
    return ReaderStudySession.objects.filter(reader=user).exists()
