from ci_guard.cli.main import main

main()
