from django.core.management.base import BaseCommand

from modelops.demo import training_demo_seed


class Command(BaseCommand):
    help = (
        "Import a labelled phantom cohort (four training centers, one held-out validation "
        "center) and freeze it as the ground-truth version 'Training demo v1'. Synthetic data. "
        "Needs the demo users (seed_demo)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scans-per-center", type=int, default=24)
        parser.add_argument("--size", type=int, default=128, help="Phantom pixels per side")
        parser.add_argument("--seed", type=int, default=7100)

    def handle(self, *args, scans_per_center, size, seed, **options):
        result = training_demo_seed(scans_per_center=scans_per_center, size=size, seed=seed)
        version = result.version
        self.stdout.write(
            f"training demo: {result.scans_imported} scans imported, "
            f"{result.reads_completed} reads labelled; ground truth "
            f"'{version.name}' (id {version.pk}, {version.scan_count} scans, "
            f"{version.slice_count} slices)"
        )
