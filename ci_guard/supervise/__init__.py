"""Running one attempt: the process tree, its output, its deadlines."""
