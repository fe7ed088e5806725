"""The disagreement loop, model side: a model version's scan scores kept per scan, the scans on
which it disagrees with the ground truth or with a training scan's single read (at its frozen
thresholds, ranked by how confident it is), and a selection sent to a blinded second read."""
