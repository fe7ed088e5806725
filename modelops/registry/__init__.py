"""The model registry: model versions with their evaluation (Table 2), status changes
(candidate, approved, retired), the artifact, and comparisons.
"""
