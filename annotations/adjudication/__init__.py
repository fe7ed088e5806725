"""Adjudication: scans that lack their required reads, slices and scans whose votes split, and
the coordinator's decision on each.
"""
