"""Ground truth: the majority vote (2 of 3) frozen into immutable versions, their release to
readers, and the comparison of two versions.
"""
