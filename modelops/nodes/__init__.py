"""Inference nodes: enrolment, node tokens, heartbeats, and rollouts of builds to them."""
