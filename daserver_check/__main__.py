from daserver_check.cli import main

raise SystemExit(main())
