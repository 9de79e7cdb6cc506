"""Registry mirrors: ranking candidates and putting the healthy ones into daemon.json."""
