"""Dataset snapshots: a frozen ground-truth version preprocessed into memory-mapped arrays, built
once per content and preprocessing, as a job on the training workers.
"""
