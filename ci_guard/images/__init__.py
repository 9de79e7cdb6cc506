"""The images a project pulls (Dockerfile and compose references) and their pre-fetch."""
