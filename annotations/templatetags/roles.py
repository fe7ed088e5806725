"""Template filters on the study's roles, so a template shows only what the user may use."""

from django import template

from annotations.permissions import user_has_role

register = template.Library()


@register.filter
def has_role(user, role: str) -> bool:
    """``{% if user|has_role:"coordinator" %}``: superusers hold every role."""
    return user_has_role(user, role)
