"""``manage.py seed_demo``: demo users and synthetic phantom scans from five centers."""

from django.core.management.base import BaseCommand

from annotations.demo import DEMO_PASSWORD, DEMO_USERS, demo_seed


class Command(BaseCommand):
    help = "Create demo users for every role and import synthetic phantom scans (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--scans-per-center", type=int, default=4)
        parser.add_argument("--size", type=int, default=512, help="phantom image size in pixels")
        parser.add_argument("--seed", type=int, default=2022)

    def handle(self, *args, **options):
        result = demo_seed(
            scans_per_center=options["scans_per_center"], size=options["size"], seed=options["seed"]
        )
        self.stdout.write(
            f"demo: {result.users_created} users created, {result.scans_imported} synthetic scans "
            f"({result.slices_imported} slices) imported"
        )
        if result.users_created:
            names = ", ".join(username for username, _ in DEMO_USERS)
            self.stdout.write(f"demo logins: {names}, admin; password {DEMO_PASSWORD!r}")
