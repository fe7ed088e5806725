"""REST API of the annotations app: ``study`` (centers, scans, imports) and ``reads``."""
