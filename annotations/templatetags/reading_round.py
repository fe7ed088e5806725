"""Template filters of the reading round: a read's role named as everywhere else."""

from django import template

from annotations.assignment.plan import read_role as role_of

register = template.Library()


@register.filter
def read_role(read) -> str:
    """``{{ read|read_role }}``: "Primary read", "Cross-read" or, for every read of a test
    scan, "Scan-level read of the test set" (``annotations.assignment.plan.read_role``)."""
    return role_of(kind=read.kind, level=read.level)
