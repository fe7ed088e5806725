"""Lesion masks: which pixels of a scan each hemorrhage subtype covers.

One file per scan and source in storage (``storage_key``): the packed bit field of
``annotations.phantoms.masks`` (one uint8 per pixel, bit i = SUBTYPES[i], slices from inferior
to superior). Phantom scans get theirs from the generator's answer key; outlines drawn by readers
are a second source of the same shape. Saliency runs score their maps against them.
"""

from django.db import models
from django.db.models import Q

from annotations.models.study import Scan


class MaskSource(models.TextChoices):
    PHANTOM = "phantom", "Phantom answer key"


class LesionMask(models.Model):
    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="lesion_masks")
    source = models.CharField(max_length=16, choices=MaskSource.choices)
    storage_key = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scan", "source"], name="lesion_mask_one_per_source"),
            models.CheckConstraint(
                condition=Q(source__in=MaskSource.values), name="lesion_mask_source_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"Lesion mask of scan {self.scan_id} ({self.source})"
