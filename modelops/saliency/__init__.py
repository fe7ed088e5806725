"""Saliency maps of a model version: NormGrad and Grad-CAM for a seeded sample of positive
slices (a job on the ``train`` queue), their files, and how well they point at the lesions."""
