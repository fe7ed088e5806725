"""Reading: a neuroradiologist's reads, slice and scan labels, flags, the worklist and the
slice files the viewer loads. Everything here is scoped to the reader.
"""
