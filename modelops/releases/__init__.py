"""A coordinator's release of a model's output on chosen scans to the readers of those scans."""
