"""Training runs of the CNN-RNN on a snapshot: configuration, start, progress, cancel,
resume after a lost worker, and the run page.
"""
