"""Assignment: who reads which scan. Primary reads, blinded cross-reads in a seeded order of
each reader's own, reassigning and unassigning; the reading plan (reads required per split).
"""
