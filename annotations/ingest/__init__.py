"""Ingest: centers and their split, DICOM import batches (upload, run, cancel), scan import
(grouping, ordering, de-identification, storage) and quarantined series.
"""
