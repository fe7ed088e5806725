"""Builds: an approved model packaged and signed for the inference nodes."""
