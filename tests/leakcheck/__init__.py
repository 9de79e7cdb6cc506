"""Secret shapes and a leak check of every artifact a real `ci-guard run` writes."""
