"""Helpers shared by the test suite (manifest validation against Kubernetes and CRD schemas)."""
