"""The blinded Likert study of saliency maps: a coordinator sets it up from a saliency run,
readers score each map on the 4-point scale without knowing its method, and the results compare
the methods per reader (the paper's Mann-Whitney U, and more)."""
