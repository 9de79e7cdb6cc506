"""The Docker daemon: where it listens, how it runs, its daemon.json, reloads and restarts.

Which client for which job, chosen on purpose:
- raw HTTP over the daemon socket (api.py, standard library): `/_ping` and `/info`, the
  one reader of each; a restart waits in a tight ping loop, and neither needs the SDK's
  import of requests.
- the docker SDK (sdk.py): streaming pulls (prefetch), prunes (free-disk,
  repair-network): work with progress and error types the SDK already models.
- python-on-whales: only where the docker CLI's own view is the answer and no file
  holds it: buildx builders and their drivers (doctor), and the endpoint of a context
  whose store cannot be read directly (endpoint.py, a fallback). It spawns the CLI and
  loads pydantic, so nothing on `ci-guard run`'s usual path imports it.
"""

REACH_FIELD = "daemon_reach"
"""Where docker/reach.py's facts go in `preflight.finished` (and a run reads them back);
here, so the run can read them without importing the endpoint machinery on its start."""
