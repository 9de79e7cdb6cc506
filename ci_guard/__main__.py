from ci_guard.cli.entry import main

main()
