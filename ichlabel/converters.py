"""The ``id`` path converter: the integers a database key can hold, in ASCII digits.

Django's ``int`` takes any run of digits, so an id beyond 64 bits reached the database and
failed there (a 500 on SQLite). ``id`` takes up to 18 digits (every value below 2**63), so a
larger one matches no route: a 404 like any id that names nothing.
"""

from django.urls import register_converter


class IdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
