"""Lesion masks of scans (``annotations.models.LesionMask``): stored, checked against the scan,
and read back for scoring saliency maps."""
