"""Model operations: datasets, training, evaluation, builds and edge nodes (see DESIGN.md).

``modelops.ml`` is plain Python + NumPy/Keras with no Django import, so the GPU workers and the
edge agent can use it without the web app.
"""
