"""The saliency overlay of the viewer: both methods' maps of a whole scan for one class."""
