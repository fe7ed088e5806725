"""Ground-truth scan rows keep the scan's center and split as frozen. Versions frozen before
take the values their scans have now (the best record there is)."""

import django.db.models.deletion
from django.db import migrations, models


def _fill_from_scans(apps, schema_editor):
    label_model = apps.get_model("annotations", "GroundTruthScanLabel")
    rows = label_model.objects.select_related("scan__center").iterator(chunk_size=2000)
    # A migration may write frozen rows: the model's guard lives in the app's class, not here.
    for row in rows:
        label_model.objects.filter(pk=row.pk).update(
            center_id=row.scan.center_id, center_name=row.scan.center.name, split=row.scan.split
        )


class Migration(migrations.Migration):
    dependencies = [("annotations", "0006_ground_truth_slice_label_lean")]

    operations = [
        migrations.AddField(
            model_name="groundtruthscanlabel",
            name="center",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="annotations.center",
            ),
        ),
        migrations.AddField(
            model_name="groundtruthscanlabel",
            name="center_name",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="groundtruthscanlabel",
            name="split",
            field=models.CharField(
                choices=[("train", "Training"), ("validation", "Validation"), ("test", "Test")],
                default="",
                max_length=16,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(_fill_from_scans, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="groundtruthscanlabel",
            name="center",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="annotations.center",
            ),
        ),
    ]
